/**
 * Multi-touch attribution, kept current as events arrive (ANALYTICS.md, Attribution).
 *
 * - `attribution_persons`: each person's sessions (merged spans, as the contacts read model
 *   keeps them) and conversions (once per order id). People, not identities: `alias` /
 *   `identify` joins merge two people's sessions and conversions (identity/people.ts).
 * - `attribution_journeys`: each conversion's journey, with every rule-based model's shares
 *   of it (so one conversion can be explained), and each null journey (journeys.ts). A
 *   person's journeys are recomputed from the whole person whenever they change, so late
 *   and out-of-order events give what in-order ones would.
 * - Sums, kept by adding what a journey brings and taking away what it brought before, one
 *   document per bucket (UTC day, and UTC hour) so a report reads a few documents by id:
 *   `attribution_credits` per workspace × bucket × grouping, every key's fractional
 *   conversions and revenue under every rule-based model; `attribution_totals` per workspace
 *   × bucket, conversions, revenue and the unattributed ones; `attribution_paths` and
 *   `attribution_null_paths` per workspace × hour × grouping, the converting and the null
 *   journeys by path (the data-driven models' input). A conversion counts at its time; a null journey when it expires.
 * - `attribution_journey_hours`: the journeys of each hour, for ranges that cut an hour.
 * - `attribution_workspaces`: a version per workspace, bumped by each batch that changes its
 *   sums, so a solved data-driven model is cached until its inputs move.
 *
 * Settings (lookback, half-life): the live projection computes each workspace with the
 * settings its generation pinned at its first batch (`attribution_pins`, read from the
 * workspaces' configured settings, the defaults for a workspace without any); changed
 * settings start a new generation (infra/projections/attribution-settings.ts), as changed
 * funnel definitions do. An analysis runs this same projection over the log in memory with
 * one setting for every workspace, and for a what-if with another channel table.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  primaryIdentity,
  trackingEventTypes,
  type TrackingEvent,
} from '../../domain/tracking/tracking.events';
import { BatchDocuments } from '../batch-documents';
import { mergeSpans, pageViewSpan, type SessionSpan } from '../contacts/contact-sessions';
import { joinedIdentity } from '../identity/joins';
import { People } from '../identity/people';
import type { Projection, ProjectionSession } from '../projection';
import type { Document, ReadCollection } from '../read-store';
import { defaultChannelRules, type ChannelRule } from '../touchpoints/channels';
import { parseInstant } from '../touchpoints/sessions';
import { readConversion } from '../touchpoints/vocabulary';
import {
  checkSettings,
  defaultAttributionSettings,
  personJourneys,
  ruleBasedModelNames,
  type AttributionSettings,
  type ModelShares,
  type PersonConversion,
} from './journeys';
import { byCampaign, byChannel, bySourceMedium, type CreditKey, type Touch } from './models';
import { collapseRepeats } from './paths';
import { compareText } from '../ordering';

export const attributionProjectionName = 'attribution';
export const attributionPersonsCollection = 'attribution_persons';
export const attributionIdentitiesCollection = 'attribution_identities';
export const attributionPeopleCollection = 'attribution_people';
export const attributionJourneysCollection = 'attribution_journeys';
export const attributionCreditsCollection = 'attribution_credits';
export const attributionPathsCollection = 'attribution_paths';
export const attributionNullPathsCollection = 'attribution_null_paths';
export const attributionTotalsCollection = 'attribution_totals';
export const attributionWorkspacesCollection = 'attribution_workspaces';
export const attributionJourneyHoursCollection = 'attribution_journey_hours';
export const attributionPinsCollection = 'attribution_pins';
const pinId = 'settings';

/** What touches are credited under. */
export const groupings = ['channel', 'campaign', 'source_medium'] as const;
export type Grouping = (typeof groupings)[number];
export const groupingKeys: Readonly<Record<Grouping, CreditKey>> = {
  channel: byChannel,
  campaign: byCampaign,
  source_medium: bySourceMedium,
};

