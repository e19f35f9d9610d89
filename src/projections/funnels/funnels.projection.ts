/**
 * The live funnels: for every funnel of a pinned set of definitions, each person's events
 * that matter to it and their counted attempt (matching.ts), kept current as events arrive.
 * Reports are folds over these person results (report.ts), so the live report and the
 * ad-hoc analysis, which runs this same projection over the log in memory, agree by
 * construction.
 *
 * - Order independence: a person's document keeps the set of their relevant events (by
 *   message id) and the result is recomputed from the whole set, so late and out-of-order
 *   events give the same result as in-order ones.
 * - People, not identities: `alias` / `identify` joins (identity/joins.ts) merge the joined
 *   people's event sets, the events before the merge included.
 * - Definitions: a generation of this projection computes the definitions it pinned when it
 *   started (`funnel_pins`), over the whole log. A new or changed definition starts a new
 *   generation (a rebuild, with progress), and the old one keeps serving until the new one
 *   has caught up; see infra/projections/funnel-definitions-watcher.ts.
 */
import type { RecordedEvent } from '../../domain/shared/events';
import {
  primaryIdentity,
  trackingEventTypes,
  type TrackingEvent,
} from '../../domain/tracking/tracking.events';
import { joinedIdentity } from '../identity/joins';
import { People } from '../identity/people';
import { BatchDocuments } from '../batch-documents';
import type { Projection, ProjectionSession } from '../projection';
import {
  compileFunnel,
  isBehavioural,
  type BehaviouralEvent,
  type CompiledFunnel,
  type FunnelVersion,
  type StartRange,
} from './funnel-events';
import { matchPerson, sortFunnelEvents, type FunnelEvent, type PersonResult } from './matching';

export const funnelResultsProjectionName = 'funnels';
export const funnelPeopleCollection = 'funnel_people';
export const funnelIdentitiesCollection = 'funnel_identities';
export const funnelPersonsCollection = 'funnel_persons';
export const funnelPinsCollection = 'funnel_pins';
const pinId = 'definitions';

/** A FunnelEvent as stored: [time, id, steps, exclusions, breakdown, inScope]. */
export type StoredFunnelEvent = readonly [
  time: number,
  id: string,
  steps: number,
  exclusions: number,
  breakdown: string | null,
  inScope: 0 | 1,
];

export type FunnelPersonDocument = {
  /** `${workspaceId}:${funnelId}|${personId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly funnelId: string;
  /** The person's canonical id: their userId once known (as in the contacts read model). */
  readonly personId: string;
  /** In the canonical sequence (matching.ts). */
  readonly events: readonly StoredFunnelEvent[];
  readonly reached: number;
  readonly stepTimes: readonly number[];
  readonly excluded: boolean;
  readonly breakdown: string | null;
  /** Step-1 time of the counted attempt (ms), null when step 1 was never reached. */
  readonly step1At: number | null;
  readonly cohortDays: PersonResult['cohortDays'];
};

export type FunnelPinDocument = {
  readonly _id: string;
  readonly funnels: readonly FunnelVersion[];
};

/** The definitions a new generation pins: the active funnels' latest versions. */
export type FunnelDefinitionsSource = () => Promise<readonly FunnelVersion[]>;

export function funnelPersonDocumentId(
  workspaceId: string,
  funnelId: string,
  personId: string,
): string {
  return `${workspaceId}:${funnelId}|${personId}`;
}

export function toFunnelEvent(stored: StoredFunnelEvent): FunnelEvent {
  const [time, id, steps, exclusions, breakdown, inScope] = stored;
  return { time, id, steps, exclusions, breakdown, inScope: inScope === 1 };
}

function toStored(event: FunnelEvent): StoredFunnelEvent {
  const { time, id, steps, exclusions, breakdown, inScope } = event;
  return [time, id, steps, exclusions, breakdown, inScope ? 1 : 0];
}

/**
 * The funnel-results projection. `range` restricts it to attempts whose step 1 lies in the
 * range (ad-hoc analyses); the live projection has none.
 */
