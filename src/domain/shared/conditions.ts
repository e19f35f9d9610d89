/**
 * Property conditions: `plan eq "pro"`, `amount between [10, 50]`, `email endsWith "@acme.io"`.
 * Funnel step filters use them now; segment trait conditions will (ANALYTICS.md, "Segments").
 * `parsePropertyCondition` checks raw input once; `compileCondition` turns a condition into a
 * predicate that is called for every event, so all the work that can be done once is done there.
 *
 * What a condition means, with the choices ANALYTICS.md leaves open:
 * - Missing and null: a missing property (undefined) or a null value satisfies only the negative
 *   operators `neq`, `notIn`, `notContains`, `notExists`. Each negative operator is exactly the
 *   complement of its positive one (`neq` is `!eq`, `notIn` is `!in`, `notContains` is
 *   `!contains`, `notExists` is `!exists`), so it also holds for a value of another type
 *   (`notContains` on a boolean). `exists` holds for any present non-null value, `[]` and `{}`
 *   included.
 * - Lists: an array property satisfies a positive operator when one of its elements does
 *   (PostHog's rule for list properties), for every operator but `exists`. Elements are looked at
 *   one level deep; an object never matches a value.
 * - Equality (`eq neq in notIn`): the values are strings, numbers or booleans. A number and a
 *   numeric string compare numerically, either way round (`"19.99"` eq 19.99, `"007"` eq 7); two
 *   strings compare as text (`"7.0"` is not `"7"`); a boolean equals only the same boolean
 *   (`"true"` is not `true`). A numeric string is plain decimal notation with an optional sign and
 *   exponent: `"1e3"` is one, `""`, `" 1"`, `"0x10"` and `"Infinity"` are not.
 * - Order (`gt gte lt lte between`): the bound is a finite number or an ISO-8601 date or
 *   date-time. A number bound compares with numbers and numeric strings, a date bound with strings
 *   that are ISO-8601 dates; anything else is false. Dates are read strictly (`YYYY-MM-DD`, then
 *   optionally `T` or a space and `hh:mm[:ss[.fraction]]`, then optionally `Z` or `±hh[:]mm`, with
 *   real calendar fields) instead of with `Date.parse`, whose lenient parser reads "1" as the year
 *   2001 and an offset-less time in the server's zone: here a date-time without an offset is UTC
 *   and a bare date is midnight UTC. `between [low, high]` includes both ends; both bounds are of
 *   the same kind and low ≤ high.
 * - Text (`contains notContains startsWith endsWith regex`): tested on strings, and on numbers
 *   through `String()`; booleans and objects never match. A text value is a non-empty string.
 * - Case: text comparisons (and string equality) are case-sensitive unless `caseSensitive: false`,
 *   which lower-cases both sides with `toLowerCase` (locale-independent) or adds the `i` flag to a
 *   regex. Numbers, booleans and dates are not affected.
 * - Regex guard: the pattern (at most 200 characters, JavaScript syntax without flags) must compile
 *   and must not repeat a group that itself holds a quantifier or an alternation (`(a+)+`,
 *   `(a*)*`, `(a|aa)+`, `(.*a){3,}`), the shape of catastrophic backtracking. It is a heuristic: it
 *   also refuses harmless patterns such as `(ab|cd)+` and misses slow ones such as `a*a*a*b`;
 *   an optional group (`(a+)?`, `{0,1}`) is allowed since it does not repeat.
 * - Paths: the property is a dot path, trimmed, with no empty segment; a segment is an object key
 *   (own keys only) or, on an array, a decimal index without leading zeros (`items.0.sku`).
 * - Sameness (`sameCondition`): same path and operator, and values that mean the same: numbers
 *   and dates by value, `in` lists as sets, strings ignoring case when the condition does, and
 *   `caseSensitive` only where it changes the result.
 */
import type { JsonObject, JsonValue } from '../tracking/tracking.events';
import { ValidationError } from './errors';

export const conditionOperators = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'in',
  'notIn',
  'contains',
  'notContains',
  'startsWith',
  'endsWith',
  'regex',
  'exists',
  'notExists',
] as const;