/** Revenue per currency (ISO-4217 code → minor units, fractional once shared out). */
export type RevenueByCurrency = Readonly<Record<string, number>>;

export type AttributionPersonDocument = {
  /** `${workspaceId}:${personId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly personId: string;
  /** Sorted by start; channels by the projection's table. */
  readonly sessions: readonly SessionSpan<string>[];
  readonly conversions: readonly PersonConversion[];
  /** Ids of the person's journey documents as last computed. */
  readonly journeys: readonly string[];
};

export type AttributionJourneyDocument = {
  readonly _id: string;
  readonly workspaceId: string;
  readonly personId: string;
  readonly kind: 'conversion' | 'null';
  /** The order id, else the message id; null for a null journey. */
  readonly conversionId: string | null;
  readonly orderId: string | null;
  readonly messageId: string | null;
  /** Conversion time, or when a null journey expires (ms). */
  readonly at: number;
  readonly revenueMinor: number;
  readonly currency: string | null;
  readonly touches: readonly Touch[];
  /** Every rule-based model's shares of the touches; null for a null journey. */
  readonly shares: ModelShares | null;
};

/** Per model: the key's fractional conversions and revenue. */
export type ModelCredit = { readonly conversions: number; readonly revenue: RevenueByCurrency };

/**
 * A span of time the sums are kept by: a UTC day (`YYYY-MM-DD`), or an hour
 * (`YYYY-MM-DDTHH`) for what a range cutting a day reads.
 */
export type Bucket = string;

export function utcDay(time: number): Bucket {
  return new Date(time).toISOString().slice(0, 10);
}

export function utcHour(time: number): Bucket {
  return new Date(time).toISOString().slice(0, 13);
}

/** One key's credit under every rule-based model. */
export type CreditEntry = {
  readonly key: string;
  readonly models: Readonly<Record<string, ModelCredit>>;
};

/** The credits of one grouping's keys in one bucket: read in one piece by a report. */
export type AttributionCreditDocument = {
  /** `${workspaceId}|${bucket}|${grouping}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly bucket: Bucket;
  readonly grouping: Grouping;
  /** By key. */
  readonly entries: readonly CreditEntry[];
};

/** The converting journeys that took one path (repeats collapsed). */
export type PathEntry = {
  /** The path as JSON: the entry's key. */
  readonly key: string;
  readonly path: readonly string[];
  readonly conversions: number;
  readonly revenue: RevenueByCurrency;
  /** Touches of the converting journeys, before collapsing repeats. */
  readonly touches: number;
  /** Σ (conversion − first touch) over the converting journeys, ms. */
  readonly timeToConversionMs: number;
};

/** The paths of one grouping's converting journeys in one hour. */
export type AttributionPathDocument = {
  /** `${workspaceId}|${hour}|${grouping}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly bucket: Bucket;
  readonly grouping: Grouping;
  /** By key. */
  readonly entries: readonly PathEntry[];
};

/** The paths of one grouping's null journeys that expire in one hour. */
export type AttributionNullPathDocument = Omit<AttributionPathDocument, 'entries'> & {
  /** By key: the path as JSON. */
  readonly entries: readonly { readonly key: string; readonly nulls: number }[];
};

export type AttributionTotalsDocument = {
  /** `${workspaceId}|${bucket}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly bucket: Bucket;
  readonly conversions: number;
  readonly revenue: RevenueByCurrency;
  /** Conversions without a touch in their window. */
  readonly unattributed: { readonly conversions: number; readonly revenue: RevenueByCurrency };
  readonly nulls: number;
};

/**
 * The journeys of one kind in one hour: what a range that cuts an hour reads, by id, rather
 * than scanning every journey.
 */
