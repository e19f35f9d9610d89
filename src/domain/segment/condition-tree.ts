/**
 * A segment's condition tree (ANALYTICS.md, "Segments"): its validation, its evaluation against
 * one contact, what it reads and when time alone may change its answer. Pure functions; time
 * comes in as `now` (milliseconds since the epoch), never from the clock.
 *
 * Choices ANALYTICS.md leaves open:
 * - Days are 24-hour spans counted back from `now` (UTC, no calendar days): "in the last D days"
 *   is `[now − D·24h, now]`, both ends included.
 * - Events and trait dates after `now` (a client clock ahead of ours) do not count yet; they
 *   count from their instant on, which `nextChange` reports.
 * - Relative trait dates read ISO-8601 strings as the property conditions do (a bare date is
 *   midnight UTC; epoch numbers are not dates). `withinLastDays D`: the date is in
 *   `[now − D days, now]`; `moreThanDaysAgo D`: strictly before `now − D days`, so a date exactly
 *   D days ago is "within the last D days" and not "more than D days ago". A missing trait
 *   satisfies neither (neither is a negative operator).
 * - `performed`: matching events (same name, every filter holds on the event's properties) in
 *   the window, counted against `atLeast` (N ≥ 1, since "at least 0" holds for everyone),
 *   `atMost` or `exactly`. No window means all time; `since` includes its instant.
 * - `neverPerformed` looks at all time; `firstPerformedWithin D` holds when the contact's first
 *   matching event is in the last D days.
 * - `totalRevenue` compares the contact's revenue in the condition's currency (0 when it has
 *   none, in the unit `revenueByCurrency` uses); `conversionCount` compares the number of
 *   conversions. Both take `gt gte lt lte` with a number or `between` with `[low, high]`, both
 *   ends included ("exactly 2 conversions" is `between [2, 2]`).
 * - `lastSeen`: `after` includes its instant, `before` does not, so `before X` and `after X`
 *   split contacts in two; both may be given (a range). A contact never seen satisfies neither.
 * - Negations, for the "pair a negation with a positive condition" rule: a condition is a
 *   negation when it holds for a contact with no data at all (no traits, events, revenue or
 *   conversions, never seen, member of nothing). That covers the negative trait operators,
 *   `neverPerformed`, `atMost N`, `exactly 0`, `totalRevenue lt 100`, a `not` around a positive
 *   condition, and a group whose answer for such a contact is true. A group (`and`/`or`) all of
 *   whose conditions are negations is refused, and so is a tree that is one negation on its own,
 *   since either would put every contact we know nothing about in the segment.
 * - Size: every node counts towards the 200 (groups and `not` included), which also bounds
 *   the depth; a `performed` has at most 20 filters.
 * - `memberOf` cycles are followed through `lookupSegment` (stored trees, already valid; a
 *   static segment ends the chain); a segment that does not exist is refused (`UNKNOWN_SEGMENT`).
 */
import {
  compileCondition,
  isoDateMillis,
  parsePropertyCondition,
  readPath,
} from '../shared/conditions';
import type { PropertyCondition, PropertyConditionInput } from '../shared/conditions';
import { ValidationError } from '../shared/errors';
import { isSupportedCurrency } from '../shared/money';
import { parseOneOf, requireText } from '../shared/text';
import type { JsonObject, JsonValue } from '../tracking/tracking.events';

export const segmentLimits = {
  conditions: 200,
  filtersPerCondition: 20,
  eventNameLength: 200,
  segmentIdLength: 200,
  /** Windows and relative dates reach back at most ten years. */
  maxDays: 3650,
} as const;

const dayMillis = 24 * 60 * 60 * 1000;

export const relativeDateOperators = ['withinLastDays', 'moreThanDaysAgo'] as const;
export type RelativeDateOperator = (typeof relativeDateOperators)[number];

export interface RelativeDateCondition {
  readonly property: string;
  readonly operator: RelativeDateOperator;
  /** Whole days. */
  readonly value: number;
}

export const countOperators = ['atLeast', 'atMost', 'exactly'] as const;
export type CountOperator = (typeof countOperators)[number];

export const amountOperators = ['gt', 'gte', 'lt', 'lte', 'between'] as const;
export type AmountOperator = (typeof amountOperators)[number];

export type EventWindow = { readonly lastDays: number } | { readonly since: string } | null;