export type ConditionOperator = (typeof conditionOperators)[number];

export interface PropertyCondition {
  /** A dot path, e.g. `plan` or `items.0.sku`. */
  readonly property: string;
  readonly operator: ConditionOperator;
  /** Null for `exists` / `notExists`. */
  readonly value: JsonValue | null;
  /** True unless the condition says otherwise (ANALYTICS.md). */
  readonly caseSensitive: boolean;
}

/** Raw input as GraphQL / JSON hands it in. */
export interface PropertyConditionInput {
  readonly property?: unknown;
  readonly operator?: unknown;
  readonly value?: unknown;
  readonly caseSensitive?: unknown;
}

export const conditionLimits = {
  propertyLength: 200,
  stringValueLength: 1000,
  listLength: 1000,
  regexLength: 200,
} as const;

/** Validates and normalises raw input; throws a ValidationError naming the offending field. */
export function parsePropertyCondition(
  input: PropertyConditionInput,
  field: string,
): PropertyCondition {
  // A condition at the root of a tree has no path of its own: its fields are named alone.
  const at = (key: string) => (field === '' ? key : `${field}.${key}`);
  const property = parseProperty(input.property, at('property'));
  const operator = parseOperator(input.operator, at('operator'));
  const value = parseValue(operator, input.value, at('value'));
  const caseSensitive = parseCaseSensitive(input.caseSensitive, at('caseSensitive'));
  return { property, operator, value, caseSensitive };
}

/** A predicate over the property's value (undefined: the property is missing). */
export function compileCondition(
  condition: PropertyCondition,
): (value: JsonValue | undefined) => boolean {
  const { operator } = condition;
  switch (operator) {
    case 'exists':
      return isPresent;
    case 'notExists':
      return (value) => !isPresent(value);
    case 'neq':
    case 'notIn':
    case 'notContains': {
      const positive = compileMatcher(condition, positiveOf[operator]);
      return (value) => !positive(value);
    }
    default:
      return compileMatcher(condition, operator);
  }
}

/** Reads a dot path; undefined when a segment is missing. Array indexes are decimal segments. */
export function readPath(object: JsonObject, path: string): JsonValue | undefined {
  let current: JsonValue | undefined = object;
  for (const segment of segmentsOf(path)) {
    if (current === undefined) return undefined;
    current = childOf(current, segment);
  }
  return current;
}

/** Two conditions mean the same (for "an exclusion equal to a step" checks). */
export function sameCondition(a: PropertyCondition, b: PropertyCondition): boolean {
  return meaningOf(a) === meaningOf(b);
}

type Scalar = string | number | boolean;
type PositiveOperator = Exclude<ConditionOperator, 'neq' | 'notIn' | 'notContains' | 'notExists'>;
type Bound = { readonly kind: 'number' | 'date'; readonly at: number };
type ScalarMatcher = (value: Scalar) => boolean;

const positiveOf = { neq: 'eq', notIn: 'in', notContains: 'contains' } as const;