export type AttributionJourneyHourDocument = {
  /** `${workspaceId}|${hour}|${kind}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly journeys: readonly string[];
};

export function creditsId(workspaceId: string, bucket: Bucket, grouping: Grouping): string {
  return `${workspaceId}|${bucket}|${grouping}`;
}

export const pathsId = creditsId;

export function totalsId(workspaceId: string, bucket: Bucket): string {
  return `${workspaceId}|${bucket}`;
}

export function journeyHourId(
  workspaceId: string,
  hour: Bucket,
  kind: AttributionJourneyDocument['kind'],
): string {
  return `${workspaceId}|${hour}|${kind}`;
}

export type AttributionWorkspaceDocument = {
  readonly _id: string;
  readonly workspaceId: string;
  /** Bumped by every batch that changes the workspace's sums. */
  readonly version: number;
};

/** The settings a generation computes with, pinned at its first batch. */
export type AttributionPinDocument = {
  readonly _id: string;
  /** By workspace id; a workspace not listed is computed with the defaults. */
  readonly workspaces: readonly ({ readonly workspaceId: string } & AttributionSettings)[];
};

/** The settings a new generation pins: each configured workspace's, by workspace id. */
export type AttributionSettingsSource = () => Promise<
  Readonly<Record<string, AttributionSettings>>
>;

export interface AttributionProjectionOptions {
  readonly name?: string;
  /** One setting for every workspace (analyses); default: the defaults. */
  readonly settings?: AttributionSettings;
  /** Per-workspace settings, pinned by each generation at its first batch (the live one). */
  readonly settingsSource?: AttributionSettingsSource;
  /** The channel table for every workspace (what-if analyses); default ANALYTICS.md's. */
  readonly channelRules?: readonly ChannelRule<string>[];
}

export function createAttributionProjection(
  options: AttributionProjectionOptions = {},
): Projection {
  const settings = options.settings ?? defaultAttributionSettings;
  checkSettings(settings);
  const { settingsSource } = options;
  const channelRules = options.channelRules ?? defaultChannelRules;
  return {
    name: options.name ?? attributionProjectionName,
    version: 1,
    eventTypes: trackingEventTypes,
    // A batch rewrites the hourly sums and null paths it touches, hundreds of documents
    // whether it holds 200 events or 2,000: larger batches cost far less per event.
    minBatchSize: 2_000,
    collections: [
      attributionPersonsCollection,
      attributionIdentitiesCollection,
      attributionPeopleCollection,
      attributionJourneysCollection,
      attributionCreditsCollection,
      attributionPathsCollection,
      attributionNullPathsCollection,
      attributionTotalsCollection,
      attributionWorkspacesCollection,
      attributionJourneyHoursCollection,
      attributionPinsCollection,
    ],
    indexes: {
      [attributionJourneysCollection]: [['workspaceId', 'conversionId']],
    },
    async project(events, session) {
      const settingsFor =
        settingsSource === undefined
          ? () => settings
          : pinnedSettingsOf(await pinnedSettings(session, settingsSource));
      const batch = new AttributionBatch(new BatchDocuments(session), settingsFor, channelRules);
      for (const recorded of events) await batch.apply(recorded as RecordedEvent<TrackingEvent>);
      await batch.flush();
    },
  };
}

/** The generation's pinned settings; pinned from the source at its first batch. */
async function pinnedSettings(
  session: ProjectionSession,
  source: AttributionSettingsSource,
): Promise<AttributionPinDocument> {
  const stored = await session.get<AttributionPinDocument>(attributionPinsCollection, pinId);
  if (stored !== null) return stored;
  const configured = await source();
  const pin: AttributionPinDocument = {
    _id: pinId,
    workspaces: Object.keys(configured)
      .sort()
      .map((workspaceId) => {
        const { lookbackMs, halfLifeMs } = configured[workspaceId];
        checkSettings({ lookbackMs, halfLifeMs });
        return { workspaceId, lookbackMs, halfLifeMs };
      }),
  };
  session.put(attributionPinsCollection, pin);
  return pin;
}