/** An ISO-8601 date or date-time, or a number of days before `now`. */
export type PointInTime = string | { readonly daysAgo: number };

export type AmountComparison =
  | { readonly op: Exclude<AmountOperator, 'between'>; readonly value: number }
  | { readonly op: 'between'; readonly value: readonly [number, number] };

export interface GroupNode {
  readonly kind: 'and' | 'or';
  readonly conditions: readonly ConditionNode[];
}
export interface NotNode {
  readonly kind: 'not';
  readonly condition: ConditionNode;
}
export interface TraitNode {
  readonly kind: 'trait';
  readonly condition: PropertyCondition | RelativeDateCondition;
}
export interface PerformedNode {
  readonly kind: 'performed';
  readonly event: string;
  readonly filters: readonly PropertyCondition[];
  readonly count: { readonly op: CountOperator; readonly value: number };
  readonly window: EventWindow;
}
export interface NeverPerformedNode {
  readonly kind: 'neverPerformed';
  readonly event: string;
  readonly filters: readonly PropertyCondition[];
}
export interface FirstPerformedWithinNode {
  readonly kind: 'firstPerformedWithin';
  readonly event: string;
  readonly days: number;
}
export type TotalRevenueNode = {
  readonly kind: 'totalRevenue';
  readonly currency: string;
} & AmountComparison;
export type ConversionCountNode = { readonly kind: 'conversionCount' } & AmountComparison;
export interface LastSeenNode {
  readonly kind: 'lastSeen';
  readonly before?: PointInTime;
  readonly after?: PointInTime;
}
export interface MemberOfNode {
  readonly kind: 'memberOf';
  readonly segmentId: string;
}

export type ConditionNode =
  | GroupNode
  | NotNode
  | TraitNode
  | PerformedNode
  | NeverPerformedNode
  | FirstPerformedWithinNode
  | TotalRevenueNode
  | ConversionCountNode
  | LastSeenNode
  | MemberOfNode;

export const conditionKinds = [
  'and',
  'or',
  'not',
  'trait',
  'performed',
  'neverPerformed',
  'firstPerformedWithin',
  'totalRevenue',
  'conversionCount',
  'lastSeen',
  'memberOf',
] as const satisfies readonly ConditionNode['kind'][];

export interface ContactEvent {
  readonly name: string;
  /** Event time, milliseconds since the epoch. */
  readonly at: number;
  readonly properties: JsonObject;
}

export interface SegmentContact {
  readonly traits: JsonObject;
  readonly events: readonly ContactEvent[];
  readonly revenueByCurrency: Readonly<Record<string, number>>;
  readonly conversions: number;
  readonly lastSeenAt: number | null;
}

/** Answers `memberOf`; membership of other segments is kept by their own evaluation. */
export type IsMember = (segmentId: string) => boolean;

export interface ParseOptions {
  /** The id of the segment being defined, so that a reference to itself is refused. */
  readonly segmentId?: string;
  /**
   * A stored segment's tree, `'static'` for a static segment (it exists and references
   * nothing), or null when there is none; without it `memberOf` is not checked.
   */
  readonly lookupSegment?: StoredSegmentLookup;
}

export type StoredSegmentLookup = (segmentId: string) => ConditionNode | 'static' | null;

// ---------------------------------------------------------------------------------------------
// Validation

/** Validates raw input (JSON) into a tree; throws a ValidationError whose field is the path. */
export function parseConditionTree(input: unknown, options: ParseOptions = {}): ConditionNode {
  assertWithinSize(input);
  const tree = parseNode(input, '');
  assertNoOnlyNegations(tree, '');
  if (options.lookupSegment) assertNoCycle(tree, options.segmentId, options.lookupSegment);
  return tree;
}

type RawNode = { readonly [key: string]: unknown };

function fieldOf(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

/** Counts nodes without recursion, so a hostile depth cannot exhaust the stack first. */
function assertWithinSize(input: unknown): void {
  const pending: { readonly node: unknown; readonly path: string }[] = [{ node: input, path: '' }];
  let count = 0;
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    count += 1;
    if (count > segmentLimits.conditions) {
      throw new ValidationError(
        path,
        `a segment has at most ${segmentLimits.conditions} conditions, groups included`,
        'TOO_MANY_CONDITIONS',
      );
    }
    if (!isRecord(node)) continue;
    if (Array.isArray(node.conditions)) {
      const conditionsPath = fieldOf(path, 'conditions');
      for (let index = node.conditions.length - 1; index >= 0; index -= 1) {
        pending.push({ node: node.conditions[index], path: fieldOf(conditionsPath, index) });
      }
    } else if (node.kind === 'not' && node.condition !== undefined) {
      pending.push({ node: node.condition, path: fieldOf(path, 'condition') });
    }
  }
}

