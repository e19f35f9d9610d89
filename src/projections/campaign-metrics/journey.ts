/**
 * A person's journey as the campaign metrics see it: their page hits and their conversions,
 * and the campaign × channel each conversion is currently credited to. A batch that adds
 * hits or conversions re-runs the crediting over the whole journey once; the conversions
 * whose credit changed come back as moves, which the projection turns into `$inc` differences. So a late
 * page view that changes a conversion's last touch moves the conversion to the right
 * campaign, and the result does not depend on the order the events arrived in.
 *
 * The journey is keyed by the call's own identity (userId, else anonymousId), not by the
 * contact that `alias` / `identify` join: the contacts read model owns that join.
 */
import { classifyChannel, type Channel } from '../touchpoints/channels';
import { defaultLookbackMs, isWithinLookback } from '../touchpoints/conversion-campaign';
import {
  namedCampaignId,
  opensSession,
  parseInstant,
  utmCampaign,
  type Hit,
} from '../touchpoints/sessions';
import { compareText } from '../ordering';

/** A page call as it reaches the journey. */
export interface PageHit extends Hit {
  readonly messageId: string;
}

/**
 * A page hit reduced to what crediting reads, as a tuple since a journey holds many: its
 * time (ms), its message id (to add it once and order hits of one instant), and what a
 * session it opens would credit: the channel, and the campaign id (the one the call names,
 * else its UTM campaign value, which names its campaign: `campaignForConversion`'s default).
 */
export type JourneyHit = readonly [
  time: number,
  messageId: string,
  channel: Channel,
  campaignId: string | null,
];

/** Where a conversion currently counts. */
export interface Credit {
  readonly campaignId: string;
  readonly channel: string;
}

export interface JourneyConversion {
  /** The order id, else `message:<messageId>`: a conversion is added once. */
  readonly key: string;
  readonly at: string;
  /** The `campaign_id` the conversion names, which wins over the sessions. */
  readonly namedCampaignId: string | null;
  readonly variant: string | null;
  readonly revenueMinor: number;
  readonly currency: string;
  readonly credit: Credit | null;
}

export type JourneyDocument = {
  /** `${workspaceId}|${identity}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly identity: string;
  /** By event time, then message id (so any arrival order gives the same document). */
  readonly hits: readonly JourneyHit[];
  /** By event time, then key. */
  readonly conversions: readonly JourneyConversion[];
};

export interface CreditMove {
  readonly conversion: JourneyConversion;
  readonly from: Credit | null;
  readonly to: Credit | null;
}

/**
 * The channel a conversion counts under when it names its campaign but no non-direct
 * session led to it: Google Analytics' fallback for "no known source".
 */
export const channelWithoutTouch = 'direct';

export function journeyId(workspaceId: string, identity: string): string {
  return `${workspaceId}|${identity}`;
}

export function emptyJourney(workspaceId: string, identity: string): JourneyDocument {
  return {
    _id: journeyId(workspaceId, identity),
    workspaceId,
    identity,
    hits: [],
    conversions: [],
  };
}

export function journeyHit(hit: PageHit): JourneyHit {
  return [
    parseInstant(hit.at),
    hit.messageId,
    classifyChannel(hit),
    namedCampaignId(hit.campaignId) ?? utmCampaign(hit),
  ];
}

/**
 * The journey with its hits as tuples: a journey stored before hits were compact keeps them
 * as page hits, which are converted when it is read.
 */
export function compactJourney(stored: JourneyDocument): JourneyDocument {
  const hits = stored.hits as readonly (JourneyHit | PageHit)[];
  if (hits.every((hit) => Array.isArray(hit))) return stored;
  return {
    ...stored,
    hits: hits.map((hit) => (isJourneyHit(hit) ? hit : journeyHit(hit))).sort(compareHits),
  };
}

/** The journey with one more hit; the same object when that message is already in it. */
export function withHit(journey: JourneyDocument, hit: JourneyHit): JourneyDocument {
  const [, messageId] = hit;
  if (journey.hits.some((existing) => existing[1] === messageId)) return journey;
  // Hits are in order: the new one goes after every hit that sorts before it.
  let index = journey.hits.length;
  while (index > 0 && compareHits(journey.hits[index - 1], hit) > 0) index--;
  const hits = [...journey.hits.slice(0, index), hit, ...journey.hits.slice(index)];
  return { ...journey, hits };
}

/** The journey with one more conversion (not credited yet); the same object when its key is in. */
export function withConversion(
  journey: JourneyDocument,
  conversion: Omit<JourneyConversion, 'credit'>,
): JourneyDocument {
  if (journey.conversions.some((existing) => existing.key === conversion.key)) return journey;
  const conversions = [...journey.conversions, { ...conversion, credit: null }].sort(
    (a, b) => compareInstants(a.at, b.at) || compareText(a.key, b.key),
  );
  return { ...journey, conversions };
}

/**
 * Credits every conversion afresh, by `campaignForConversion`'s rule over the sessions the
 * hits make; the moves are the conversions whose credit changed.
 */
export function recredit(journey: JourneyDocument): {
  journey: JourneyDocument;
  moves: CreditMove[];
} {
  if (journey.conversions.length === 0) return { journey, moves: [] };
  const sessionStarts = openingHits(journey.hits);
  const moves: CreditMove[] = [];
  const conversions = journey.conversions.map((conversion) => {
    const credit = creditOf(conversion, sessionStarts);
    if (sameCredit(conversion.credit, credit)) return conversion;
    moves.push({ conversion, from: conversion.credit, to: credit });
    return { ...conversion, credit };
  });
  return { journey: { ...journey, conversions }, moves };
}

/** The hits that open a session, in order; hits must be in order. */
function openingHits(hits: readonly JourneyHit[]): JourneyHit[] {
  const openers: JourneyHit[] = [];
  let previousTime: number | null = null;
  for (const hit of hits) {
    if (opensSession(previousTime, hit[0])) openers.push(hit);
    previousTime = hit[0];
  }
  return openers;
}

/**
 * The named campaign, else the campaign of the last non-direct session started in the
 * lookback (none when that session has no campaign); the channel is that session's.
 */
function creditOf(
  conversion: JourneyConversion,
  sessionStarts: readonly JourneyHit[],
): Credit | null {
  const at = parseInstant(conversion.at);
  let last: JourneyHit | null = null;
  // The last one in order wins a tie of start times.
  for (let index = sessionStarts.length - 1; index >= 0; index--) {
    const start = sessionStarts[index];
    if (start[0] > at || start[2] === 'direct') continue;
    if (isWithinLookback(start[0], at, defaultLookbackMs)) last = start;
    break;
  }
  const named = conversion.namedCampaignId;
  if (named !== null && named.trim() !== '') {
    return { campaignId: named, channel: last?.[2] ?? channelWithoutTouch };
  }
  if (last === null || last[3] === null) return null;
  return { campaignId: last[3], channel: last[2] };
}

function sameCredit(a: Credit | null, b: Credit | null): boolean {
  if (a === null || b === null) return a === b;
  return a.campaignId === b.campaignId && a.channel === b.channel;
}

export function compareInstants(a: string, b: string): number {
  return parseInstant(a) - parseInstant(b);
}

function compareHits(a: JourneyHit, b: JourneyHit): number {
  return a[0] - b[0] || compareText(a[1], b[1]);
}

function isJourneyHit(hit: JourneyHit | PageHit): hit is JourneyHit {
  return Array.isArray(hit);
}