export function createFunnelResultsProjection(
  definitions: FunnelDefinitionsSource,
  options: { readonly name?: string; readonly range?: StartRange } = {},
): Projection {
  let compiled: { key: string; byWorkspace: Map<string, CompiledFunnel[]> } | null = null;
  const compile = (funnels: readonly FunnelVersion[]) => {
    const key = JSON.stringify(funnels.map((f) => [f.workspaceId, f.funnelId, f.version]));
    if (compiled?.key !== key) {
      const byWorkspace = new Map<string, CompiledFunnel[]>();
      for (const funnel of funnels) {
        const list = byWorkspace.get(funnel.workspaceId) ?? [];
        list.push(compileFunnel(funnel, options.range ?? null));
        byWorkspace.set(funnel.workspaceId, list);
      }
      compiled = { key, byWorkspace };
    }
    return compiled.byWorkspace;
  };

  return {
    name: options.name ?? funnelResultsProjectionName,
    version: 1,
    eventTypes: trackingEventTypes,
    collections: [
      funnelPeopleCollection,
      funnelIdentitiesCollection,
      funnelPersonsCollection,
      funnelPinsCollection,
    ],
    indexes: {
      [funnelPeopleCollection]: [
        ['workspaceId', 'funnelId', 'reached'],
        ['workspaceId', 'funnelId', 'personId'],
      ],
    },
    // A generation pinned to no funnel at all can never change: it reads nothing more (a new
    // definition starts a new generation).
    async eventTypesNow(read) {
      const pin = await read<FunnelPinDocument>(funnelPinsCollection, pinId);
      return pin !== null && pin.funnels.length === 0 ? [] : trackingEventTypes;
    },
    async project(events, session) {
      const pin = await pinnedDefinitions(session, definitions);
      const byWorkspace = compile(pin.funnels);
      if (byWorkspace.size === 0) return;
      const batch = new FunnelBatch(session, byWorkspace);
      for (const recorded of events) {
        if (!byWorkspace.has(recorded.metadata.workspaceId)) continue;
        await batch.apply(recorded as RecordedEvent<TrackingEvent>);
      }
      await batch.flush();
    },
  };
}

/** The generation's pinned definitions; pinned from the source at its first batch. */
async function pinnedDefinitions(
  session: ProjectionSession,
  source: FunnelDefinitionsSource,
): Promise<FunnelPinDocument> {
  const stored = await session.get<FunnelPinDocument>(funnelPinsCollection, pinId);
  if (stored !== null) return stored;
  const pin: FunnelPinDocument = {
    _id: pinId,
    funnels: [...(await source())],
  };
  session.put(funnelPinsCollection, pin);
  return pin;
}

/** One batch: people resolved and joined in log order, then each changed result recomputed once. */
class FunnelBatch {
  private readonly people: People;
  private readonly documents: BatchDocuments;
  /** New events per (funnel, person) document id, with the funnel to recompute it by. */
  private readonly added = new Map<
    string,
    { funnel: CompiledFunnel; personId: string; events: FunnelEvent[] }
  >();
  private readonly joins: { workspaceId: string; absorbed: string; kept: string }[] = [];
  /** The person documents to recompute before they are written, with their funnel. */
  private readonly recomputeWith = new Map<string, CompiledFunnel>();

  constructor(
    session: ProjectionSession,
    private readonly byWorkspace: ReadonlyMap<string, readonly CompiledFunnel[]>,
  ) {
    this.documents = new BatchDocuments(session);
    this.people = new People(this.documents, {
      identities: funnelIdentitiesCollection,
      persons: funnelPersonsCollection,
    });
  }