function parseNode(input: unknown, path: string): ConditionNode {
  if (!isRecord(input)) {
    throw new ValidationError(
      path,
      `${path || 'the tree'} must be a condition object`,
      'INVALID_CONDITION',
    );
  }
  const kind = parseOneOf(
    input.kind as string,
    conditionKinds,
    fieldOf(path, 'kind'),
    'UNKNOWN_KIND',
  );
  switch (kind) {
    case 'and':
    case 'or':
      return {
        kind,
        conditions: parseGroupConditions(input.conditions, fieldOf(path, 'conditions')),
      };
    case 'not':
      return { kind, condition: parseNode(input.condition, fieldOf(path, 'condition')) };
    case 'trait':
      return { kind, condition: parseTraitCondition(input, path) };
    case 'performed':
      return {
        kind,
        event: parseEventName(input.event, fieldOf(path, 'event')),
        filters: parseFilters(input.filters, fieldOf(path, 'filters')),
        count: parseCount(input.count, fieldOf(path, 'count')),
        window: parseWindow(input.window, fieldOf(path, 'window')),
      };
    case 'neverPerformed':
      return {
        kind,
        event: parseEventName(input.event, fieldOf(path, 'event')),
        filters: parseFilters(input.filters, fieldOf(path, 'filters')),
      };
    case 'firstPerformedWithin':
      return {
        kind,
        event: parseEventName(input.event, fieldOf(path, 'event')),
        days: parseDays(input.days, fieldOf(path, 'days')),
      };
    case 'totalRevenue':
      return {
        kind,
        currency: parseCurrency(input.currency, fieldOf(path, 'currency')),
        ...parseAmount(input, path),
      };
    case 'conversionCount':
      return { kind, ...parseAmount(input, path) };
    case 'lastSeen':
      return parseLastSeen(input, path);
    case 'memberOf':
      return {
        kind,
        segmentId: requireText(
          input.segmentId,
          fieldOf(path, 'segmentId'),
          segmentLimits.segmentIdLength,
        ),
      };
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}

function parseGroupConditions(input: unknown, field: string): ConditionNode[] {
  if (!Array.isArray(input)) {
    throw new ValidationError(field, `${field} must be a list of conditions`, 'INVALID_CONDITION');
  }
  if (input.length === 0) {
    throw new ValidationError(field, `${field} must hold at least one condition`, 'EMPTY_GROUP');
  }
  return input.map((node: unknown, index) => parseNode(node, fieldOf(field, index)));
}

function parseTraitCondition(
  input: RawNode,
  path: string,
): PropertyCondition | RelativeDateCondition {
  const { operator } = input;
  if (typeof operator === 'string' && isOneOf(relativeDateOperators, operator)) {
    // The property is checked by the shared parser, with an `exists` that takes no value.
    const { property } = parsePropertyCondition(
      { property: input.property, operator: 'exists' },
      path,
    );
    if (input.caseSensitive != null) {
      throw new ValidationError(
        fieldOf(path, 'caseSensitive'),
        `${operator} compares dates, not text`,
        'INVALID_VALUE',
      );
    }
    return { property, operator, value: parseDays(input.value, fieldOf(path, 'value')) };
  }
  return parsePropertyCondition(input as PropertyConditionInput, path);
}

function parseFilters(input: unknown, field: string): PropertyCondition[] {
  if (input == null) return [];
  if (!Array.isArray(input)) {
    throw new ValidationError(field, `${field} must be a list`, 'INVALID_VALUE');
  }
  if (input.length > segmentLimits.filtersPerCondition) {
    throw new ValidationError(
      field,
      `a condition has at most ${segmentLimits.filtersPerCondition} filters`,
      'TOO_MANY_FILTERS',
    );
  }
  return input.map((filter: unknown, index) => {
    const filterField = fieldOf(field, index);
    if (!isRecord(filter)) {
      throw new ValidationError(filterField, `${filterField} must be a condition`, 'INVALID_VALUE');
    }
    return parsePropertyCondition(filter, filterField);
  });
}

function parseEventName(input: unknown, field: string): string {
  return requireText(input, field, segmentLimits.eventNameLength);
}

function parseCount(input: unknown, field: string): PerformedNode['count'] {
  if (!isRecord(input)) {
    throw new ValidationError(field, `${field} must be { op, value }`, 'INVALID_VALUE');
  }
  const op = parseOneOf(
    input.op as string,
    countOperators,
    fieldOf(field, 'op'),
    'UNKNOWN_OPERATOR',
  );
  const value = input.value;
  const valueField = fieldOf(field, 'value');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      valueField,
      `${valueField} must be a whole number ≥ 0`,
      'INVALID_VALUE',
    );
  }
  if (op === 'atLeast' && value === 0) {
    throw new ValidationError(
      valueField,
      'at least 0 times holds for every contact; use at least 1',
      'INVALID_VALUE',
    );
  }
  return { op, value };
}

