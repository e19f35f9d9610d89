import fc from 'fast-check';
import {
  evaluate,
  isNegation,
  nextChange,
  conditionTreeInput,
  parseConditionTree,
  readsOf,
  segmentLimits,
  type ConditionNode,
  type ContactEvent,
  type GroupNode,
  type ParseOptions,
  type SegmentContact,
} from '../../src/domain/segment';
import { parsePropertyCondition } from '../../src/domain/shared/conditions';
import type { JsonObject } from '../../src/domain/tracking/tracking.events';

const day = 24 * 60 * 60 * 1000;
const now = Date.parse('2026-03-01T12:00:00Z');
const iso = (at: number): string => new Date(at).toISOString();

function contactWith(overrides: Partial<SegmentContact> = {}): SegmentContact {
  return {
    traits: {},
    events: [],
    revenueByCurrency: {},
    conversions: 0,
    lastSeenAt: null,
    ...overrides,
  };
}

function event(name: string, at: number, properties: JsonObject = {}): ContactEvent {
  return { name, at, properties };
}

/** A positive condition to pair negations with, so the tree passes the negation rule. */
const isPro = { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' };
const proTraits = { plan: 'pro' };

function holds(input: unknown, contact: SegmentContact, at = now): boolean {
  return evaluate(parseConditionTree(input), contact, at, () => false);
}

/** Given a leaf that is a negation, AND it with `plan eq pro` and give the contact that plan. */
function holdsBesidePro(leaf: unknown, contact: SegmentContact, at = now): boolean {
  const tree = { kind: 'and', conditions: [isPro, leaf] };
  return holds(tree, { ...contact, traits: { ...proTraits, ...contact.traits } }, at);
}

function validationErrorOf(action: () => unknown): { field: string; reason: string } {
  try {
    action();
  } catch (error) {
    const thrown = error as { name?: unknown; field: string; reason: string };
    if (thrown.name === 'ValidationError') return { field: thrown.field, reason: thrown.reason };
    throw error;
  }
  throw new Error('expected a ValidationError');
}

function rejection(input: unknown, options?: ParseOptions): { field: string; reason: string } {
  return validationErrorOf(() => parseConditionTree(input, options));
}

describe('segment condition tree: trait conditions', () => {
  it('given plan eq pro, then a pro contact matches and one without the trait does not', () => {
    expect(holds(isPro, contactWith({ traits: { plan: 'pro' } }))).toBe(true);
    expect(holds(isPro, contactWith({ traits: { plan: 'Pro' } }))).toBe(false);
    expect(holds(isPro, contactWith())).toBe(false);
  });

  it('given a negative operator, then a missing trait satisfies it', () => {
    const notFree = { kind: 'trait', property: 'tier', operator: 'neq', value: 'free' };
    expect(holdsBesidePro(notFree, contactWith())).toBe(true);
    expect(holdsBesidePro(notFree, contactWith({ traits: { tier: 'free' } }))).toBe(false);
    const noEmail = { kind: 'trait', property: 'email', operator: 'notExists' };
    expect(holdsBesidePro(noEmail, contactWith())).toBe(true);
  });

  it('given a dot path, then the nested trait is read', () => {
    const inParis = { kind: 'trait', property: 'address.city', operator: 'eq', value: 'Paris' };
    expect(holds(inParis, contactWith({ traits: { address: { city: 'Paris' } } }))).toBe(true);
  });

  it('given "signed up within the last 30 days", then exactly 30 days ago is included', () => {
    const recent = {
      kind: 'trait',
      property: 'signed_up_at',
      operator: 'withinLastDays',
      value: 30,
    };
    const signedUp = (at: number | string) =>
      contactWith({ traits: { signed_up_at: typeof at === 'number' ? iso(at) : at } });
    expect(holds(recent, signedUp(now - 30 * day))).toBe(true);
    expect(holds(recent, signedUp(now))).toBe(true);
    expect(holds(recent, signedUp(now - 30 * day - 1))).toBe(false);
    expect(holds(recent, signedUp(now + 1))).toBe(false);
    expect(holds(recent, signedUp('2026-02-20'))).toBe(true);
    expect(holds(recent, signedUp('not a date'))).toBe(false);
    expect(holds(recent, contactWith())).toBe(false);
  });

  it('given "more than 30 days ago", then exactly 30 days ago is not included', () => {
    const old = { kind: 'trait', property: 'signed_up_at', operator: 'moreThanDaysAgo', value: 30 };
    const signedUp = (at: number) => contactWith({ traits: { signed_up_at: iso(at) } });
    expect(holds(old, signedUp(now - 30 * day))).toBe(false);
    expect(holds(old, signedUp(now - 30 * day - 1))).toBe(true);
    expect(holds(old, contactWith())).toBe(false);
  });

  it('given an offset-less date-time trait, then it is read as UTC', () => {
    const recent = { kind: 'trait', property: 'at', operator: 'withinLastDays', value: 1 };
    const at = (text: string) => contactWith({ traits: { at: text } });
    expect(holds(recent, at('2026-02-28 12:00'))).toBe(true);
    expect(holds(recent, at('2026-02-28T11:59:59.999'))).toBe(false);
    expect(holds(recent, at('2026-02-28T13:00:00+0100'))).toBe(true);
  });
});

describe('segment condition tree: behavioural conditions', () => {
  const orders = (...ats: number[]) =>
    contactWith({ events: ats.map((at) => event('Order Completed', at)) });

  it('given "performed at least 1", then a contact with no matching events fails', () => {
    const ordered = {
      kind: 'performed',
      event: 'Order Completed',
      count: { op: 'atLeast', value: 1 },
      window: null,
    };
    expect(holds(ordered, contactWith())).toBe(false);
    expect(holds(ordered, contactWith({ events: [event('Signed Up', now - day)] }))).toBe(false);
    expect(holds(ordered, orders(now - 400 * day))).toBe(true);
  });

  it('given "in the last 7 days", then an event exactly 7 days ago counts and one 1 ms older does not', () => {
    const lastWeek = {
      kind: 'performed',
      event: 'Order Completed',
      count: { op: 'atLeast', value: 2 },
      window: { lastDays: 7 },
    };
    expect(holds(lastWeek, orders(now - 7 * day, now))).toBe(true);
    expect(holds(lastWeek, orders(now - 7 * day - 1, now))).toBe(false);
    expect(holds(lastWeek, orders(now - day, now + 1))).toBe(false);
  });

  it('given a since window, then its instant is included', () => {
    const sinceMarch = {
      kind: 'performed',
      event: 'Order Completed',
      count: { op: 'exactly', value: 1 },
      window: { since: '2026-03-01' },
    };
    expect(holds(sinceMarch, orders(Date.parse('2026-03-01T00:00:00Z')))).toBe(true);
    expect(holds(sinceMarch, orders(Date.parse('2026-02-28T23:59:59.999Z')))).toBe(false);
  });

  it('given property filters, then only events whose properties match count', () => {
    const bigOrder = {
      kind: 'performed',
      event: 'Order Completed',
      filters: [{ property: 'revenue', operator: 'gte', value: 100 }],
      count: { op: 'atLeast', value: 1 },
      window: null,
    };
    const contact = (revenue: number) =>
      contactWith({ events: [event('Order Completed', now - day, { revenue })] });
    expect(holds(bigOrder, contact(100))).toBe(true);
    expect(holds(bigOrder, contact(99))).toBe(false);
  });

  it('given "at most 1" or "exactly 0", then a contact with no events satisfies them', () => {
    const atMostOne = {
      kind: 'performed',
      event: 'Order Completed',
      count: { op: 'atMost', value: 1 },
      window: { lastDays: 30 },
    };
    const none = { ...atMostOne, count: { op: 'exactly', value: 0 } };
    expect(holdsBesidePro(atMostOne, contactWith())).toBe(true);
    expect(holdsBesidePro(atMostOne, orders(now - day))).toBe(true);
    expect(holdsBesidePro(atMostOne, orders(now - day, now - 2 * day))).toBe(false);
    expect(holdsBesidePro(none, contactWith())).toBe(true);
    expect(holdsBesidePro(none, orders(now - 31 * day))).toBe(true);
    expect(holdsBesidePro(none, orders(now - day))).toBe(false);
  });

  it('given "never performed", then it holds until a matching event happens', () => {
    const neverBought = {
      kind: 'neverPerformed',
      event: 'Order Completed',
      filters: [{ property: 'currency', operator: 'eq', value: 'EUR' }],
    };
    const paid = (currency: string, at = now - day) =>
      contactWith({ events: [event('Order Completed', at, { currency })] });
    expect(holdsBesidePro(neverBought, contactWith())).toBe(true);
    expect(holdsBesidePro(neverBought, paid('USD'))).toBe(true);
    expect(holdsBesidePro(neverBought, paid('EUR'))).toBe(false);
    expect(holdsBesidePro(neverBought, paid('EUR', now + day))).toBe(true);
  });

  it('given "first performed within 7 days", then the first event decides, both ends included', () => {
    const newBuyer = { kind: 'firstPerformedWithin', event: 'Order Completed', days: 7 };
    expect(holds(newBuyer, orders(now - 7 * day))).toBe(true);
    expect(holds(newBuyer, orders(now - 7 * day - 1, now - day))).toBe(false);
    expect(holds(newBuyer, contactWith())).toBe(false);
  });

  it('given total revenue between 100 and 200 USD, then both ends are included and other currencies ignored', () => {
    const spent = { kind: 'totalRevenue', op: 'between', value: [100, 200], currency: 'USD' };
    const revenue = (byCurrency: Record<string, number>) =>
      contactWith({ revenueByCurrency: byCurrency });
    expect(holds(spent, revenue({ USD: 100 }))).toBe(true);
    expect(holds(spent, revenue({ USD: 200 }))).toBe(true);
    expect(holds(spent, revenue({ USD: 200.01 }))).toBe(false);
    expect(holds(spent, revenue({ EUR: 150 }))).toBe(false);
  });

  it('given total revenue below 50 EUR, then a contact without revenue has 0 and matches', () => {
    const small = { kind: 'totalRevenue', op: 'lt', value: 50, currency: 'EUR' };
    expect(holdsBesidePro(small, contactWith())).toBe(true);
    expect(holdsBesidePro(small, contactWith({ revenueByCurrency: { EUR: 50 } }))).toBe(false);
  });

  it('given a conversion count, then it compares the number of conversions', () => {
    const converted = { kind: 'conversionCount', op: 'gte', value: 2 };
    expect(holds(converted, contactWith({ conversions: 2 }))).toBe(true);
    expect(holds(converted, contactWith({ conversions: 1 }))).toBe(false);
  });

  it('given last seen after / before, then after includes its instant and before does not', () => {
    const active = { kind: 'lastSeen', after: { daysAgo: 7 } };
    const lapsed = { kind: 'lastSeen', before: '2026-01-01' };
    expect(holds(active, contactWith({ lastSeenAt: now - 7 * day }))).toBe(true);
    expect(holds(active, contactWith({ lastSeenAt: now - 7 * day - 1 }))).toBe(false);
    expect(holds(active, contactWith())).toBe(false);
    expect(holds(lapsed, contactWith({ lastSeenAt: Date.parse('2026-01-01T00:00:00Z') }))).toBe(
      false,
    );
    expect(holds(lapsed, contactWith({ lastSeenAt: Date.parse('2025-12-31T23:59:59Z') }))).toBe(
      true,
    );
    const range = { kind: 'lastSeen', after: '2025-01-01', before: '2025-02-01' };
    expect(holds(range, contactWith({ lastSeenAt: Date.parse('2025-01-15T00:00:00Z') }))).toBe(
      true,
    );
    expect(holds(range, contactWith({ lastSeenAt: Date.parse('2025-03-01T00:00:00Z') }))).toBe(
      false,
    );
  });

  it('given memberOf, then the callback answers it, and evaluating without one throws', () => {
    const tree = parseConditionTree({ kind: 'memberOf', segmentId: 'vip' });
    expect(evaluate(tree, contactWith(), now, (id) => id === 'vip')).toBe(true);
    expect(evaluate(tree, contactWith(), now, () => false)).toBe(false);
    expect(() => evaluate(tree, contactWith(), now)).toThrow(/isMember/);
  });
});

describe('segment condition tree: nested groups', () => {
  const recentBuyer = {
    kind: 'performed',
    event: 'Order Completed',
    count: { op: 'atLeast', value: 1 },
    window: { lastDays: 30 },
  };
  const tree = {
    kind: 'and',
    conditions: [
      {
        kind: 'or',
        conditions: [isPro, { kind: 'trait', property: 'plan', operator: 'eq', value: 'team' }],
      },
      { kind: 'not', condition: recentBuyer },
    ],
  };

  it('given (pro OR team) AND NOT bought recently, then each branch decides', () => {
    expect(holds(tree, contactWith({ traits: { plan: 'team' } }))).toBe(true);
    expect(holds(tree, contactWith({ traits: { plan: 'free' } }))).toBe(false);
    const bought = [event('Order Completed', now - day)];
    expect(holds(tree, contactWith({ traits: { plan: 'pro' }, events: bought }))).toBe(false);
  });
});

describe('segment condition tree: validation', () => {
  it('given an unknown kind deep in the tree, then its path and UNKNOWN_KIND', () => {
    const input = {
      kind: 'and',
      conditions: [{ kind: 'or', conditions: [isPro, { kind: 'sometimes' }] }],
    };
    expect(rejection(input)).toEqual({
      field: 'conditions.0.conditions.1.kind',
      reason: 'UNKNOWN_KIND',
    });
  });

  it('given a wrong value type, then its path and INVALID_VALUE', () => {
    const input = {
      kind: 'and',
      conditions: [
        {
          kind: 'or',
          conditions: [
            isPro,
            isPro,
            { kind: 'trait', property: 'age', operator: 'gt', value: 'old' },
          ],
        },
      ],
    };
    expect(rejection(input)).toEqual({
      field: 'conditions.0.conditions.2.value',
      reason: 'INVALID_VALUE',
    });
  });

  it.each([
    [
      { kind: 'trait', property: 'plan', operator: 'like', value: 'p' },
      'conditions.1.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      { kind: 'trait', property: '', operator: 'eq', value: 'p' },
      'conditions.1.property',
      'INVALID_PROPERTY',
    ],
    [
      { kind: 'trait', property: 'at', operator: 'withinLastDays', value: 0 },
      'conditions.1.value',
      'INVALID_VALUE',
    ],
    [
      { kind: 'trait', property: 'at', operator: 'withinLastDays', value: 1.5 },
      'conditions.1.value',
      'INVALID_VALUE',
    ],
    [
      { kind: 'performed', event: '', count: { op: 'atLeast', value: 1 } },
      'conditions.1.event',
      'REQUIRED',
    ],
    [
      { kind: 'performed', event: 'X', count: { op: 'moreThan', value: 1 } },
      'conditions.1.count.op',
      'UNKNOWN_OPERATOR',
    ],
    [
      { kind: 'performed', event: 'X', count: { op: 'atMost', value: -1 } },
      'conditions.1.count.value',
      'INVALID_VALUE',
    ],
    [
      { kind: 'performed', event: 'X', count: { op: 'atLeast', value: 0 } },
      'conditions.1.count.value',
      'INVALID_VALUE',
    ],
    [{ kind: 'performed', event: 'X', count: 3 }, 'conditions.1.count', 'INVALID_VALUE'],
    [
      {
        kind: 'performed',
        event: 'X',
        count: { op: 'atLeast', value: 1 },
        window: { lastDays: 0 },
      },
      'conditions.1.window.lastDays',
      'INVALID_VALUE',
    ],
    [
      {
        kind: 'performed',
        event: 'X',
        count: { op: 'atLeast', value: 1 },
        window: { since: 'yesterday' },
      },
      'conditions.1.window.since',
      'INVALID_VALUE',
    ],
    [
      {
        kind: 'performed',
        event: 'X',
        count: { op: 'atLeast', value: 1 },
        window: { lastDays: 1, since: '2026-01-01' },
      },
      'conditions.1.window',
      'INVALID_VALUE',
    ],
    [
      {
        kind: 'performed',
        event: 'X',
        count: { op: 'atLeast', value: 1 },
        filters: [{ property: 'a', operator: 'nope' }],
      },
      'conditions.1.filters.0.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      {
        kind: 'performed',
        event: 'X',
        count: { op: 'atLeast', value: 1 },
        filters: Array.from({ length: 21 }, () => ({ property: 'a', operator: 'exists' })),
      },
      'conditions.1.filters',
      'TOO_MANY_FILTERS',
    ],
    [{ kind: 'firstPerformedWithin', event: 'X', days: '7' }, 'conditions.1.days', 'INVALID_VALUE'],
    [
      { kind: 'totalRevenue', op: 'above', value: 1, currency: 'USD' },
      'conditions.1.op',
      'UNKNOWN_OPERATOR',
    ],
    [
      { kind: 'totalRevenue', op: 'gt', value: '1', currency: 'USD' },
      'conditions.1.value',
      'INVALID_VALUE',
    ],
    [
      { kind: 'totalRevenue', op: 'gt', value: 1, currency: 'usd' },
      'conditions.1.currency',
      'INVALID_CURRENCY',
    ],
    [
      { kind: 'totalRevenue', op: 'between', value: [5, 1], currency: 'USD' },
      'conditions.1.value',
      'INVALID_VALUE',
    ],
    [
      { kind: 'conversionCount', op: 'gte', value: Number.NaN },
      'conditions.1.value',
      'INVALID_VALUE',
    ],
    [{ kind: 'lastSeen' }, 'conditions.1.before', 'INVALID_VALUE'],
    [{ kind: 'lastSeen', after: { daysAgo: -1 } }, 'conditions.1.after.daysAgo', 'INVALID_VALUE'],
    [{ kind: 'lastSeen', before: '2026-02-30' }, 'conditions.1.before', 'INVALID_VALUE'],
    [{ kind: 'memberOf', segmentId: 42 }, 'conditions.1.segmentId', 'REQUIRED'],
    [{ kind: 'or', conditions: [] }, 'conditions.1.conditions', 'EMPTY_GROUP'],
    [{ kind: 'or' }, 'conditions.1.conditions', 'INVALID_CONDITION'],
    [{ kind: 'not' }, 'conditions.1.condition', 'INVALID_CONDITION'],
    ['plan is pro', 'conditions.1', 'INVALID_CONDITION'],
  ])('given the second condition %j, then %s is refused with %s', (condition, field, reason) => {
    expect(rejection({ kind: 'and', conditions: [isPro, condition] })).toEqual({ field, reason });
  });

  it('given a tree that is not an object, then INVALID_CONDITION', () => {
    expect(rejection(null).reason).toBe('INVALID_CONDITION');
  });
});

