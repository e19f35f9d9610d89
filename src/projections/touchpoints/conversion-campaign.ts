/**
 * Which campaign a conversion counts for in the campaign metrics (ANALYTICS.md, Campaign
 * metrics): the `campaign_id` the conversion names, else the campaign of its last non-direct
 * session that started within the lookback window [at − 30 days, at], both ends included. The
 * session in progress at the conversion counts (it started before it); a session that starts
 * after the conversion does not. When that last non-direct session has no campaign (organic
 * search, say, or a UTM campaign value no campaign matches), the conversion belongs to no
 * campaign, not to an older session's.
 *
 * Where ANALYTICS.md is silent:
 * - with a named `campaign_id`, the channel is that of the same last non-direct session in the
 *   window (the touch that brought the person), or null when there is none; the named
 *   campaign is not checked against that session's campaign;
 * - a session's own `campaignId` (named by its first hit) wins over its UTM campaign value;
 * - sessions may come in any order; the latest `startedAt` wins.
 */
import type { Channel } from './channels';
import { parseInstant, type Session } from './sessions';

export const defaultLookbackMs = 30 * 24 * 60 * 60 * 1000;

export interface ConversionTouch {
  readonly at: string;
  readonly campaignId: string | null;
}

export interface ConversionCampaignOptions {
  /** How far back a session may have started; default 30 days. */
  readonly lookbackMs?: number;
  /** The campaign id a UTM campaign value names, or null; default: the value is the id. */
  readonly matchCampaign?: (utmCampaign: string) => string | null;
}

export type ConversionCampaign =
  | { readonly campaignId: string; readonly channel: Channel; readonly sessionStartedAt: string }
  | { readonly campaignId: string; readonly channel: null };

export function campaignForConversion(
  conversion: ConversionTouch,
  sessions: readonly Session[],
  options: ConversionCampaignOptions = {},
): ConversionCampaign | null {
  const lookbackMs = options.lookbackMs ?? defaultLookbackMs;
  const matchCampaign = options.matchCampaign ?? ((utmCampaign: string) => utmCampaign);
  const session = lastNonDirectSession(sessions, conversion.at, lookbackMs);

  const named = conversion.campaignId;
  if (named !== null && named.trim() !== '') {
    return session === null
      ? { campaignId: named, channel: null }
      : { campaignId: named, channel: session.channel, sessionStartedAt: session.startedAt };
  }
  if (session === null) return null;
  const campaignId =
    session.campaignId ?? (session.campaign === null ? null : matchCampaign(session.campaign));
  if (campaignId === null) return null;
  return { campaignId, channel: session.channel, sessionStartedAt: session.startedAt };
}

/** The non-direct session that started last within [at − lookbackMs, at], or null. */
export function lastNonDirectSession(
  sessions: readonly Session[],
  at: string,
  lookbackMs: number = defaultLookbackMs,
): Session | null {
  if (!(lookbackMs >= 0)) throw new RangeError(`lookbackMs must be >= 0, got ${lookbackMs}`);
  const end = parseInstant(at);
  let last: { session: Session; startedAt: number } | null = null;
  for (const session of sessions) {
    if (session.channel === 'direct') continue;
    const startedAt = parseInstant(session.startedAt);
    if (!isWithinLookback(startedAt, end, lookbackMs)) continue;
    if (last === null || startedAt >= last.startedAt) last = { session, startedAt };
  }
  return last?.session ?? null;
}

/** A session that started at `startedAt` counts for a conversion at `at`: both ends included. */
export function isWithinLookback(
  startedAt: number,
  at: number,
  lookbackMs: number = defaultLookbackMs,
): boolean {
  return startedAt >= at - lookbackMs && startedAt <= at;
}