function parseWindow(input: unknown, field: string): EventWindow {
  if (input == null) return null;
  if (isRecord(input) && 'lastDays' in input && !('since' in input)) {
    return { lastDays: parseDays(input.lastDays, fieldOf(field, 'lastDays')) };
  }
  if (isRecord(input) && 'since' in input && !('lastDays' in input)) {
    return { since: parseDate(input.since, fieldOf(field, 'since')) };
  }
  throw new ValidationError(
    field,
    `${field} must be { lastDays } or { since }, or null`,
    'INVALID_VALUE',
  );
}

function parseDays(input: unknown, field: string): number {
  if (
    typeof input !== 'number' ||
    !Number.isInteger(input) ||
    input < 1 ||
    input > segmentLimits.maxDays
  ) {
    throw new ValidationError(
      field,
      `${field} must be a whole number of days from 1 to ${segmentLimits.maxDays}`,
      'INVALID_VALUE',
    );
  }
  return input;
}

function parseDate(input: unknown, field: string): string {
  if (typeof input !== 'string' || Number.isNaN(isoDateMillis(input))) {
    throw new ValidationError(
      field,
      `${field} must be an ISO-8601 date such as 2025-01-31 or 2025-01-31T09:00:00Z`,
      'INVALID_VALUE',
    );
  }
  return input;
}

function parsePointInTime(input: unknown, field: string): PointInTime {
  if (isRecord(input)) return { daysAgo: parseDays(input.daysAgo, fieldOf(field, 'daysAgo')) };
  return parseDate(input, field);
}

function parseCurrency(input: unknown, field: string): string {
  if (typeof input !== 'string' || !/^[A-Z]{3}$/.test(input) || !isSupportedCurrency(input)) {
    throw new ValidationError(
      field,
      `${field} must be an ISO-4217 code such as USD`,
      'INVALID_CURRENCY',
    );
  }
  return input;
}

function parseAmount(input: RawNode, path: string): AmountComparison {
  const op = parseOneOf(
    input.op as string,
    amountOperators,
    fieldOf(path, 'op'),
    'UNKNOWN_OPERATOR',
  );
  const field = fieldOf(path, 'value');
  const { value } = input;
  if (op !== 'between') {
    return { op, value: finiteNumber(value, field) };
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new ValidationError(field, `${field} must be a pair [low, high]`, 'INVALID_VALUE');
  }
  const low = finiteNumber(value[0], field);
  const high = finiteNumber(value[1], field);
  if (low > high) {
    throw new ValidationError(
      field,
      `${field} must be [low, high] with low ≤ high`,
      'INVALID_VALUE',
    );
  }
  return { op, value: [low, high] };
}

function finiteNumber(input: unknown, field: string): number {
  if (typeof input !== 'number' || !Number.isFinite(input)) {
    throw new ValidationError(field, `${field} must be a finite number`, 'INVALID_VALUE');
  }
  return input;
}

function parseLastSeen(input: RawNode, path: string): LastSeenNode {
  if (input.before == null && input.after == null) {
    throw new ValidationError(
      fieldOf(path, 'before'),
      'lastSeen needs before, after or both',
      'INVALID_VALUE',
    );
  }
  return {
    kind: 'lastSeen',
    ...(input.before == null
      ? {}
      : { before: parsePointInTime(input.before, fieldOf(path, 'before')) }),
    ...(input.after == null
      ? {}
      : { after: parsePointInTime(input.after, fieldOf(path, 'after')) }),
  };
}