describe('segment condition tree: negations must be paired', () => {
  const neverBought = { kind: 'neverPerformed', event: 'Order Completed' };
  const performed = (op: string, value: number) => ({
    kind: 'performed',
    event: 'Order Completed',
    count: { op, value },
    window: null,
  });
  const notPro = { kind: 'not', condition: isPro };
  const negativeTrait = { kind: 'trait', property: 'plan', operator: 'notIn', value: ['free'] };

  it.each([
    ['neverPerformed', neverBought],
    ['atMost 3', performed('atMost', 3)],
    ['exactly 0', performed('exactly', 0)],
    ['a negative trait operator', negativeTrait],
    ['not of a positive condition', notPro],
    ['revenue below 10', { kind: 'totalRevenue', op: 'lt', value: 10, currency: 'USD' }],
  ])('given %s, then it counts as a negation', (_name, leaf) => {
    expect(
      isNegation(
        (parseConditionTree({ kind: 'and', conditions: [isPro, leaf] }) as GroupNode).conditions[1],
      ),
    ).toBe(true);
  });

  it.each([
    ['atLeast 1', performed('atLeast', 1)],
    ['exactly 1', performed('exactly', 1)],
    ['not of a negation', { kind: 'not', condition: neverBought }],
    ['a relative date', { kind: 'trait', property: 'at', operator: 'withinLastDays', value: 3 }],
    ['memberOf', { kind: 'memberOf', segmentId: 'vip' }],
  ])('given %s, then it is positive', (_name, leaf) => {
    expect(() =>
      parseConditionTree({ kind: 'and', conditions: [leaf, neverBought] }),
    ).not.toThrow();
  });

  it('given a group of only negations, then ONLY_NEGATIONS on its conditions', () => {
    expect(rejection({ kind: 'and', conditions: [neverBought, negativeTrait] })).toEqual({
      field: 'conditions',
      reason: 'ONLY_NEGATIONS',
    });
    const nested = {
      kind: 'and',
      conditions: [isPro, { kind: 'or', conditions: [performed('exactly', 0), notPro] }],
    };
    expect(rejection(nested)).toEqual({
      field: 'conditions.1.conditions',
      reason: 'ONLY_NEGATIONS',
    });
  });

  it('given a lone negation as the whole tree, then ONLY_NEGATIONS', () => {
    expect(rejection(neverBought)).toEqual({ field: 'kind', reason: 'ONLY_NEGATIONS' });
  });

  it('given a negation paired with a positive condition, then the tree is accepted', () => {
    expect(() =>
      parseConditionTree({ kind: 'or', conditions: [neverBought, isPro] }),
    ).not.toThrow();
  });
});

