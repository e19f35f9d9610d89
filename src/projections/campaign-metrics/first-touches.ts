/**
 * Unique opens and unique clicks: distinct (contact, email) pairs, counted in the bucket of
 * the pair's FIRST open (or link click) by event time. One small document per pair remembers
 * that first one; an earlier one that arrives late takes its place, and the unique moves
 * from the old bucket to the new one.
 *
 * The contact is the call's own identity (userId, else anonymousId): the metrics do not
 * join identities that `alias` / `identify` link; the contacts read model does.
 */
import { compareText } from '../ordering';
import { compareInstants } from './journey';

export type UniqueKind = 'open' | 'click';

/** The event that is the first of its pair so far. */
export type FirstTouch = {
  readonly at: string;
  readonly messageId: string;
  readonly campaignId: string;
  readonly variant: string | null;
};

export type FirstTouchDocument = FirstTouch & {
  /** `${workspaceId}|${identity}|${emailKey}|${kind}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly identity: string;
  readonly emailKey: string;
  readonly kind: UniqueKind;
};

/**
 * The email a unique is counted per: its `email_id`; an email event without one stands for
 * the campaign's one email.
 */
export function emailKey(emailId: string | null, campaignId: string): string {
  return emailId ?? `campaign:${campaignId}`;
}

export function firstTouchId(
  workspaceId: string,
  identity: string,
  email: string,
  kind: UniqueKind,
): string {
  return `${workspaceId}|${identity}|${email}|${kind}`;
}

/** Earlier by event time; at the same instant the smaller message id, so order never matters. */
export function isEarlier(candidate: FirstTouch, current: FirstTouch): boolean {
  const byTime = compareInstants(candidate.at, current.at);
  return byTime < 0 || (byTime === 0 && compareText(candidate.messageId, current.messageId) < 0);
}