function assertNoOnlyNegations(tree: ConditionNode, path: string): void {
  if (tree.kind !== 'and' && tree.kind !== 'or' && isNegation(tree)) {
    throw new ValidationError(
      fieldOf(path, 'kind'),
      'a segment of a single negation matches every contact we know nothing about; ' +
        'pair a negation with a positive condition',
      'ONLY_NEGATIONS',
    );
  }
  walkGroups(tree, path);
}

function walkGroups(node: ConditionNode, path: string): void {
  if (node.kind === 'not') {
    walkGroups(node.condition, fieldOf(path, 'condition'));
    return;
  }
  if (node.kind !== 'and' && node.kind !== 'or') return;
  const field = fieldOf(path, 'conditions');
  node.conditions.forEach((child, index) => walkGroups(child, fieldOf(field, index)));
  if (node.conditions.every(isNegation)) {
    throw new ValidationError(
      field,
      'a group of only negations matches every contact we know nothing about; ' +
        'pair a negation with a positive condition',
      'ONLY_NEGATIONS',
    );
  }
}

const emptyContact: SegmentContact = {
  traits: {},
  events: [],
  revenueByCurrency: {},
  conversions: 0,
  lastSeenAt: null,
};

/**
 * A negation holds for a contact with no data. Nothing in such a contact depends on time, so
 * any `now` gives the same answer; `memberOf` is taken as false (we know of no membership).
 */
export function isNegation(node: ConditionNode): boolean {
  return evaluate(node, emptyContact, 0, () => false);
}

function assertNoCycle(
  tree: ConditionNode,
  segmentId: string | undefined,
  lookupSegment: StoredSegmentLookup,
): void {
  const finished = new Set<string>();
  const visit = (referenced: string, chain: readonly string[], field: string): void => {
    if (referenced === segmentId || chain.includes(referenced)) {
      const cycle = [segmentId ?? 'this segment', ...chain, referenced].join(' → ');
      throw new ValidationError(
        field,
        `segments may not include one another in a circle: ${cycle}`,
        'SEGMENT_CYCLE',
      );
    }
    if (finished.has(referenced)) return;
    const stored = lookupSegment(referenced);
    if (stored === null) {
      throw new ValidationError(field, `segment ${referenced} does not exist`, 'UNKNOWN_SEGMENT');
    }
    // A static segment's members are listed by hand, so no chain goes on through it.
    if (stored !== 'static') {
      for (const next of memberships(stored, ''))
        visit(next.segmentId, [...chain, referenced], field);
    }
    finished.add(referenced);
  };
  for (const { segmentId: referenced, field } of memberships(tree, ''))
    visit(referenced, [], field);
}

function memberships(node: ConditionNode, path: string): { segmentId: string; field: string }[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.conditions.flatMap((child, index) =>
        memberships(child, fieldOf(fieldOf(path, 'conditions'), index)),
      );
    case 'not':
      return memberships(node.condition, fieldOf(path, 'condition'));
    case 'memberOf':
      return [{ segmentId: node.segmentId, field: fieldOf(path, 'segmentId') }];
    default:
      return [];
  }
}

/**
 * The tree in the shape clients send (a trait condition's fields on the node itself), so a
 * stored tree read back can be sent again as it is; `parseConditionTree` gives the same tree.
 */
export function conditionTreeInput(node: ConditionNode): JsonValue {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, conditions: node.conditions.map(conditionTreeInput) };
    case 'not':
      return { kind: 'not', condition: conditionTreeInput(node.condition) };
    case 'trait':
      return { kind: 'trait', ...(node.condition as unknown as JsonObject) };
    default:
      return node as unknown as JsonValue;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** Does the contact belong to the segment at `now`? */
export function evaluate(
  node: ConditionNode,
  contact: SegmentContact,
  now: number,
  isMember: IsMember = noMembership,
): boolean {
  switch (node.kind) {
    case 'and':
      return node.conditions.every((child) => evaluate(child, contact, now, isMember));
    case 'or':
      return node.conditions.some((child) => evaluate(child, contact, now, isMember));
    case 'not':
      return !evaluate(node.condition, contact, now, isMember);
    case 'trait':
      return traitHolds(node.condition, contact.traits, now);
    case 'performed': {
      const since = windowStart(node.window, now);
      const count = matchingEvents(node, contact).filter((at) => at >= since && at <= now).length;
      return countHolds(node.count, count);
    }
    case 'neverPerformed':
      return !matchingEvents(node, contact).some((at) => at <= now);
    case 'firstPerformedWithin': {
      const first = firstMatching(node, contact);
      return first !== null && first >= now - node.days * dayMillis && first <= now;
    }
    case 'totalRevenue':
      return amountHolds(node, contact.revenueByCurrency[node.currency] ?? 0);
    case 'conversionCount':
      return amountHolds(node, contact.conversions);
    case 'lastSeen': {
      const seen = contact.lastSeenAt;
      if (seen === null) return false;
      return (
        (node.before === undefined || seen < instantOf(node.before, now)) &&
        (node.after === undefined || seen >= instantOf(node.after, now))
      );
    }
    case 'memberOf':
      return isMember(node.segmentId);
    default: {
      const _exhaustive: never = node;
      return _exhaustive;
    }
  }
}