describe('segment condition tree: size limit', () => {
  it('given 200 conditions in total, then accepted; given 201, then TOO_MANY_CONDITIONS at the 201st', () => {
    const leaves = (count: number) => Array.from({ length: count }, () => isPro);
    expect(() => parseConditionTree({ kind: 'and', conditions: leaves(199) })).not.toThrow();
    expect(rejection({ kind: 'and', conditions: leaves(200) })).toEqual({
      field: 'conditions.199',
      reason: 'TOO_MANY_CONDITIONS',
    });
    expect(segmentLimits.conditions).toBe(200);
  });

  it('given a hostile depth of 100 000 nots, then TOO_MANY_CONDITIONS instead of a stack overflow', () => {
    let tree: unknown = isPro;
    for (let index = 0; index < 100_000; index += 1) tree = { kind: 'not', condition: tree };
    expect(rejection(tree).reason).toBe('TOO_MANY_CONDITIONS');
  });
});

describe('segment condition tree: memberOf cycles', () => {
  const member = (segmentId: string) => ({ kind: 'memberOf', segmentId });
  const stored = (trees: Record<string, unknown>): ParseOptions['lookupSegment'] => {
    return (id) => (id in trees ? parseConditionTree(trees[id]) : null);
  };

  it('given a segment that includes itself, then SEGMENT_CYCLE at the reference', () => {
    const input = { kind: 'and', conditions: [isPro, member('a')] };
    const options = { segmentId: 'a', lookupSegment: stored({}) };
    expect(rejection(input, options)).toEqual({
      field: 'conditions.1.segmentId',
      reason: 'SEGMENT_CYCLE',
    });
  });

  it('given a → b → c → a, then SEGMENT_CYCLE', () => {
    const lookupSegment = stored({
      b: { kind: 'and', conditions: [isPro, member('c')] },
      c: { kind: 'and', conditions: [isPro, { kind: 'not', condition: member('a') }] },
    });
    const input = { kind: 'or', conditions: [isPro, { kind: 'not', condition: member('b') }] };
    expect(rejection(input, { segmentId: 'a', lookupSegment })).toEqual({
      field: 'conditions.1.condition.segmentId',
      reason: 'SEGMENT_CYCLE',
    });
  });

  it('given a diamond (a → b, a → c, b → c), then no cycle', () => {
    const lookupSegment = stored({ b: member('c'), c: isPro });
    const input = { kind: 'and', conditions: [member('b'), member('c')] };
    expect(() => parseConditionTree(input, { segmentId: 'a', lookupSegment })).not.toThrow();
  });

  it('given a cycle among stored segments, then SEGMENT_CYCLE even for a new segment', () => {
    const lookupSegment = stored({ b: member('c'), c: member('b') });
    expect(rejection(member('b'), { lookupSegment }).reason).toBe('SEGMENT_CYCLE');
  });

  it('given memberOf a static segment, then accepted, and the chain ends there', () => {
    const lookupSegment: ParseOptions['lookupSegment'] = (id) =>
      id === 'imported' ? 'static' : null;
    const input = { kind: 'and', conditions: [isPro, member('imported')] };
    expect(parseConditionTree(input, { segmentId: 'a', lookupSegment })).toEqual({
      kind: 'and',
      conditions: [parseConditionTree(isPro), { kind: 'memberOf', segmentId: 'imported' }],
    });
  });

  it('given a segment that does not exist, then UNKNOWN_SEGMENT', () => {
    expect(rejection(member('gone'), { segmentId: 'a', lookupSegment: stored({}) })).toEqual({
      field: 'segmentId',
      reason: 'UNKNOWN_SEGMENT',
    });
  });
});