function pinnedSettingsOf(
  pin: AttributionPinDocument,
): (workspaceId: string) => AttributionSettings {
  const byWorkspace = new Map(
    pin.workspaces.map(({ workspaceId, lookbackMs, halfLifeMs }) => [
      workspaceId,
      { lookbackMs, halfLifeMs },
    ]),
  );
  return (workspaceId) => byWorkspace.get(workspaceId) ?? defaultAttributionSettings;
}

/**
 * The settings a workspace's attribution read model was computed with: its generation's pin
 * (the defaults when the pin does not list it), or null before the generation has pinned
 * (it has applied no event yet, so it holds nothing for any setting).
 */
export async function projectedSettings(
  collection: (logical: string) => ReadCollection<AttributionPinDocument>,
  workspaceId: string,
): Promise<AttributionSettings | null> {
  const pin = await collection(attributionPinsCollection).findOne({ _id: pinId });
  return pin === null ? null : pinnedSettingsOf(pin)(workspaceId);
}

interface PendingPerson {
  readonly workspaceId: string;
  readonly personId: string;
  sessions: SessionSpan<string>[];
  conversions: PersonConversion[];
}

/** One batch: people resolved and joined in log order, then each changed person recomputed once. */
class AttributionBatch {
  private readonly people: People;
  private readonly sums: Sums;
  /** New sessions and conversions per person document id. */
  private readonly added = new Map<string, PendingPerson>();
  /** Person documents to recompute. */
  private readonly dirty = new Set<string>();
  /** Journey documents of people absorbed by a join, to be taken away. */
  private readonly retired: string[] = [];
  /** Journey ids added to (true) or taken from (false) each hour's list. */
  private readonly hourLists = new Map<
    string,
    { workspaceId: string; ids: Map<string, boolean> }
  >();

  constructor(
    private readonly documents: BatchDocuments,
    private readonly settingsFor: (workspaceId: string) => AttributionSettings,
    private readonly channelRules: readonly ChannelRule<string>[],
  ) {
    this.people = new People(documents, {
      identities: attributionIdentitiesCollection,
      persons: attributionPeopleCollection,
    });
    this.sums = new Sums(documents);
  }

  async apply(recorded: RecordedEvent<TrackingEvent>): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as TrackingEvent;
    const joined = joinedIdentity(event);
    const conversion = event.type === 'EventTracked' ? readConversion(event.data) : null;
    if (event.type === 'EventTracked' && conversion === null) return;
    if ((event.type === 'ContactIdentified' || event.type === 'ContactAliased') && !joined) return;