function parseProperty(input: unknown, field: string): string {
  const property = typeof input === 'string' ? input.trim() : '';
  if (property.length === 0) {
    throw new ValidationError(field, `${field} must be a non-empty dot path`, 'INVALID_PROPERTY');
  }
  if (property.length > conditionLimits.propertyLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${conditionLimits.propertyLength} characters`,
      'INVALID_PROPERTY',
    );
  }
  if (property.split('.').some((segment) => segment.length === 0)) {
    throw new ValidationError(
      field,
      `"${property}" has an empty path segment; write paths such as items.0.sku`,
      'INVALID_PROPERTY',
    );
  }
  return property;
}

function parseOperator(input: unknown, field: string): ConditionOperator {
  if (typeof input !== 'string' || !isOneOf(conditionOperators, input)) {
    throw new ValidationError(
      field,
      `unknown operator ${describe(input)}; expected one of ${conditionOperators.join(', ')}`,
      'UNKNOWN_OPERATOR',
    );
  }
  return input;
}

function parseCaseSensitive(input: unknown, field: string): boolean {
  if (input == null) return true;
  if (typeof input !== 'boolean') {
    throw new ValidationError(field, `${field} must be true or false`, 'INVALID_VALUE');
  }
  return input;
}

function parseValue(operator: ConditionOperator, input: unknown, field: string): JsonValue | null {
  switch (operator) {
    case 'eq':
    case 'neq':
      return scalarOf(input, field);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      boundOf(input, field);
      return input as string | number;
    case 'between':
      rangeOf(input, field);
      return [...(input as readonly [Scalar, Scalar])];
    case 'in':
    case 'notIn':
      return scalarsOf(input, field);
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      return textOf(input, field);
    case 'regex':
      patternOf(input, true, field);
      return input as string;
    case 'exists':
    case 'notExists':
      if (input != null) {
        throw new ValidationError(field, `${operator} takes no value`, 'INVALID_VALUE');
      }
      return null;
    default: {
      const _exhaustive: never = operator;
      return _exhaustive;
    }
  }
}

/** The typed reading of a value, shared by parsing and compiling so both apply the same rules. */
function scalarOf(input: unknown, field: string): Scalar {
  if (typeof input === 'boolean') return input;
  if (typeof input === 'number' && Number.isFinite(input)) return input;
  if (typeof input === 'string') return boundedString(input, field);
  throw new ValidationError(
    field,
    `${field} must be a string, a finite number or a boolean, got ${describe(input)}`,
    'INVALID_VALUE',
  );
}

function scalarsOf(input: unknown, field: string): Scalar[] {
  if (!Array.isArray(input) || input.length === 0) {
    throw new ValidationError(field, `${field} must be a non-empty list`, 'INVALID_VALUE');
  }
  if (input.length > conditionLimits.listLength) {
    throw new ValidationError(
      field,
      `${field} must list at most ${conditionLimits.listLength} values, got ${input.length}`,
      'INVALID_VALUE',
    );
  }
  return input.map((item: unknown) => scalarOf(item, field));
}

function textOf(input: unknown, field: string): string {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ValidationError(field, `${field} must be a non-empty string`, 'INVALID_VALUE');
  }
  return boundedString(input, field);
}

function boundedString(input: string, field: string): string {
  if (input.length > conditionLimits.stringValueLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${conditionLimits.stringValueLength} characters`,
      'INVALID_VALUE',
    );
  }
  return input;
}

function boundOf(input: unknown, field: string): Bound {
  if (typeof input === 'number' && Number.isFinite(input)) return { kind: 'number', at: input };
  const at = typeof input === 'string' ? isoDateMillis(input) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new ValidationError(
      field,
      `${field} must be a finite number or an ISO-8601 date such as 2025-01-31 or ` +
        `2025-01-31T09:00:00Z, got ${describe(input)}`,
      'INVALID_VALUE',
    );
  }
  return { kind: 'date', at };
}

function rangeOf(input: unknown, field: string): readonly [Bound, Bound] {
  if (!Array.isArray(input) || input.length !== 2) {
    throw new ValidationError(field, `${field} must be a pair [low, high]`, 'INVALID_VALUE');
  }
  const low = boundOf(input[0], field);
  const high = boundOf(input[1], field);
  if (low.kind !== high.kind) {
    throw new ValidationError(
      field,
      `${field} must be two numbers or two dates, not a ${low.kind} and a ${high.kind}`,
      'INVALID_VALUE',
    );
  }
  if (low.at > high.at) {
    throw new ValidationError(
      field,
      `${field} must be [low, high] with low ≤ high`,
      'INVALID_VALUE',
    );
  }
  return [low, high];
}