describe('segment condition tree: readsOf', () => {
  it('given a mixed tree, then the top-level trait names, event names and other inputs it reads', () => {
    const tree = parseConditionTree({
      kind: 'and',
      conditions: [
        { kind: 'trait', property: 'address.city', operator: 'eq', value: 'Paris' },
        isPro,
        {
          kind: 'not',
          condition: {
            kind: 'performed',
            event: 'Order Completed',
            filters: [{ property: 'coupon', operator: 'exists' }],
            count: { op: 'atLeast', value: 1 },
          },
        },
        { kind: 'firstPerformedWithin', event: 'Signed Up', days: 3 },
        { kind: 'memberOf', segmentId: 'vip' },
        { kind: 'conversionCount', op: 'gt', value: 0 },
      ],
    });
    expect(readsOf(tree)).toEqual({
      traits: ['address', 'plan'],
      events: ['Order Completed', 'Signed Up'],
      segments: ['vip'],
      revenue: false,
      conversions: true,
      lastSeen: false,
    });
  });
});

describe('segment condition tree: nextChange', () => {
  const boughtLastWeek = parseConditionTree({
    kind: 'performed',
    event: 'Order Completed',
    count: { op: 'atLeast', value: 1 },
    window: { lastDays: 7 },
  });
  const orders = (...ats: number[]) =>
    contactWith({ events: ats.map((at) => event('Order Completed', at)) });

  it('given "performed at least 1 in the last 7 days", then it flips just after the latest event is 7 days old', () => {
    const contact = orders(now - 3 * day, now - day);
    const flip = nextChange(boughtLastWeek, contact, now);
    expect(flip).toBe(now - day + 7 * day + 1);
    expect(evaluate(boughtLastWeek, contact, flip! - 1)).toBe(true);
    expect(evaluate(boughtLastWeek, contact, flip!)).toBe(false);
  });

  it('given no events, then nothing changes with time', () => {
    expect(nextChange(boughtLastWeek, contactWith(), now)).toBeNull();
  });

  it('given an event dated in the future, then the answer changes at its instant', () => {
    expect(nextChange(boughtLastWeek, orders(now + 5000), now)).toBe(now + 5000);
  });

  it('given a tree with nothing relative to now, then null', () => {
    const tree = parseConditionTree({
      kind: 'and',
      conditions: [isPro, { kind: 'conversionCount', op: 'gt', value: 1 }],
    });
    expect(nextChange(tree, orders(now - day), now)).toBeNull();
  });

  it('given a relative trait date, then the day it leaves the window', () => {
    const tree = parseConditionTree({
      kind: 'trait',
      property: 'at',
      operator: 'withinLastDays',
      value: 30,
    });
    const signedUp = now - 10 * day;
    expect(nextChange(tree, contactWith({ traits: { at: iso(signedUp) } }), now)).toBe(
      signedUp + 30 * day + 1,
    );
  });
});