    const { workspaceId } = recorded.metadata;
    const identity = primaryIdentity(event.data);
    const personId = await this.people.resolve(workspaceId, identity, event.data.userId !== null);
    if (event.type === 'PageViewed') {
      const span = pageViewSpan(event.data, this.channelRules);
      this.pending(workspaceId, personId).sessions.push(span);
    } else if (conversion !== null) {
      const { messageId, occurredAt } = event.data;
      this.pending(workspaceId, personId).conversions.push({
        key: conversion.orderId === null ? `message:${messageId}` : `order:${conversion.orderId}`,
        orderId: conversion.orderId,
        messageId,
        at: parseInstant(occurredAt),
        revenueMinor: conversion.revenueMinor,
        currency: conversion.currency,
      });
    } else if (joined !== null) {
      const join = await this.people.join(workspaceId, personId, joined, event.type);
      if (join !== null) await this.merge(workspaceId, join.absorbed, join.kept);
    }
  }

  async flush(): Promise<void> {
    for (const [id, pending] of this.added) {
      const stored = await this.person(id);
      const person = stored ?? emptyPerson(pending.workspaceId, pending.personId);
      this.documents.set(attributionPersonsCollection, withAdded(person, pending));
      this.dirty.add(id);
    }
    for (const id of this.retired) await this.replaceJourney(id, null);
    for (const id of this.dirty) await this.recompute(id);
    await this.flushHourLists();
    await this.sums.flush();
    this.documents.flush();
  }

  private pending(workspaceId: string, personId: string): PendingPerson {
    const id = personDocumentId(workspaceId, personId);
    let pending = this.added.get(id);
    if (pending === undefined) {
      pending = { workspaceId, personId, sessions: [], conversions: [] };
      this.added.set(id, pending);
    }
    return pending;
  }

  /** The absorbed person's sessions and conversions, stored and pending, go to the kept one. */
  private async merge(workspaceId: string, absorbed: string, kept: string): Promise<void> {
    const absorbedId = personDocumentId(workspaceId, absorbed);
    const pending = this.added.get(absorbedId);
    if (pending !== undefined) {
      this.added.delete(absorbedId);
      const target = this.pending(workspaceId, kept);
      target.sessions.push(...pending.sessions);
      target.conversions.push(...pending.conversions);
    }
    const stored = await this.person(absorbedId);
    if (stored === null) return;
    const target = this.pending(workspaceId, kept);
    target.sessions.push(...stored.sessions);
    target.conversions.push(...stored.conversions);
    this.retired.push(...stored.journeys);
    this.documents.delete(attributionPersonsCollection, absorbedId);
    this.dirty.delete(absorbedId);
  }

  private async recompute(id: string): Promise<void> {
    const person = await this.person(id);
    if (person === null) return;
    const next = journeyDocuments(person, this.settingsFor(person.workspaceId));
    const nextIds = new Set(next.map(({ _id }) => _id));
    for (const old of person.journeys) if (!nextIds.has(old)) await this.replaceJourney(old, null);
    for (const journey of next) await this.replaceJourney(journey._id, journey);
    const journeys = next.map(({ _id }) => _id);
    if (!sameList(journeys, person.journeys)) {
      this.documents.set(attributionPersonsCollection, { ...person, journeys });
    }
  }

  /** Swaps a journey document, taking away what the old one added to the sums. */
  private async replaceJourney(id: string, next: AttributionJourneyDocument | null): Promise<void> {
    const old = await this.documents.get<AttributionJourneyDocument>(
      attributionJourneysCollection,
      id,
    );
    if (old !== null && next !== null && sameJourney(old, next)) return;
    if (old !== null) {
      this.sums.add(old, -1);
      this.listInHour(old, false);
    }
    if (next !== null) {
      this.listInHour(next, true);
      this.sums.add(next, 1);
      this.documents.set(attributionJourneysCollection, next);
    } else if (old !== null) {
      this.documents.delete(attributionJourneysCollection, id);
    }
  }

  /**
   * Conversions only: null journeys count by the hour they expire in, whole, so no range
   * reads them one by one (and a person's pending null journey, which moves with each of
   * their sessions, leaves no list to rewrite).
   */
  private listInHour(journey: AttributionJourneyDocument, listed: boolean): void {
    const { workspaceId, at, kind, _id } = journey;
    if (kind !== 'conversion') return;
    const id = journeyHourId(workspaceId, utcHour(at), kind);
    let list = this.hourLists.get(id);
    if (list === undefined) {
      list = { workspaceId, ids: new Map() };
      this.hourLists.set(id, list);
    }
    list.ids.set(_id, listed);
  }

  private async flushHourLists(): Promise<void> {
    for (const [id, { workspaceId, ids }] of this.hourLists) {
      const stored = await this.documents.get<AttributionJourneyHourDocument>(
        attributionJourneyHoursCollection,
        id,
      );
      const journeys = new Set(stored?.journeys ?? []);
      for (const [journey, listed] of ids) {
        if (listed) journeys.add(journey);
        else journeys.delete(journey);
      }
      if (journeys.size === 0) {
        if (stored !== null) this.documents.delete(attributionJourneyHoursCollection, id);
      } else {
        this.documents.set(attributionJourneyHoursCollection, {
          _id: id,
          workspaceId,
          journeys: [...journeys].sort(),
        });
      }
    }
  }

  private person(id: string): Promise<AttributionPersonDocument | null> {
    return this.documents.get<AttributionPersonDocument>(attributionPersonsCollection, id);
  }
}

