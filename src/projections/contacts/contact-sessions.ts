/**
 * A contact's sessions kept incrementally, so that first and last touch come out the same
 * whatever order the page hits (and the profiles they belong to) arrive in.
 *
 * A session is a maximal run of hits whose gaps are at most the timeout, so it is known by
 * its first hit, its last hit's time and its hit count: a new hit, or another profile's
 * sessions, join a session exactly when they fall within the timeout of its span. Merging
 * spans this way gives the sessions `buildSessions` would give over all the hits at once.
 * Hits at the same instant are ordered by message id, so the session's first hit (and with
 * it the channel) never depends on arrival order.
 */
import type { JsonValue, PageViewed } from '../../domain/tracking/tracking.events';
import type { Channel, ChannelRule } from '../touchpoints/channels';
import { buildSessions, defaultSessionTimeoutMs, parseInstant } from '../touchpoints/sessions';

/**
 * Where a session came from: its first hit's channel, source, medium and campaign. `C`: the
 * channels its table names (ANALYTICS.md's by default, any with a workspace's).
 */
export interface Touch<C extends string = Channel> {
  readonly channel: C;
  readonly source: string | null;
  readonly medium: string | null;
  /** The UTM campaign value. */
  readonly campaign: string | null;
  /** The `campaign_id` the first hit names, if any. */
  readonly campaignId: string | null;
  /** Event time of the session's first hit. */
  readonly at: string;
}

export interface SessionSpan<C extends string = Channel> {
  readonly touch: Touch<C>;
  /** Message id of the first hit: breaks ties between hits at the same instant. */
  readonly firstHitId: string;
  /** Event time of the last hit. */
  readonly endedAt: string;
  readonly hitCount: number;
}

/** The one-hit session of a page view, its channel by `channelRules` (default ANALYTICS.md's). */
export function pageViewSpan(data: PageViewed['data']): SessionSpan;
export function pageViewSpan(
  data: PageViewed['data'],
  channelRules: readonly ChannelRule<string>[],
): SessionSpan<string>;
export function pageViewSpan(
  data: PageViewed['data'],
  channelRules?: readonly ChannelRule<string>[],
): SessionSpan<string> {
  const [session] = buildSessions(
    [
      {
        at: data.occurredAt,
        utm: data.campaign,
        referrer: data.page?.referrer ?? null,
        pageUrl: data.page?.url ?? null,
        campaignId: idValue(data.properties.campaign_id),
      },
    ],
    { channelRules },
  );
  return {
    touch: {
      channel: session.channel,
      source: session.source,
      medium: session.medium,
      campaign: session.campaign,
      campaignId: session.campaignId,
      at: session.startedAt,
    },
    firstHitId: data.messageId,
    endedAt: session.endedAt,
    hitCount: session.hitCount,
  };
}

/**
 * The sessions of the union of two disjoint sets of hits, sorted by start. (The projection's
 * position guard keeps a hit from being applied twice.)
 */
export function mergeSpans<S extends SessionSpan<string>>(
  left: readonly S[],
  right: readonly S[],
  timeoutMs = defaultSessionTimeoutMs,
): S[] {
  const all = [...left, ...right].sort(compareSpans);
  const merged: S[] = [];
  for (const span of all) {
    const current = merged.at(-1);
    if (current && parseInstant(span.touch.at) - parseInstant(current.endedAt) <= timeoutMs) {
      merged[merged.length - 1] = {
        ...current,
        endedAt: laterOf(current.endedAt, span.endedAt),
        hitCount: current.hitCount + span.hitCount,
      };
    } else {
      merged.push(span);
    }
  }
  return merged;
}

export function firstTouch(spans: readonly SessionSpan[]): Touch | null {
  return spans[0]?.touch ?? null;
}

export function lastTouch(spans: readonly SessionSpan[]): Touch | null {
  return spans.at(-1)?.touch ?? null;
}

function compareSpans(a: SessionSpan<string>, b: SessionSpan<string>): number {
  const byTime = parseInstant(a.touch.at) - parseInstant(b.touch.at);
  if (byTime !== 0) return byTime;
  return a.firstHitId < b.firstHitId ? -1 : a.firstHitId > b.firstHitId ? 1 : 0;
}

function laterOf(a: string, b: string): string {
  return parseInstant(b) > parseInstant(a) ? b : a;
}

/** An id property as `vocabulary.ts` reads ids: a non-blank string or a safe integer. */
function idValue(value: JsonValue | undefined): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