describe('segment condition tree: properties', () => {
  const properties = ['a', 'b', 'c'];
  const leaf: fc.Arbitrary<ConditionNode> = fc.oneof(
    fc
      .record({
        property: fc.constantFrom(...properties),
        operator: fc.constantFrom('eq', 'neq', 'gt', 'lte', 'exists', 'notExists', 'in', 'notIn'),
        value: fc.integer({ min: 0, max: 3 }),
      })
      .map(({ property, operator, value }) => ({
        kind: 'trait' as const,
        condition: parsePropertyCondition(
          {
            property,
            operator,
            value: operator.endsWith('xists')
              ? null
              : operator === 'in' || operator === 'notIn'
                ? [value]
                : value,
          },
          'leaf',
        ),
      })),
    fc
      .record({
        property: fc.constantFrom(...properties),
        operator: fc.constantFrom('withinLastDays' as const, 'moreThanDaysAgo' as const),
        value: fc.integer({ min: 1, max: 3 }),
      })
      .map((condition) => ({ kind: 'trait' as const, condition })),
  );
  const { tree } = fc.letrec<{ tree: ConditionNode }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({
        kind: fc.constantFrom('and' as const, 'or' as const),
        conditions: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
      }),
      tie('tree').map((condition) => ({ kind: 'not' as const, condition })),
    ),
  }));
  const traitValue = fc.oneof(
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 4 }).map((days) => iso(now - days * day)),
    fc.constant(null),
  );
  const contact = fc
    .dictionary(fc.constantFrom(...properties), traitValue)
    .map((traits) => contactWith({ traits }));

  it('given any tree of trait conditions, then not(not(x)) evaluates as x', () => {
    fc.assert(
      fc.property(tree, contact, (x, person) => {
        const twice: ConditionNode = { kind: 'not', condition: { kind: 'not', condition: x } };
        expect(evaluate(twice, person, now)).toBe(evaluate(x, person, now));
      }),
    );
  });

  it('given any trees of trait conditions, then De Morgan holds', () => {
    fc.assert(
      fc.property(fc.array(tree, { minLength: 1, maxLength: 4 }), contact, (xs, person) => {
        const negated = xs.map((condition): ConditionNode => ({ kind: 'not', condition }));
        const notAnd: ConditionNode = { kind: 'not', condition: { kind: 'and', conditions: xs } };
        const notOr: ConditionNode = { kind: 'not', condition: { kind: 'or', conditions: xs } };
        expect(evaluate(notAnd, person, now)).toBe(
          evaluate({ kind: 'or', conditions: negated }, person, now),
        );
        expect(evaluate(notOr, person, now)).toBe(
          evaluate({ kind: 'and', conditions: negated }, person, now),
        );
      }),
    );
  });
});

