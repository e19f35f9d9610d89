/**
 * Touchpoints are sessions, as in Google Analytics (ANALYTICS.md, Event vocabulary). Only
 * page (and screen) hits start or extend a session; `track` events never do, so callers pass
 * page hits only.
 *
 * Where ANALYTICS.md is silent (following GA's own conventions):
 * - a session from UTM parameters takes its source, medium and campaign from the UTM values
 *   (trimmed, letter case as sent; null when that one value is absent);
 * - a session from a referrer has the referrer's host as its source (the raw referrer when it
 *   is no parseable URL) and medium `organic` when its channel is organic search, else
 *   `referral` (GA's words; the social / search distinction lives in `channel`);
 * - a direct session has source `(direct)` and medium `(none)`;
 * - `startedAt` / `endedAt` are the `at` strings of the first and last hits, as given;
 * - no other session boundary than the timeout (GA's midnight and campaign-change cuts are
 *   not in ANALYTICS.md).
 */
import type { Utm } from '../../domain/tracking/tracking.events';
import {
  classifyChannel,
  defaultChannelRules,
  externalReferrer,
  hasUtm,
  utmValue,
  type Channel,
  type ChannelRule,
} from './channels';

export const defaultSessionTimeoutMs = 30 * 60 * 1000;

export interface Hit {
  /** Event time, ISO-8601. */
  readonly at: string;
  readonly utm: Utm | null;
  readonly referrer: string | null;
  readonly pageUrl: string | null;
  /** A campaign id the page call itself names (its `campaign_id`), if any. */
  readonly campaignId?: string | null;
}

/** `C`: the channels its table names (ANALYTICS.md's by default, any with a workspace's). */
export interface Session<C extends string = Channel> {
  readonly startedAt: string;
  /** Time of the session's last hit. */
  readonly endedAt: string;
  readonly channel: C;
  readonly source: string | null;
  readonly medium: string | null;
  /** The UTM campaign value (`utm_campaign`, Segment's `context.campaign.name`). */
  readonly campaign: string | null;
  /** The campaign id the first hit names, which wins over `campaign` when matching. */
  readonly campaignId: string | null;
  readonly hitCount: number;
}

export interface SessionOptions<C extends string = Channel> {
  /** A gap longer than this between two hits starts a new session; default 30 minutes. */
  readonly timeoutMs?: number;
  /** The workspace's channel table; default ANALYTICS.md's. */
  readonly channelRules?: readonly ChannelRule<C>[];
}

export const directSource = '(direct)';
export const directMedium = '(none)';

export function buildSessions(hits: readonly Hit[], options?: SessionOptions): Session[];
export function buildSessions(
  hits: readonly Hit[],
  options: SessionOptions<string>,
): Session<string>[];
export function buildSessions(
  hits: readonly Hit[],
  options: SessionOptions<string> = {},
): Session<string>[] {
  const timeoutMs = options.timeoutMs ?? defaultSessionTimeoutMs;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  const rules = options.channelRules ?? defaultChannelRules;

  const timed = hits.map((hit) => ({ hit, time: parseInstant(hit.at) }));
  timed.sort((a, b) => a.time - b.time);

  const sessions: Session<string>[] = [];
  let current: { session: Session<string>; lastTime: number } | null = null;
  for (const { hit, time } of timed) {
    if (current !== null && !opensSession(current.lastTime, time, timeoutMs)) {
      current.session = {
        ...current.session,
        endedAt: hit.at,
        hitCount: current.session.hitCount + 1,
      };
      current.lastTime = time;
      continue;
    }
    if (current !== null) sessions.push(current.session);
    current = { session: openSession(hit, rules), lastTime: time };
  }
  if (current !== null) sessions.push(current.session);
  return sessions;
}

/**
 * Whether a hit at `time` opens a session after the person's previous hit at `previousTime`
 * (null: there is none). A gap of exactly the timeout stays in the session.
 */
export function opensSession(
  previousTime: number | null,
  time: number,
  timeoutMs: number = defaultSessionTimeoutMs,
): boolean {
  return previousTime === null || time - previousTime > timeoutMs;
}

/** Milliseconds since the epoch of an ISO-8601 instant; throws on anything else. */
export function parseInstant(at: string): number {
  const time = Date.parse(at);
  if (Number.isNaN(time)) throw new RangeError(`not an ISO-8601 instant: "${at}"`);
  return time;
}

function openSession(hit: Hit, rules: readonly ChannelRule<string>[]): Session<string> {
  const channel = classifyChannel(hit, rules);
  return {
    startedAt: hit.at,
    endedAt: hit.at,
    channel,
    ...sourceAndMedium(hit, channel),
    campaignId: namedCampaignId(hit.campaignId),
    hitCount: 1,
  };
}

/** The UTM campaign value of a hit whose UTM parameters are present, else null. */
export function utmCampaign(hit: Pick<Hit, 'utm'>): string | null {
  return hit.utm !== null && hasUtm(hit.utm) ? utmValue(hit.utm.name) : null;
}

function sourceAndMedium(
  hit: Hit,
  channel: string,
): Pick<Session, 'source' | 'medium' | 'campaign'> {
  if (hit.utm !== null && hasUtm(hit.utm)) {
    return {
      source: utmValue(hit.utm.source),
      medium: utmValue(hit.utm.medium),
      campaign: utmValue(hit.utm.name),
    };
  }
  const referrer = externalReferrer(hit.referrer, hit.pageUrl);
  if (referrer !== null) {
    return {
      source: referrer.host ?? referrer.raw,
      medium: channel === 'organic_search' ? 'organic' : 'referral',
      campaign: null,
    };
  }
  return { source: directSource, medium: directMedium, campaign: null };
}

/** The campaign id a hit names, or null when it names none (absent or blank). */
export function namedCampaignId(campaignId: string | null | undefined): string | null {
  return campaignId === undefined || campaignId === null || campaignId.trim() === ''
    ? null
    : campaignId;
}