function personDocumentId(workspaceId: string, personId: string): string {
  return `${workspaceId}:${personId}`;
}

function emptyPerson(workspaceId: string, personId: string): AttributionPersonDocument {
  return {
    _id: personDocumentId(workspaceId, personId),
    workspaceId,
    personId,
    sessions: [],
    conversions: [],
    journeys: [],
  };
}

/** The person with these sessions merged in and these conversions added once per key. */
function withAdded(
  person: AttributionPersonDocument,
  added: PendingPerson,
): AttributionPersonDocument {
  const sessions =
    added.sessions.length === 0 ? person.sessions : mergeSpans(person.sessions, added.sessions);
  const conversions = [...person.conversions];
  const keys = new Set(conversions.map(({ key }) => key));
  for (const conversion of added.conversions) {
    // A repeated order id is the same conversion: the first one seen is kept.
    if (keys.has(conversion.key)) continue;
    keys.add(conversion.key);
    conversions.push(conversion);
  }
  return { ...person, sessions, conversions };
}

function touchOf(span: SessionSpan<string>): Touch {
  const { touch } = span;
  return {
    at: parseInstant(touch.at),
    channel: touch.channel,
    campaign: touch.campaignId ?? touch.campaign,
    source: touch.source,
    medium: touch.medium,
  };
}

export function journeyDocuments(
  person: AttributionPersonDocument,
  settings: AttributionSettings,
): AttributionJourneyDocument[] {
  const { workspaceId, personId } = person;
  const touches = person.sessions.map(touchOf);
  const journeys = personJourneys(touches, person.conversions, settings);
  const base = `${workspaceId}:${personId}`;
  return [
    ...journeys.conversions.map(
      ({ conversion, touches: inWindow, shares }): AttributionJourneyDocument => ({
        _id: `${base}|c|${conversion.key}`,
        workspaceId,
        personId,
        kind: 'conversion',
        conversionId: conversion.orderId ?? conversion.messageId,
        orderId: conversion.orderId,
        messageId: conversion.messageId,
        at: conversion.at,
        revenueMinor: conversion.revenueMinor,
        currency: conversion.currency,
        touches: inWindow,
        shares,
      }),
    ),
    ...journeys.nulls.map(
      ({ touches: nullTouches, expiresAt }): AttributionJourneyDocument => ({
        _id: `${base}|n|${nullTouches[0].at}`,
        workspaceId,
        personId,
        kind: 'null',
        conversionId: null,
        orderId: null,
        messageId: null,
        at: expiresAt,
        revenueMinor: 0,
        currency: null,
        touches: nullTouches,
        shares: null,
      }),
    ),
  ];
}

function sameJourney(a: AttributionJourneyDocument, b: AttributionJourneyDocument): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** The path of a journey's touches under a grouping, repeats collapsed. */
export function groupedPath(touches: readonly Touch[], grouping: Grouping): string[] {
  return collapseRepeats(touches.map(groupingKeys[grouping]));
}

/**
 * What journeys add to (or, with sign −1, take away from) the sums, gathered over a batch
 * and written once per document: numbers added at dotted paths of the document itself or of
 * one of its keyed entries.
 */
class Sums {
  private readonly pending = new Map<string, PendingSums>();
  private readonly workspaces = new Set<string>();

  constructor(private readonly documents: BatchDocuments) {}