describe('conditionTreeInput', () => {
  it('gives back the shape clients send, which parses to the same tree', () => {
    const input = {
      kind: 'or',
      conditions: [
        { kind: 'trait', property: 'plan', operator: 'in', value: ['pro', 'team'] },
        {
          kind: 'and',
          conditions: [
            { kind: 'trait', property: 'signedUpAt', operator: 'withinLastDays', value: 30 },
            { kind: 'not', condition: { kind: 'neverPerformed', event: 'Order Completed' } },
            {
              kind: 'performed',
              event: 'Product Viewed',
              filters: [{ property: 'price', operator: 'gte', value: 10 }],
              count: { op: 'atLeast', value: 2 },
              window: { lastDays: 7 },
            },
          ],
        },
      ],
    };
    const tree = parseConditionTree(input);
    const sent = conditionTreeInput(tree);
    expect(sent).toMatchObject({
      conditions: [{ kind: 'trait', property: 'plan', operator: 'in', value: ['pro', 'team'] }, {}],
    });
    expect(parseConditionTree(sent)).toEqual(tree);
  });
});

describe('a trait condition at the root of a tree', () => {
  it('names its own fields without a leading dot', () => {
    expect(() =>
      parseConditionTree({ kind: 'trait', property: 'a', operator: 'regex', value: '(a+)+$' }),
    ).toThrow(expect.objectContaining({ field: 'value', reason: 'UNSAFE_REGEX' }));
  });
});
