/**
 * Seeded, realistic Segment traffic for tests and benchmarks: contacts who visit through
 * paid, email, organic and direct sessions, open and click campaign emails, see and click
 * promotions, and order — plus the truth of what the traffic means (which campaign each
 * order belongs to), built from the generator's own choices rather than Touchline's code.
 */

export interface GeneratedMessage {
  readonly type: 'page' | 'track' | 'identify';
  readonly messageId: string;
  readonly userId: string;
  readonly timestamp: string;
  readonly event?: string;
  readonly name?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
}

/** How a visit arrived; the generator picks the UTM / referrer that mean it. */
type VisitKind = 'paid_search' | 'email' | 'display' | 'organic_search' | 'referral' | 'direct';

export interface OrderTruth {
  readonly orderId: string;
  readonly userId: string;
  readonly at: number;
  readonly revenueMinor: number;
  /** The campaign the order counts for (ANALYTICS.md): last non-direct visit in 30 days. */
  readonly campaignId: string | null;
  readonly channel: string | null;
}

export interface Traffic {
  /** Messages in the order they are sent, duplicates (retries) included. */
  readonly messages: GeneratedMessage[];
  readonly campaigns: readonly string[];
  /** Every distinct message (by messageId), as the truth the figures come from. */
  readonly distinct: GeneratedMessage[];
  readonly orders: OrderTruth[];
}