function noMembership(segmentId: string): boolean {
  throw new Error(`evaluating memberOf ${segmentId} needs an isMember callback`);
}

function traitHolds(
  condition: PropertyCondition | RelativeDateCondition,
  traits: JsonObject,
  now: number,
): boolean {
  const value = readPath(traits, condition.property);
  if (!isRelativeDate(condition)) return compiled(condition)(value);
  const horizon = now - condition.value * dayMillis;
  const holds =
    condition.operator === 'withinLastDays'
      ? (at: number) => at >= horizon && at <= now
      : (at: number) => at < horizon;
  return traitDates(value).some(holds);
}

/** Compiling is the costly part of a condition, and a tree is evaluated for many contacts. */
const compiledConditions = new WeakMap<
  PropertyCondition,
  (value: JsonValue | undefined) => boolean
>();

function compiled(condition: PropertyCondition): (value: JsonValue | undefined) => boolean {
  let predicate = compiledConditions.get(condition);
  if (predicate === undefined) {
    predicate = compileCondition(condition);
    compiledConditions.set(condition, predicate);
  }
  return predicate;
}

/** The dates a trait holds: itself, or the elements of a list, as the property conditions read lists. */
function traitDates(value: JsonValue | undefined): number[] {
  const candidates = Array.isArray(value) ? value : [value];
  return candidates
    .map((candidate) => (typeof candidate === 'string' ? isoDateMillis(candidate) : Number.NaN))
    .filter((at) => !Number.isNaN(at));
}

function isRelativeDate(
  condition: PropertyCondition | RelativeDateCondition,
): condition is RelativeDateCondition {
  return isOneOf(relativeDateOperators, condition.operator);
}

/** Instants of the events that match by name and filters, whatever their time. */
function matchingEvents(
  node: { readonly event: string; readonly filters?: readonly PropertyCondition[] },
  contact: SegmentContact,
): number[] {
  const filters = (node.filters ?? []).map((filter) => ({
    property: filter.property,
    holds: compiled(filter),
  }));
  const instants: number[] = [];
  for (const event of contact.events) {
    if (event.name !== node.event) continue;
    if (filters.every(({ property, holds }) => holds(readPath(event.properties, property)))) {
      instants.push(event.at);
    }
  }
  return instants;
}

function firstMatching(node: FirstPerformedWithinNode, contact: SegmentContact): number | null {
  const instants = matchingEvents(node, contact);
  return instants.length === 0 ? null : Math.min(...instants);
}

function windowStart(window: EventWindow, now: number): number {
  if (window === null) return -Infinity;
  if ('lastDays' in window) return now - window.lastDays * dayMillis;
  return isoDateMillis(window.since);
}

function countHolds({ op, value }: PerformedNode['count'], count: number): boolean {
  switch (op) {
    case 'atLeast':
      return count >= value;
    case 'atMost':
      return count <= value;
    case 'exactly':
      return count === value;
    default: {
      const _exhaustive: never = op;
      return _exhaustive;
    }
  }
}

function amountHolds(comparison: AmountComparison, amount: number): boolean {
  switch (comparison.op) {
    case 'gt':
      return amount > comparison.value;
    case 'gte':
      return amount >= comparison.value;
    case 'lt':
      return amount < comparison.value;
    case 'lte':
      return amount <= comparison.value;
    case 'between':
      return amount >= comparison.value[0] && amount <= comparison.value[1];
    default: {
      const _exhaustive: never = comparison;
      return _exhaustive;
    }
  }
}

function instantOf(point: PointInTime, now: number): number {
  return typeof point === 'string' ? isoDateMillis(point) : now - point.daysAgo * dayMillis;
}