function patternOf(input: unknown, caseSensitive: boolean, field: string): RegExp {
  if (typeof input !== 'string' || input.length === 0) {
    throw new ValidationError(field, `${field} must be a non-empty pattern`, 'INVALID_VALUE');
  }
  if (input.length > conditionLimits.regexLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${conditionLimits.regexLength} characters`,
      'UNSAFE_REGEX',
    );
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(input, caseSensitive ? '' : 'i');
  } catch (error) {
    throw new ValidationError(
      field,
      `${field} is not a valid regular expression: ${(error as Error).message}`,
      'UNSAFE_REGEX',
    );
  }
  if (repeatsAQuantifiedGroup(input)) {
    throw new ValidationError(
      field,
      `${field} repeats a group that holds a quantifier or an alternation, as in (a+)+; ` +
        'such patterns can take exponential time',
      'UNSAFE_REGEX',
    );
  }
  return pattern;
}

/**
 * The catastrophic-backtracking heuristic: walks the pattern once, remembering for each open group
 * whether it holds a quantifier or an alternation, and reports a group with such content that is
 * followed by a quantifier allowing more than one repetition. The pattern has compiled already,
 * so the walk can trust its syntax.
 */
function repeatsAQuantifiedGroup(source: string): boolean {
  const openGroups: boolean[] = [false];
  let index = 0;
  while (index < source.length) {
    const char = source[index];
    let closedGroupIsRisky = false;
    if (char === '(') {
      openGroups.push(false);
      index = afterGroupOpening(source, index);
      continue;
    }
    if (char === '|') {
      openGroups[openGroups.length - 1] = true;
      index += 1;
      continue;
    }
    if (char === ')') {
      closedGroupIsRisky = openGroups.pop() ?? false;
      index += 1;
    } else if (char === '[') {
      index = afterCharacterClass(source, index);
    } else {
      index += char === '\\' ? 2 : 1;
    }
    const quantifier = quantifierAt(source, index);
    if (quantifier && quantifier.repeats && closedGroupIsRisky) return true;
    if (quantifier || closedGroupIsRisky) openGroups[openGroups.length - 1] = true;
    index += quantifier?.length ?? 0;
  }
  return false;
}

function afterGroupOpening(source: string, index: number): number {
  if (source[index + 1] !== '?') return index + 1;
  if (source[index + 2] !== '<' || '=!'.includes(source[index + 3])) {
    return index + (source[index + 2] === '<' ? 4 : 3);
  }
  return source.indexOf('>', index) + 1;
}

function afterCharacterClass(source: string, index: number): number {
  let cursor = index + 1;
  if (source[cursor] === '^') cursor += 1;
  while (cursor < source.length && source[cursor] !== ']') {
    cursor += source[cursor] === '\\' ? 2 : 1;
  }
  return cursor + 1;
}

const braceQuantifier = /\{(\d+)(,(\d*))?\}/y;

function quantifierAt(
  source: string,
  index: number,
): { readonly length: number; readonly repeats: boolean } | null {
  const char = source[index];
  let length: number;
  let repeats: boolean;
  if (char === '*' || char === '+' || char === '?') {
    length = 1;
    repeats = char !== '?';
  } else {
    braceQuantifier.lastIndex = index;
    const match = braceQuantifier.exec(source);
    if (!match) return null;
    const [text, min, comma, max] = match;
    const most = comma === undefined ? Number(min) : max === '' ? Infinity : Number(max);
    length = text.length;
    repeats = most > 1;
  }
  // A lazy quantifier (`+?`) backtracks just the same.
  return { length: source[index + length] === '?' ? length + 1 : length, repeats };
}

function compileMatcher(
  condition: PropertyCondition,
  operator: PositiveOperator,
): (value: JsonValue | undefined) => boolean {
  const matchesScalar = compileScalarMatcher(condition, operator);
  return (value) => {
    if (value === null || value === undefined) return false;
    if (typeof value !== 'object') return matchesScalar(value);
    if (!isJsonArray(value)) return false;
    for (const element of value) {
      if (element !== null && typeof element !== 'object' && matchesScalar(element)) return true;
    }
    return false;
  };
}

function compileScalarMatcher(
  { value, caseSensitive }: PropertyCondition,
  operator: PositiveOperator,
): ScalarMatcher {
  const field = 'condition.value';
  switch (operator) {
    case 'eq':
      return equalsOneOf([scalarOf(value, field)], caseSensitive);
    case 'in':
      return equalsOneOf(scalarsOf(value, field), caseSensitive);
    case 'gt': {
      const bound = boundOf(value, field);
      return comparing(bound.kind, (at) => at > bound.at);
    }
    case 'gte': {
      const bound = boundOf(value, field);
      return comparing(bound.kind, (at) => at >= bound.at);
    }
    case 'lt': {
      const bound = boundOf(value, field);
      return comparing(bound.kind, (at) => at < bound.at);
    }
    case 'lte': {
      const bound = boundOf(value, field);
      return comparing(bound.kind, (at) => at <= bound.at);
    }
    case 'between': {
      const [low, high] = rangeOf(value, field);
      return comparing(low.kind, (at) => at >= low.at && at <= high.at);
    }
    case 'contains': {
      const needle = foldCase(textOf(value, field), caseSensitive);
      return testingText(caseSensitive, (text) => text.includes(needle));
    }
    case 'startsWith': {
      const prefix = foldCase(textOf(value, field), caseSensitive);
      return testingText(caseSensitive, (text) => text.startsWith(prefix));
    }
    case 'endsWith': {
      const suffix = foldCase(textOf(value, field), caseSensitive);
      return testingText(caseSensitive, (text) => text.endsWith(suffix));
    }
    case 'regex': {
      // The `i` flag does the case folding, so the text is passed as it is.
      const pattern = patternOf(value, caseSensitive, field);
      return testingText(true, (text) => pattern.test(text));
    }
    case 'exists':
      return () => true;
    default: {
      const _exhaustive: never = operator;
      return _exhaustive;
    }
  }
}

/** Equality as `eq` defines it, against a set of values looked up in constant time. */
function equalsOneOf(values: readonly Scalar[], caseSensitive: boolean): ScalarMatcher {
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const numbersWrittenAsStrings = new Set<number>();
  const booleans = new Set<boolean>();
  for (const value of values) {
    if (typeof value === 'boolean') booleans.add(value);
    else if (typeof value === 'number') numbers.add(value);
    else {
      strings.add(foldCase(value, caseSensitive));
      const number = numericValue(value);
      if (!Number.isNaN(number)) numbersWrittenAsStrings.add(number);
    }
  }
  return (property) => {
    if (typeof property === 'string') {
      if (strings.has(foldCase(property, caseSensitive))) return true;
      return numbers.size > 0 && numbers.has(numericValue(property));
    }
    if (typeof property === 'number') {
      return numbers.has(property) || numbersWrittenAsStrings.has(property);
    }
    return booleans.has(property);
  };
}

function comparing(kind: Bound['kind'], holds: (at: number) => boolean): ScalarMatcher {
  return kind === 'number'
    ? (property) => {
        const at = typeof property === 'string' ? numericValue(property) : property;
        return typeof at === 'number' && !Number.isNaN(at) && holds(at);
      }
    : (property) => {
        if (typeof property !== 'string') return false;
        const at = isoDateMillis(property);
        return !Number.isNaN(at) && holds(at);
      };
}

function testingText(caseSensitive: boolean, holds: (text: string) => boolean): ScalarMatcher {
  return (property) => {
    if (typeof property === 'boolean') return false;
    return holds(
      foldCase(typeof property === 'string' ? property : String(property), caseSensitive),
    );
  };
}

function foldCase(text: string, caseSensitive: boolean): string {
  return caseSensitive ? text : text.toLowerCase();
}

const numericPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a numeric string writes, NaN for any other string. */
function numericValue(text: string): number {
  if (!numericPattern.test(text)) return Number.NaN;
  const number = Number(text);
  return Number.isFinite(number) ? number : Number.NaN;
}

const isoDatePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

/** Milliseconds since the epoch of an ISO-8601 date or date-time (UTC without offset), else NaN. */
export function isoDateMillis(text: string): number {
  const match = isoDatePattern.exec(text);
  if (!match) return Number.NaN;
  const [, year, month, day, hour, minute, second, fraction, , sign, offsetHour, offsetMinute] =
    match;
  const fields = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour ?? 0),
    minute: Number(minute ?? 0),
    second: Number(second ?? 0),
    offsetHour: Number(offsetHour ?? 0),
    offsetMinute: Number(offsetMinute ?? 0),
  };
  if (
    fields.month < 1 ||
    fields.month > 12 ||
    fields.day < 1 ||
    fields.day > daysInMonth(fields.year, fields.month) ||
    fields.hour > 23 ||
    fields.minute > 59 ||
    fields.second > 59 ||
    fields.offsetHour > 23 ||
    fields.offsetMinute > 59
  ) {
    return Number.NaN;
  }
  const millis = Number(((fraction ?? '') + '000').slice(0, 3));
  const offset = (sign === '-' ? -1 : 1) * (fields.offsetHour * 60 + fields.offsetMinute);
  return (
    Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second) +
    millis -
    offset * 60_000
  );
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

interface PathSegment {
  readonly key: string;
  /** The array index the segment writes, or -1 when it is no decimal index. */
  readonly index: number;
}

/**
 * Splitting a path on every read costs more than the lookups (sliced strings are hashed afresh),
 * and an event is read with the same few paths over and over, so their segments are kept. The
 * cache is bounded for callers that read arbitrary paths: when full it starts again.
 */
const segmentsByPath = new Map<string, readonly PathSegment[]>();
const segmentsCacheSize = 10_000;

function segmentsOf(path: string): readonly PathSegment[] {
  let segments = segmentsByPath.get(path);
  if (segments === undefined) {
    segments = path.split('.').map((key) => ({
      key,
      index: arrayIndexPattern.test(key) ? Number(key) : -1,
    }));
    if (segmentsByPath.size >= segmentsCacheSize) segmentsByPath.clear();
    segmentsByPath.set(path, segments);
  }
  return segments;
}

const arrayIndexPattern = /^(?:0|[1-9]\d*)$/;

function childOf(value: JsonValue, { key, index }: PathSegment): JsonValue | undefined {
  if (isJsonArray(value)) return index === -1 ? undefined : value[index];
  if (value === null || typeof value !== 'object') return undefined;
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

function isJsonArray(value: JsonValue): value is readonly JsonValue[] {
  return Array.isArray(value);
}

function isPresent(value: JsonValue | undefined): boolean {
  return value !== undefined && value !== null;
}

/** A canonical text of what a condition means; equal texts, same condition. */
function meaningOf(condition: PropertyCondition): string {
  const { property, operator, value, caseSensitive } = condition;
  const field = 'condition.value';
  // Case only matters where there is text; `i:` marks text compared ignoring case.
  const textKey = (text: string): string =>
    caseSensitive ? `s:${text}` : `i:${text.toLowerCase()}`;
  const scalarKey = (scalar: Scalar): string =>
    typeof scalar === 'string' ? textKey(scalar) : `${typeof scalar}:${scalar}`;
  const boundKey = (bound: Bound): string => `${bound.kind}:${bound.at}`;
  let valueKey: unknown;
  switch (operator) {
    case 'eq':
    case 'neq':
      valueKey = scalarKey(scalarOf(value, field));
      break;
    case 'in':
    case 'notIn':
      valueKey = [...new Set(scalarsOf(value, field).map(scalarKey))].sort();
      break;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      valueKey = boundKey(boundOf(value, field));
      break;
    case 'between':
      valueKey = rangeOf(value, field).map(boundKey);
      break;
    case 'contains':
    case 'notContains':
    case 'startsWith':
    case 'endsWith':
      valueKey = textKey(textOf(value, field));
      break;
    case 'regex':
      valueKey = [patternOf(value, caseSensitive, field).source, caseSensitive];
      break;
    case 'exists':
    case 'notExists':
      valueKey = null;
      break;
    default: {
      const _exhaustive: never = operator;
      valueKey = _exhaustive;
    }
  }
  return JSON.stringify([property, operator, valueKey]);
}

function describe(input: unknown): string {
  return input === undefined ? 'nothing' : (JSON.stringify(input) ?? String(input));
}

function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