export interface TrafficOptions {
  readonly seed: number;
  readonly contacts: number;
  /** Midnight UTC of the generated day. */
  readonly day: string;
  readonly campaigns?: number;
  /** Share of messages sent twice (a client retry with the same messageId). */
  readonly retryShare?: number;
  /** Share of orders sent again under a new messageId (the same order_id). */
  readonly orderResendShare?: number;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Mulberry32: small, fast, good enough to make traffic repeatable. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateTraffic(options: TrafficOptions): Traffic {
  const next = random(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const dayStart = Date.parse(options.day);
  const campaigns = Array.from({ length: options.campaigns ?? 5 }, (_, i) => `camp-${i + 1}`);
  const distinct: GeneratedMessage[] = [];
  const orders: OrderTruth[] = [];
  let sequence = 0;
  const id = (prefix: string) => `${prefix}-${options.seed}-${(sequence++).toString(36)}`;

  for (let c = 0; c < options.contacts; c++) {
    const userId = `user-${c}`;
    const visits: { at: number; kind: VisitKind; campaignId: string | null }[] = [];
    // Visits start at whole minutes at least an hour apart, so each is its own session.
    const visitCount = 1 + Math.floor(next() * 3);
    let clock = dayStart + Math.floor(next() * 6) * HOUR;
    for (let v = 0; v < visitCount; v++) {
      const kind = pick<VisitKind>([
        'paid_search',
        'email',
        'display',
        'organic_search',
        'referral',
        'direct',
      ]);
      const campaignId =
        kind === 'paid_search' || kind === 'email' || kind === 'display' ? pick(campaigns) : null;
      visits.push({ at: clock, kind, campaignId });
      const hits = 1 + Math.floor(next() * 3);
      for (let h = 0; h < hits; h++) {
        distinct.push(
          pageView(
            id('msg'),
            userId,
            clock + h * 2 * MINUTE,
            h === 0 ? kind : 'direct',
            campaignId,
            h > 0,
          ),
        );
      }
      clock += HOUR + Math.floor(next() * 3) * HOUR;
    }
    for (const campaignId of campaigns) {
      if (next() < 0.3) {
        const emailId = `${campaignId}-newsletter`;
        const sentAt = dayStart + Math.floor(next() * 20) * HOUR;
        const lifecycle = ['Email Sent', 'Email Delivered'];
        if (next() < 0.5) lifecycle.push('Email Opened');
        if (next() < 0.3) lifecycle.push('Email Opened', 'Email Link Clicked');
        if (next() < 0.05) lifecycle.push('Unsubscribed');
        lifecycle.forEach((event, i) =>
          distinct.push(
            track(id('msg'), userId, sentAt + i * MINUTE, event, {
              campaign_id: campaignId,
              email_id: emailId,
            }),
          ),
        );
      }
      if (next() < 0.4) {
        const at = dayStart + Math.floor(next() * 23) * HOUR + MINUTE;
        distinct.push(
          track(id('msg'), userId, at, 'Promotion Viewed', {
            campaign_id: campaignId,
            promotion_id: `${campaignId}-banner`,
          }),
        );
        if (next() < 0.2) {
          distinct.push(
            track(id('msg'), userId, at + MINUTE, 'Promotion Clicked', {
              campaign_id: campaignId,
              promotion_id: `${campaignId}-banner`,
            }),
          );
        }
      }
    }
    if (next() < 0.35) {
      const last = visits[visits.length - 1];
      const at = last.at + 5 * MINUTE;
      const revenueMinor = 500 + Math.floor(next() * 20_000);
      const orderId = id('order');
      const credited = [...visits]
        .reverse()
        .find((visit) => visit.at <= at && visit.kind !== 'direct');
      orders.push({
        orderId,
        userId,
        at,
        revenueMinor,
        campaignId: credited?.campaignId ?? null,
        channel: credited?.campaignId ? credited.kind : null,
      });
      distinct.push(
        track(id('msg'), userId, at, 'Order Completed', {
          order_id: orderId,
          revenue: revenueMinor / 100,
          currency: 'USD',
        }),
      );
    }
    if (next() < 0.5) {
      distinct.push({
        type: 'identify',
        messageId: id('msg'),
        userId,
        timestamp: iso(dayStart + 23 * HOUR),
        traits: { plan: pick(['free', 'pro']) },
      });
    }
  }

  const messages: GeneratedMessage[] = [];
  for (const message of distinct) {
    messages.push(message);
    if (next() < (options.retryShare ?? 0.02)) messages.push(message);
    if (message.event === 'Order Completed' && next() < (options.orderResendShare ?? 0.1)) {
      messages.push({
        ...message,
        messageId: id('resend'),
        timestamp: iso(Date.parse(message.timestamp) + MINUTE),
      });
    }
  }
  return { messages, campaigns, distinct, orders };
}

function pageView(
  messageId: string,
  userId: string,
  at: number,
  kind: VisitKind,
  campaignId: string | null,
  sameSite: boolean,
): GeneratedMessage {
  const url = 'https://shop.example.com/landing';
  const arrival: Record<VisitKind, Record<string, unknown>> = {
    paid_search: { campaign: { source: 'google', medium: 'cpc', name: campaignId }, page: { url } },
    email: { campaign: { source: 'newsletter', medium: 'email', name: campaignId }, page: { url } },
    display: {
      campaign: { source: 'adnetwork', medium: 'display', name: campaignId },
      page: { url },
    },
    organic_search: { page: { url, referrer: 'https://www.google.com/search?q=shop' } },
    referral: { page: { url, referrer: 'https://blog.example.org/post' } },
    direct: { page: { url: sameSite ? 'https://shop.example.com/next' : url } },
  };
  return {
    type: 'page',
    messageId,
    userId,
    timestamp: iso(at),
    name: 'Landing',
    context: arrival[kind],
  };
}

function track(
  messageId: string,
  userId: string,
  at: number,
  event: string,
  properties: Record<string, unknown>,
): GeneratedMessage {
  return { type: 'track', messageId, userId, timestamp: iso(at), event, properties };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Splits messages into Segment `/v1/batch` bodies. */
export function toBatches(
  messages: readonly GeneratedMessage[],
  size: number,
): { batch: GeneratedMessage[] }[] {
  const batches: { batch: GeneratedMessage[] }[] = [];
  for (let i = 0; i < messages.length; i += size)
    batches.push({ batch: messages.slice(i, i + size) });
  return batches;
}