  add(journey: AttributionJourneyDocument, sign: 1 | -1): void {
    const { workspaceId, at, touches } = journey;
    const day = utcDay(at);
    this.workspaces.add(workspaceId);
    const buckets = [day, utcHour(at)];
    const totals = buckets.map(
      (bucket) =>
        this.document(attributionTotalsCollection, {
          _id: totalsId(workspaceId, bucket),
          workspaceId,
          bucket,
        }).top,
    );
    // Paths by hour, and null journeys apart: a day's paths of one grouping run to hundreds of
    // kilobytes, and a person's pending null journey moves with each of their sessions, so
    // the documents it moves between must stay small.
    const hour = buckets[1];
    const base = (grouping: Grouping) => ({
      _id: pathsId(workspaceId, hour, grouping),
      workspaceId,
      bucket: hour,
      grouping,
    });
    if (journey.kind === 'null') {
      for (const top of totals) bump(top, 'nulls', sign);
      for (const grouping of groupings) {
        const key = JSON.stringify(groupedPath(touches, grouping));
        bump(this.entry(attributionNullPathsCollection, base(grouping), key, {}), 'nulls', sign);
      }
      return;
    }
    const pathEntry = (grouping: Grouping, path: readonly string[]) =>
      this.entry(attributionPathsCollection, base(grouping), JSON.stringify(path), { path });
    const revenue = journey.revenueMinor * sign;
    const currency = journey.currency ?? 'USD';
    for (const top of totals) {
      bump(top, 'conversions', sign);
      bump(top, `revenue.${currency}`, revenue);
      if (touches.length === 0) {
        bump(top, 'unattributed.conversions', sign);
        bump(top, `unattributed.revenue.${currency}`, revenue);
      }
    }
    if (touches.length === 0 || journey.shares === null) return;
    const { shares } = journey;
    for (const grouping of groupings) {
      const keyOf = groupingKeys[grouping];
      for (const bucket of buckets) {
        const base = {
          _id: creditsId(workspaceId, bucket, grouping),
          workspaceId,
          bucket,
          grouping,
        };
        touches.forEach((touch, i) => {
          const entry = this.entry(attributionCreditsCollection, base, keyOf(touch), {});
          for (const model of ruleBasedModelNames) {
            const share = shares[model][i];
            if (share === 0) continue;
            bump(entry, `models.${model}.conversions`, share * sign);
            bump(entry, `models.${model}.revenue.${currency}`, share * revenue);
          }
        });
      }
      const entry = pathEntry(grouping, groupedPath(touches, grouping));
      bump(entry, 'conversions', sign);
      bump(entry, `revenue.${currency}`, revenue);
      bump(entry, 'touches', touches.length * sign);
      bump(entry, 'timeToConversionMs', (at - touches[0].at) * sign);
    }
  }

  private document(collection: string, base: Document): PendingSums {
    const key = `${collection}\u0000${base._id}`;
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = { collection, base, top: new Map(), entries: new Map() };
      this.pending.set(key, pending);
    }
    return pending;
  }

  private entry(
    collection: string,
    base: Document,
    key: string,
    fields: Record<string, unknown>,
  ): Map<string, number> {
    const { entries } = this.document(collection, base);
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = { fields, deltas: new Map() };
      entries.set(key, entry);
    }
    return entry.deltas;
  }

  /**
   * Applies the gathered sums (an entry, or a document, whose numbers all come back to 0 is
   * removed) and bumps the version of each workspace whose sums it touched.
   */
  async flush(): Promise<void> {
    for (const { collection, base, top, entries } of this.pending.values()) {
      const stored = await this.documents.get<Document>(collection, base._id);
      // Only what changes is copied: the entries no journey touched are shared as they are.
      const { entries: storedEntries, ...rest } = stored ?? { ...base, ...emptySums(collection) };
      const next: Document = { ...structuredClone(rest), entries: storedEntries };
      if (storedEntries === undefined) delete next.entries;
      for (const [path, amount] of top) addAt(next, path, amount);
      if (entries.size > 0) next.entries = withEntries(collection, storedEntries, entries);
      const noEntries = ((next.entries as unknown[] | undefined)?.length ?? 0) === 0;
      if (settleAndCheckEmpty(next) && noEntries) this.documents.delete(collection, base._id);
      else this.documents.set(collection, next);
    }
    for (const workspaceId of this.workspaces) {
      const stored = await this.documents.get<AttributionWorkspaceDocument>(
        attributionWorkspacesCollection,
        workspaceId,
      );
      this.documents.set(attributionWorkspacesCollection, {
        _id: workspaceId,
        workspaceId,
        version: (stored?.version ?? 0) + 1,
      });
    }
    this.pending.clear();
    this.workspaces.clear();
  }
}