  async apply(recorded: RecordedEvent<TrackingEvent>): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as TrackingEvent;
    const { workspaceId } = recorded.metadata;
    const identity = primaryIdentity(event.data);
    const personId = await this.people.resolve(workspaceId, identity, event.data.userId !== null);
    if (isBehavioural(event)) {
      this.record(workspaceId, personId, event);
      return;
    }
    const joined = joinedIdentity(event);
    if (joined === null) return;
    const join = await this.people.join(workspaceId, personId, joined, event.type);
    if (join !== null) this.joins.push({ workspaceId, ...join });
  }

  async flush(): Promise<void> {
    for (const { workspaceId, absorbed, kept } of this.joins) {
      for (const funnel of this.byWorkspace.get(workspaceId) ?? []) {
        await this.mergeDocuments(funnel, absorbed, kept);
      }
    }
    for (const [id, { funnel, personId, events }] of this.added) {
      const document = (await this.document(id)) ?? emptyDocument(funnel, personId);
      this.documents.set(funnelPeopleCollection, withEvents(document, events));
      this.recomputeWith.set(id, funnel);
    }
    for (const [id, funnel] of this.recomputeWith) {
      const document = await this.document(id);
      if (document !== null)
        this.documents.set(funnelPeopleCollection, withResult(document, funnel));
    }
    this.documents.flush();
  }

  private record(workspaceId: string, personId: string, event: BehaviouralEvent): void {
    const time = Date.parse(event.data.occurredAt);
    for (const funnel of this.byWorkspace.get(workspaceId) ?? []) {
      const read = funnel.read(event, time);
      if (read === null) continue;
      const id = funnelPersonDocumentId(workspaceId, funnel.funnelId, personId);
      const entry = this.added.get(id) ?? { funnel, personId, events: [] };
      entry.events.push(read);
      this.added.set(id, entry);
    }
  }

  /** Moves the absorbed person's events, stored and pending, to the kept person. */
  private async mergeDocuments(
    funnel: CompiledFunnel,
    absorbed: string,
    kept: string,
  ): Promise<void> {
    const { workspaceId, funnelId } = funnel;
    const absorbedId = funnelPersonDocumentId(workspaceId, funnelId, absorbed);
    const keptId = funnelPersonDocumentId(workspaceId, funnelId, kept);
    const pending = this.added.get(absorbedId);
    if (pending !== undefined) {
      this.added.delete(absorbedId);
      const target = this.added.get(keptId) ?? { funnel, personId: kept, events: [] };
      target.events.push(...pending.events);
      this.added.set(keptId, target);
    }
    const stored = await this.document(absorbedId);
    if (stored === null) return;
    const into = (await this.document(keptId)) ?? emptyDocument(funnel, kept);
    this.documents.set(funnelPeopleCollection, withEvents(into, stored.events.map(toFunnelEvent)));
    this.documents.delete(funnelPeopleCollection, absorbedId);
    this.recomputeWith.set(keptId, funnel);
  }

  private document(id: string): Promise<FunnelPersonDocument | null> {
    return this.documents.get<FunnelPersonDocument>(funnelPeopleCollection, id);
  }
}

function emptyDocument(funnel: CompiledFunnel, personId: string): FunnelPersonDocument {
  return {
    _id: funnelPersonDocumentId(funnel.workspaceId, funnel.funnelId, personId),
    workspaceId: funnel.workspaceId,
    funnelId: funnel.funnelId,
    personId,
    events: [],
    reached: 0,
    stepTimes: [],
    excluded: false,
    breakdown: null,
    step1At: null,
    cohortDays: [],
  };
}

/** The document with these events added once each (by message id), in canonical order. */
function withEvents(
  document: FunnelPersonDocument,
  events: readonly FunnelEvent[],
): FunnelPersonDocument {
  const known = new Set(document.events.map(([, id]) => id));
  const fresh = events.filter(({ id }) => {
    if (known.has(id)) return false;
    known.add(id);
    return true;
  });
  if (fresh.length === 0) return document;
  const all = sortFunnelEvents([...document.events.map(toFunnelEvent), ...fresh]);
  return { ...document, events: all.map(toStored) };
}

function withResult(document: FunnelPersonDocument, funnel: CompiledFunnel): FunnelPersonDocument {
  const result = matchPerson(funnel.rules, document.events.map(toFunnelEvent));
  return {
    ...document,
    reached: result.reached,
    stepTimes: result.stepTimes,
    excluded: result.excluded,
    breakdown: result.breakdown,
    step1At: result.reached > 0 ? (result.stepTimes[0] ?? null) : null,
    cohortDays: result.cohortDays,
  };
}

/** The person documents' results, as report.ts reads them. */
export function personResult(document: FunnelPersonDocument): PersonResult {
  const { reached, stepTimes, excluded, breakdown, cohortDays } = document;
  return { reached, stepTimes, excluded, breakdown, cohortDays };
}
