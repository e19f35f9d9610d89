/**
 * A person's journey as the campaign metrics see it: their page hits and their conversions,
 * and the campaign × channel each conversion is currently credited to. Every new hit or
 * conversion re-runs the crediting over the whole journey; the conversions whose credit
 * changed come back as moves, which the projection turns into `$inc` differences. So a late
 * page view that changes a conversion's last touch moves the conversion to the right
 * campaign, and the result does not depend on the order the events arrived in.
 *
 * The journey is keyed by the call's own identity (userId, else anonymousId), not by the
 * contact that `alias` / `identify` join: the contacts read model owns that join.
 */
import { campaignForConversion } from '../touchpoints/conversion-campaign';
import { buildSessions, parseInstant, type Hit } from '../touchpoints/sessions';

export interface JourneyHit extends Hit {
  readonly messageId: string;
  readonly campaignId: string | null;
}

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

/** The journey with one more hit; the same object when that message is already in it. */
export function withHit(journey: JourneyDocument, hit: JourneyHit): JourneyDocument {
  if (journey.hits.some((existing) => existing.messageId === hit.messageId)) return journey;
  const hits = [...journey.hits, hit].sort(
    (a, b) => compareInstants(a.at, b.at) || compareText(a.messageId, b.messageId),
  );
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

/** Credits every conversion afresh; the moves are the conversions whose credit changed. */
export function recredit(journey: JourneyDocument): {
  journey: JourneyDocument;
  moves: CreditMove[];
} {
  if (journey.conversions.length === 0) return { journey, moves: [] };
  const sessions = buildSessions(journey.hits);
  const moves: CreditMove[] = [];
  const conversions = journey.conversions.map((conversion) => {
    const found = campaignForConversion(
      { at: conversion.at, campaignId: conversion.namedCampaignId },
      sessions,
    );
    const credit: Credit | null = found && {
      campaignId: found.campaignId,
      channel: found.channel ?? channelWithoutTouch,
    };
    if (sameCredit(conversion.credit, credit)) return conversion;
    moves.push({ conversion, from: conversion.credit, to: credit });
    return { ...conversion, credit };
  });
  return { journey: { ...journey, conversions }, moves };
}

function sameCredit(a: Credit | null, b: Credit | null): boolean {
  if (a === null || b === null) return a === b;
  return a.campaignId === b.campaignId && a.channel === b.channel;
}

export function compareInstants(a: string, b: string): number {
  return parseInstant(a) - parseInstant(b);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
