/**
 * The numbers the campaign metrics keep (ANALYTICS.md, Campaign metrics), as counters and
 * per-currency money, and the one way they add up. Money is integer minor units per ISO-4217
 * code (`{ USD: 1999, EUR: 500 }`): sums never mix currencies.
 */

export const counterNames = [
  'impressions',
  'clicks',
  'sends',
  'deliveries',
  'opens',
  'uniqueOpens',
  'uniqueClicks',
  'bounces',
  'unsubscribes',
  'complaints',
  'conversions',
] as const;
export type CounterName = (typeof counterNames)[number];

/** Integer minor units per currency code. */
export type MoneyByCurrency = Readonly<Record<string, number>>;

export const moneyNames = ['revenue', 'spend'] as const;
export type MoneyName = (typeof moneyNames)[number];

export type MetricTotals = Readonly<Record<CounterName, number>> &
  Readonly<Record<MoneyName, MoneyByCurrency>>;

/** Anything that carries metrics: totals, or a stored document whose fields may be absent. */
export type MetricParts = Partial<Record<CounterName | MoneyName, unknown>>;

/** A change to apply: any counters and any money, each possibly negative. */
export interface MetricDelta {
  readonly counts?: Partial<Record<CounterName, number>>;
  readonly revenue?: MoneyByCurrency;
  readonly spend?: MoneyByCurrency;
}

export function emptyTotals(): MetricTotals {
  return {
    ...(Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<CounterName, number>),
    revenue: {},
    spend: {},
  };
}

/**
 * The sum of totals (or of stored bucket documents, whose counters may be absent). Money in
 * a currency whose sum is 0 is left out, so `{ USD: 0 }` and `{}` read the same.
 */
export function sumTotals(parts: readonly MetricParts[]): MetricTotals {
  const counts = Object.fromEntries(counterNames.map((name) => [name, 0])) as Record<
    CounterName,
    number
  >;
  const revenue: Record<string, number> = {};
  const spend: Record<string, number> = {};
  for (const part of parts) {
    for (const name of counterNames) counts[name] += numberOr0(part[name]);
    addMoney(revenue, part.revenue);
    addMoney(spend, part.spend);
  }
  return { ...counts, revenue: withoutZeros(revenue), spend: withoutZeros(spend) };
}

/** The delta that undoes `delta`. */
export function negate(delta: MetricDelta): MetricDelta {
  const flip = (values: Readonly<Record<string, number | undefined>> | undefined) =>
    values &&
    Object.fromEntries(Object.entries(values).map(([key, value]) => [key, -(value ?? 0)]));
  return { counts: flip(delta.counts), revenue: flip(delta.revenue), spend: flip(delta.spend) };
}

/** An ISO-4217-shaped code: the only keys money maps take (they become field paths). */
export function isCurrencyCode(value: string): boolean {
  return /^[A-Z]{3}$/.test(value);
}

function addMoney(target: Record<string, number>, money: unknown): void {
  if (typeof money !== 'object' || money === null) return;
  for (const [currency, amount] of Object.entries(money)) {
    target[currency] = (target[currency] ?? 0) + numberOr0(amount);
  }
}

function withoutZeros(money: Record<string, number>): MoneyByCurrency {
  return Object.fromEntries(
    Object.entries(money)
      .filter(([, amount]) => amount !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