interface PendingSums {
  readonly collection: string;
  readonly base: Document;
  /** Additions at paths of the document itself. */
  readonly top: Map<string, number>;
  /** Additions at paths of keyed entries, with the fields a new entry starts with. */
  readonly entries: Map<string, { fields: Record<string, unknown>; deltas: Map<string, number> }>;
}

/** The entries with the additions made; those that come back to nothing are dropped. */
function withEntries(
  collection: string,
  stored: unknown,
  additions: PendingSums['entries'],
): Record<string, unknown>[] {
  const byKey = new Map(
    ((stored ?? []) as Record<string, unknown>[]).map((entry) => [entry.key as string, entry]),
  );
  for (const [key, { fields, deltas }] of additions) {
    const stored = byKey.get(key);
    const entry = stored ? structuredClone(stored) : { key, ...fields, ...emptyEntry(collection) };
    for (const [path, amount] of deltas) addAt(entry, path, amount);
    if (settleAndCheckEmpty(entry)) byKey.delete(key);
    else byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => compareText(a.key as string, b.key as string));
}

function bump(deltas: Map<string, number>, path: string, amount: number): void {
  deltas.set(path, (deltas.get(path) ?? 0) + amount);
}

function emptySums(collection: string): Record<string, unknown> {
  return collection === attributionTotalsCollection
    ? { conversions: 0, revenue: {}, unattributed: { conversions: 0, revenue: {} }, nulls: 0 }
    : { entries: [] };
}

function emptyEntry(collection: string): Record<string, unknown> {
  switch (collection) {
    case attributionPathsCollection:
      return { conversions: 0, revenue: {}, touches: 0, timeToConversionMs: 0 };
    case attributionNullPathsCollection:
      return { nulls: 0 };
    default:
      return { models: {} };
  }
}

/** Adds `amount` at a dotted path, creating the objects (and a 0) on the way. */
function addAt(document: Record<string, unknown>, path: string, amount: number): void {
  const segments = path.split('.');
  let container = document;
  for (const segment of segments.slice(0, -1)) {
    const next = container[segment];
    if (typeof next !== 'object' || next === null) container[segment] = {};
    container = container[segment] as Record<string, unknown>;
  }
  const last = segments[segments.length - 1];
  container[last] = ((container[last] as number | undefined) ?? 0) + amount;
}

/** Below this a sum is float residue of adding and taking away the same shares. */
const residue = 1e-9;

/**
 * Settles the document's sums: float residue becomes 0, and the keyed maps (`models`, and
 * revenue by currency) drop their entries that came back to nothing, so a document's shape
 * does not depend on what was added and taken away before. True when every number is then 0
 * (nothing is counted there any more).
 */
function settleAndCheckEmpty(value: Record<string, unknown>, keyed = false): boolean {
  let empty = true;
  for (const [key, child] of Object.entries(value)) {
    if (key === '_id') continue;
    let childEmpty: boolean;
    if (typeof child === 'number') {
      childEmpty = Math.abs(child) < residue;
      if (childEmpty) value[key] = 0;
    } else if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
      const map = child as Record<string, unknown>;
      childEmpty = settleAndCheckEmpty(map, key === 'models' || key === 'revenue');
    } else {
      continue;
    }
    if (!childEmpty) empty = false;
    else if (keyed) delete value[key];
  }
  return empty;
}