// ---------------------------------------------------------------------------------------------
// What a tree reads, and when time changes its answer

export interface SegmentReads {
  /** Top-level trait names (the first segment of each path), sorted. */
  readonly traits: readonly string[];
  /** Event names, sorted. */
  readonly events: readonly string[];
  readonly revenue: boolean;
  readonly conversions: boolean;
  readonly lastSeen: boolean;
  /** Segments whose membership the tree reads, sorted. */
  readonly segments: readonly string[];
}

/** What a change to a contact must touch for the answer to possibly change. */
export function readsOf(tree: ConditionNode): SegmentReads {
  const traits = new Set<string>();
  const events = new Set<string>();
  const segments = new Set<string>();
  const reads = { revenue: false, conversions: false, lastSeen: false };
  const visit = (node: ConditionNode): void => {
    switch (node.kind) {
      case 'and':
      case 'or':
        node.conditions.forEach(visit);
        return;
      case 'not':
        visit(node.condition);
        return;
      case 'trait':
        traits.add(node.condition.property.split('.')[0]);
        return;
      case 'performed':
      case 'neverPerformed':
      case 'firstPerformedWithin':
        events.add(node.event);
        return;
      case 'totalRevenue':
        reads.revenue = true;
        return;
      case 'conversionCount':
        reads.conversions = true;
        return;
      case 'lastSeen':
        reads.lastSeen = true;
        return;
      case 'memberOf':
        segments.add(node.segmentId);
        return;
      default: {
        const _exhaustive: never = node;
        return _exhaustive;
      }
    }
  };
  visit(tree);
  return {
    traits: [...traits].sort(),
    events: [...events].sort(),
    segments: [...segments].sort(),
    ...reads,
  };
}

/** Beyond this many instants to try, `nextChange` answers the earliest one, which may not flip. */
const exactCandidates = 1000;

/**
 * The earliest instant after `now` at which the answer may change with nothing but time passing
 * (an event sliding out of a window, a future-dated event or trait date coming due), or null.
 * Every leaf's answer is constant between the instants `changeInstants` lists, so trying each in
 * order finds the first real flip. Membership of other segments is taken as fixed: their own
 * `nextChange` covers them.
 */
export function nextChange(
  tree: ConditionNode,
  contact: SegmentContact,
  now: number,
  isMember: IsMember = noMembership,
): number | null {
  const candidates = [...new Set(changeInstants(tree, contact, now))]
    .filter((at) => at > now)
    .sort((a, b) => a - b);
  if (candidates.length === 0) return null;
  if (candidates.length > exactCandidates) return candidates[0];
  const current = evaluate(tree, contact, now, isMember);
  return candidates.find((at) => evaluate(tree, contact, at, isMember) !== current) ?? null;
}

/** Instants at which a leaf's answer may differ from the instant before (a superset). */
function changeInstants(node: ConditionNode, contact: SegmentContact, now: number): number[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.conditions.flatMap((child) => changeInstants(child, contact, now));
    case 'not':
      return changeInstants(node.condition, contact, now);
    case 'trait': {
      const { condition } = node;
      if (!isRelativeDate(condition)) return [];
      const span = condition.value * dayMillis;
      return traitDates(readPath(contact.traits, condition.property)).flatMap((at) => [
        at,
        at + span + 1,
      ]);
    }
    case 'performed': {
      const { window } = node;
      const span = window !== null && 'lastDays' in window ? window.lastDays * dayMillis : null;
      // An event enters at its instant and, in a sliding window, leaves just after D days.
      return matchingEvents(node, contact).flatMap((at) =>
        span === null ? [at] : [at, at + span + 1],
      );
    }
    case 'neverPerformed':
      return matchingEvents(node, contact);
    case 'firstPerformedWithin': {
      const first = firstMatching(node, contact);
      return first === null ? [] : [first, first + node.days * dayMillis + 1];
    }
    case 'lastSeen': {
      const seen = contact.lastSeenAt;
      if (seen === null) return [];
      return [node.before, node.after].flatMap((point) =>
        point !== undefined && typeof point !== 'string'
          ? [seen + point.daysAgo * dayMillis + 1]
          : [],
      );
    }
    case 'totalRevenue':
    case 'conversionCount':
    case 'memberOf':
      return [];
    default: {
      const _exhaustive: never = node;
      return _exhaustive;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(input: unknown): input is RawNode {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
