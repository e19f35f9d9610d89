import fc from 'fast-check';
import {
  compileCondition,
  conditionLimits,
  conditionOperators,
  parsePropertyCondition,
  readPath,
  sameCondition,
  type ConditionOperator,
  type PropertyConditionInput,
} from '../../src/domain/shared/conditions';
import type { JsonObject, JsonValue } from '../../src/domain/tracking/tracking.events';

function conditionOf(operator: ConditionOperator, value?: unknown, caseSensitive?: boolean) {
  return parsePropertyCondition({ property: 'plan', operator, value, caseSensitive }, 'filter');
}

/** Given a condition on `plan`, when the property holds `property`, does it match? */
function matches(
  operator: ConditionOperator,
  value: unknown,
  property: JsonValue | undefined,
  caseSensitive?: boolean,
): boolean {
  return compileCondition(conditionOf(operator, value, caseSensitive))(property);
}

/** The thrown ValidationError, read by its properties so a second module realm cannot fool it. */
function validationErrorOf(action: () => unknown): {
  name: string;
  kind: string;
  field: string;
  reason: string;
  message: string;
} {
  try {
    action();
  } catch (error) {
    const thrown = error as { name?: unknown };
    if (thrown.name === 'ValidationError') return error as ReturnType<typeof validationErrorOf>;
    throw error;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

const sampleValues: Record<ConditionOperator, unknown> = {
  eq: 'pro',
  neq: 'pro',
  gt: 1,
  gte: 1,
  lt: 1,
  lte: 1,
  between: [1, 2],
  in: ['pro'],
  notIn: ['pro'],
  contains: 'pro',
  notContains: 'pro',
  startsWith: 'pro',
  endsWith: 'pro',
  regex: 'pro',
  exists: null,
  notExists: null,
};

const negativeOperators = new Set<ConditionOperator>(['neq', 'notIn', 'notContains', 'notExists']);

describe('a missing or null property', () => {
  it.each(
    conditionOperators.flatMap((operator) => [
      [operator, undefined] as const,
      [operator, null] as const,
    ]),
  )(
    'given %s, when the property is %p, then only a negative operator matches',
    (operator, property) => {
      expect(matches(operator, sampleValues[operator], property)).toBe(
        negativeOperators.has(operator),
      );
    },
  );
});

describe('eq and neq', () => {
  it.each<[unknown, JsonValue, boolean]>([
    ['pro', 'pro', true],
    ['pro', 'Pro', false],
    ['pro', 'pro ', false],
    ['', '', true],
    [19.99, 19.99, true],
    [19.99, '19.99', true],
    [19.99, '19.990', true],
    [7, '007', true],
    ['007', 7, true],
    ['19.99', 19.99, true],
    ['7.0', '7', false],
    [1000, '1e3', true],
    [0, '', false],
    [1, ' 1', false],
    [16, '0x10', false],
    [0, -0, true],
    [true, true, true],
    [true, false, false],
    [true, 'true', false],
    ['true', true, false],
    [1, true, false],
    ['pro', ['free', 'pro'], true],
    ['pro', ['free', 'team'], false],
    [3, ['1', '3'], true],
    ['pro', [['pro']], false],
    ['pro', [{ plan: 'pro' }], false],
    ['pro', [], false],
    ['pro', { plan: 'pro' }, false],
  ])(
    'given eq %p, when the property is %p, then eq is %p and neq the opposite',
    (value, property, expected) => {
      expect(matches('eq', value, property)).toBe(expected);
      expect(matches('neq', value, property)).toBe(!expected);
    },
  );
});

describe('case sensitivity', () => {
  it.each<[ConditionOperator, unknown, JsonValue, boolean, boolean]>([
    // operator, value, property, case-sensitive result, case-insensitive result
    ['eq', 'Pro', 'pRO', false, true],
    ['neq', 'Pro', 'pRO', true, false],
    ['in', ['Pro', 'Team'], 'TEAM', false, true],
    ['notIn', ['Pro', 'Team'], 'TEAM', true, false],
    ['contains', 'ACME', 'jo@acme.io', false, true],
    ['notContains', 'ACME', 'jo@acme.io', true, false],
    ['startsWith', 'JO@', 'jo@acme.io', false, true],
    ['endsWith', '.IO', 'jo@acme.io', false, true],
    ['regex', '^jo@[A-Z]+\\.io$', 'jo@acme.io', false, true],
    ['eq', 'İstanbul', 'i̇stanbul', false, true],
    ['eq', 5, '5', true, true],
  ])(
    'given %s %p, when the property is %p, then it is %p by default and %p when caseSensitive is false',
    (operator, value, property, sensitive, insensitive) => {
      expect(matches(operator, value, property)).toBe(sensitive);
      expect(matches(operator, value, property, true)).toBe(sensitive);
      expect(matches(operator, value, property, false)).toBe(insensitive);
    },
  );
});

describe('gt, gte, lt and lte', () => {
  it.each<[ConditionOperator, unknown, JsonValue, boolean]>([
    ['gt', 10, 11, true],
    ['gt', 10, 10, false],
    ['gte', 10, 10, true],
    ['gte', 10, 9.999, false],
    ['lt', 10, 9, true],
    ['lt', 10, 10, false],
    ['lte', 10, 10, true],
    ['lte', 10, 10.5, false],
    ['gt', 10, '11', true],
    ['gt', 10, '9.5', false],
    ['gt', 10, 'eleven', false],
    ['gt', 0, true, false],
    ['gt', 10, '2025-01-01', false],
    ['gt', -1, [-5, 3], true],
    ['gt', 10, [1, 2], false],
    ['gt', 10, { amount: 11 }, false],
    ['gt', '2025-01-31', '2025-02-01', true],
    ['gt', '2025-01-31', '2025-01-31', false],
    ['gt', '2025-01-31', '2025-01-31T00:00:00.001Z', true],
    ['gte', '2025-01-31', '2025-01-31T00:00:00Z', true],
    ['lt', '2025-01-31T09:00:00Z', '2025-01-31T10:00:00+02:00', true],
    ['lt', '2025-01-31T09:00:00Z', '2025-01-31 09:30:00', false],
    ['lte', '2025-01-31T09:00:00+01:00', '2025-01-31T08:00:00Z', true],
    ['gt', '2025-01-31', '2025-02-30', false],
    ['gt', '2000-01-01', '1', false],
    ['gt', '2000-01-01', 1_900_000_000_000, false],
    ['lt', '2030-01-01', 'next tuesday', false],
  ])('given %s %p, when the property is %p, then %p', (operator, value, property, expected) => {
    expect(matches(operator, value, property)).toBe(expected);
  });
});

describe('between', () => {
  it.each<[unknown, JsonValue, boolean]>([
    [[10, 50], 10, true],
    [[10, 50], 50, true],
    [[10, 50], 30, true],
    [[10, 50], 9.99, false],
    [[10, 50], 50.01, false],
    [[10, 50], '25', true],
    [[10, 10], 10, true],
    [[10, 50], [1, 60, 20], true],
    [['2025-01-01', '2025-01-31'], '2025-01-01', true],
    [['2025-01-01', '2025-01-31'], '2025-01-31', true],
    [['2025-01-01', '2025-01-31'], '2025-01-31T00:00:00.001Z', false],
    [['2025-01-01', '2025-01-31T23:59:59.999Z'], '2025-01-31T12:00:00Z', true],
    [['2025-01-01', '2025-01-31'], '2024-12-31T23:59:59Z', false],
    [['2025-01-01', '2025-01-31'], 20, false],
  ])(
    'given between %p, when the property is %p, then %p (both ends included)',
    (value, property, expected) => {
      expect(matches('between', value, property)).toBe(expected);
    },
  );
});

describe('in and notIn', () => {
  it.each<[unknown, JsonValue, boolean]>([
    [['pro', 'team'], 'team', true],
    [['pro', 'team'], 'free', false],
    [['pro', 'team'], 'Team', false],
    [[1, 2, 3], 2, true],
    [[1, 2, 3], '2', true],
    [['1', '2'], 2, true],
    [['1', '2'], '2.0', false],
    [[true], true, true],
    [[true], false, false],
    [[false, 'x'], false, true],
    [['pro', 1, true], ['free', 1], true],
    [['pro'], ['free', 'team'], false],
    [['pro'], { plan: 'pro' }, false],
  ])(
    'given in %p, when the property is %p, then in is %p and notIn the opposite',
    (value, property, expected) => {
      expect(matches('in', value, property)).toBe(expected);
      expect(matches('notIn', value, property)).toBe(!expected);
    },
  );
});

describe('contains, notContains, startsWith and endsWith', () => {
  it.each<[ConditionOperator, string, JsonValue, boolean]>([
    ['contains', 'acme', 'jo@acme.io', true],
    ['contains', 'acme', 'jo@example.io', false],
    ['contains', '99', 1999, true],
    ['contains', 'true', true, false],
    ['contains', 'acme', ['a@x.io', 'b@acme.io'], true],
    ['contains', 'acme', ['a@x.io', 'b@y.io'], false],
    ['contains', '12', [112, 'x'], true],
    ['contains', 'acme', { email: 'acme' }, false],
    ['notContains', 'acme', 'jo@example.io', true],
    ['notContains', 'acme', 'jo@acme.io', false],
    ['notContains', 'acme', ['a@x.io', 'b@acme.io'], false],
    ['notContains', 'acme', true, true],
    ['startsWith', 'jo@', 'jo@acme.io', true],
    ['startsWith', 'acme', 'jo@acme.io', false],
    ['startsWith', '19', 1999, true],
    ['startsWith', 'jo', ['al', 'joe'], true],
    ['endsWith', '.io', 'jo@acme.io', true],
    ['endsWith', '.com', 'jo@acme.io', false],
    ['endsWith', '.5', 2.5, true],
    ['endsWith', 'x', false, false],
  ])('given %s %p, when the property is %p, then %p', (operator, value, property, expected) => {
    expect(matches(operator, value, property)).toBe(expected);
  });
});

describe('regex', () => {
  it.each<[string, JsonValue, boolean]>([
    ['^pro(-annual)?$', 'pro-annual', true],
    ['^pro(-annual)?$', 'pro-monthly', false],
    ['^\\d{3}$', 123, true],
    ['^\\d{3}$', 1234, false],
    ['true', true, false],
    ['^b', ['apple', 'banana'], true],
    ['^c', ['apple', 'banana'], false],
    ['a.c', 'abc', true],
    ['a\\.c', 'abc', false],
  ])('given regex %p, when the property is %p, then %p', (pattern, property, expected) => {
    expect(matches('regex', pattern, property)).toBe(expected);
  });

  it('given one compiled regex, when it is called many times, then each call gives the same answer', () => {
    const matchesPro = compileCondition(conditionOf('regex', 'pro'));
    expect([1, 2, 3].map(() => matchesPro('pro'))).toEqual([true, true, true]);
  });

  it.each([
    '(a+)+',
    '(a*)*',
    '(a|aa)+',
    '(.*a){3,}',
    '(?:a+)+$',
    '((a)+)+',
    '(a+?)+',
    '(a+){2}',
    '(?<x>a|b)*',
    '^(\\d+\\.)*$',
  ])(
    'given the nested quantifier %p, when parsed, then it is refused as UNSAFE_REGEX',
    (pattern) => {
      const error = validationErrorOf(() => conditionOf('regex', pattern));
      expect(error).toMatchObject({ field: 'filter.value', reason: 'UNSAFE_REGEX' });
    },
  );

  it.each([
    '^(a+)?$',
    '(a|b)',
    '(ab)+',
    '[(a+)]+',
    '\\(a+\\)+',
    '(a+){1}',
    '(?=a+)b',
    '^[a-z]+@[a-z]+\\.io$',
    '(abc){2,5}',
  ])('given the safe pattern %p, when parsed, then it is accepted', (pattern) => {
    expect(conditionOf('regex', pattern).value).toBe(pattern);
  });

  it.each([
    ['too long', 'a'.repeat(conditionLimits.regexLength + 1)],
    ['does not compile', '(a'],
    ['does not compile', '[z-a]'],
  ])(
    'given a pattern that is %s, when parsed, then it is refused as UNSAFE_REGEX',
    (_why, pattern) => {
      const error = validationErrorOf(() => conditionOf('regex', pattern));
      expect(error).toMatchObject({ field: 'filter.value', reason: 'UNSAFE_REGEX' });
    },
  );

  it('given a pattern of exactly the limit, when parsed, then it is accepted', () => {
    expect(conditionOf('regex', 'a'.repeat(conditionLimits.regexLength)).value).toHaveLength(200);
  });
});

describe('exists and notExists', () => {
  it.each<[JsonValue | undefined, boolean]>([
    ['pro', true],
    ['', true],
    [0, true],
    [false, true],
    [[], true],
    [{}, true],
    [null, false],
    [undefined, false],
  ])('given a property %p, then exists is %p and notExists the opposite', (property, expected) => {
    expect(matches('exists', undefined, property)).toBe(expected);
    expect(matches('notExists', null, property)).toBe(!expected);
  });
});

describe('readPath', () => {
  const properties: JsonObject = {
    plan: 'pro',
    empty: null,
    'odd key': 1,
    items: [{ sku: 'A-1', tags: ['x', 'y'] }, { sku: 'B-2' }],
    nested: { deeper: { value: 0 } },
  };

  it.each<[string, JsonValue | undefined]>([
    ['plan', 'pro'],
    ['empty', null],
    ['odd key', 1],
    ['items.0.sku', 'A-1'],
    ['items.1.sku', 'B-2'],
    ['items.0.tags.1', 'y'],
    ['items.2.sku', undefined],
    ['items.01.sku', undefined],
    ['items.-1', undefined],
    ['items.length', undefined],
    ['items.first', undefined],
    ['nested.deeper.value', 0],
    ['nested.deeper.missing', undefined],
    ['missing.value', undefined],
    ['plan.length', undefined],
    ['empty.value', undefined],
    ['constructor', undefined],
    ['toString', undefined],
    ['__proto__', undefined],
  ])('given the path %p, then it reads %p', (path, expected) => {
    expect(readPath(properties, path)).toEqual(expected);
  });

  it('reads the whole list when the path ends at it', () => {
    expect(readPath(properties, 'items.0.tags')).toEqual(['x', 'y']);
  });
});

describe('parsePropertyCondition', () => {
  it('given a condition without caseSensitive, then it is case-sensitive', () => {
    expect(
      parsePropertyCondition({ property: ' plan ', operator: 'eq', value: 'pro' }, 'f'),
    ).toEqual({
      property: 'plan',
      operator: 'eq',
      value: 'pro',
      caseSensitive: true,
    });
  });

  it('given exists with no value, then the value is null', () => {
    expect(conditionOf('exists').value).toBeNull();
  });

  it('given a between pair, then the condition keeps a copy of it', () => {
    const pair = [1, 2];
    const condition = conditionOf('between', pair);
    pair[0] = 5;
    expect(condition.value).toEqual([1, 2]);
  });

  it('given an unknown operator, then the message lists the valid ones', () => {
    const error = validationErrorOf(() =>
      parsePropertyCondition(
        { property: 'plan', operator: 'like', value: 'x' },
        'steps.0.filters.1',
      ),
    );
    expect(error).toMatchObject({
      name: 'ValidationError',
      kind: 'BAD_USER_INPUT',
      field: 'steps.0.filters.1.operator',
      reason: 'UNKNOWN_OPERATOR',
    });
    expect(error.message).toContain(conditionOperators.join(', '));
  });

  const long = 'x'.repeat(conditionLimits.stringValueLength + 1);
  const longList = Array.from({ length: conditionLimits.listLength + 1 }, (_, index) => index);

  it.each<[string, PropertyConditionInput, string, string]>([
    ['no property', { operator: 'eq', value: 'x' }, 'property', 'INVALID_PROPERTY'],
    [
      'an empty property',
      { property: '  ', operator: 'eq', value: 'x' },
      'property',
      'INVALID_PROPERTY',
    ],
    [
      'a property that is not a string',
      { property: 3, operator: 'eq', value: 'x' },
      'property',
      'INVALID_PROPERTY',
    ],
    [
      'a property too long',
      { property: 'p'.repeat(201), operator: 'eq', value: 'x' },
      'property',
      'INVALID_PROPERTY',
    ],
    [
      'an empty segment',
      { property: 'items..sku', operator: 'eq', value: 'x' },
      'property',
      'INVALID_PROPERTY',
    ],
    [
      'a trailing dot',
      { property: 'items.', operator: 'eq', value: 'x' },
      'property',
      'INVALID_PROPERTY',
    ],
    ['no operator', { property: 'plan', value: 'x' }, 'operator', 'UNKNOWN_OPERATOR'],
    [
      'an upper-case operator',
      { property: 'plan', operator: 'EQ', value: 'x' },
      'operator',
      'UNKNOWN_OPERATOR',
    ],
    ['eq without a value', { property: 'plan', operator: 'eq' }, 'value', 'INVALID_VALUE'],
    ['eq with null', { property: 'plan', operator: 'eq', value: null }, 'value', 'INVALID_VALUE'],
    [
      'eq with an object',
      { property: 'plan', operator: 'eq', value: { a: 1 } },
      'value',
      'INVALID_VALUE',
    ],
    [
      'eq with a list',
      { property: 'plan', operator: 'eq', value: ['pro'] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'eq with NaN',
      { property: 'plan', operator: 'eq', value: Number.NaN },
      'value',
      'INVALID_VALUE',
    ],
    [
      'eq with a string too long',
      { property: 'plan', operator: 'eq', value: long },
      'value',
      'INVALID_VALUE',
    ],
    [
      'gt with a numeric string',
      { property: 'n', operator: 'gt', value: '10' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'gt with Infinity',
      { property: 'n', operator: 'gt', value: Infinity },
      'value',
      'INVALID_VALUE',
    ],
    ['lt with a boolean', { property: 'n', operator: 'lt', value: true }, 'value', 'INVALID_VALUE'],
    [
      'gte with a non-date',
      { property: 'n', operator: 'gte', value: 'yesterday' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'lte with an impossible date',
      { property: 'n', operator: 'lte', value: '2025-02-30' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between with one bound',
      { property: 'n', operator: 'between', value: [1] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between with three bounds',
      { property: 'n', operator: 'between', value: [1, 2, 3] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between descending',
      { property: 'n', operator: 'between', value: [5, 1] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between descending dates',
      { property: 'n', operator: 'between', value: ['2025-02-01', '2025-01-01'] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between a number and a date',
      { property: 'n', operator: 'between', value: [1, '2025-01-01'] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'between not a list',
      { property: 'n', operator: 'between', value: '1,2' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'in with an empty list',
      { property: 'plan', operator: 'in', value: [] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'in with a scalar',
      { property: 'plan', operator: 'in', value: 'pro' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'in with too many values',
      { property: 'plan', operator: 'in', value: longList },
      'value',
      'INVALID_VALUE',
    ],
    [
      'in with a null element',
      { property: 'plan', operator: 'in', value: ['pro', null] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'notIn with a long string',
      { property: 'plan', operator: 'notIn', value: [long] },
      'value',
      'INVALID_VALUE',
    ],
    [
      'contains with an empty string',
      { property: 'plan', operator: 'contains', value: '' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'contains with a number',
      { property: 'plan', operator: 'contains', value: 5 },
      'value',
      'INVALID_VALUE',
    ],
    [
      'startsWith with a long string',
      { property: 'plan', operator: 'startsWith', value: long },
      'value',
      'INVALID_VALUE',
    ],
    [
      'regex with a number',
      { property: 'plan', operator: 'regex', value: 5 },
      'value',
      'INVALID_VALUE',
    ],
    [
      'exists with a value',
      { property: 'plan', operator: 'exists', value: true },
      'value',
      'INVALID_VALUE',
    ],
    [
      'notExists with a value',
      { property: 'plan', operator: 'notExists', value: 'x' },
      'value',
      'INVALID_VALUE',
    ],
    [
      'caseSensitive not a boolean',
      { property: 'plan', operator: 'eq', value: 'x', caseSensitive: 'no' },
      'caseSensitive',
      'INVALID_VALUE',
    ],
  ])(
    'given %s, then a ValidationError on the %3$s field with %4$s',
    (_why, input, field, reason) => {
      const error = validationErrorOf(() => parsePropertyCondition(input, 'filters.0'));
      expect(error).toMatchObject({ name: 'ValidationError', field: `filters.0.${field}`, reason });
    },
  );

  it.each<[ConditionOperator, unknown]>([
    ['eq', 'x'.repeat(conditionLimits.stringValueLength)],
    ['in', Array.from({ length: conditionLimits.listLength }, (_, index) => index)],
    ['gt', '2024-02-29'],
    ['gt', '2025-01-31T09:00'],
    ['gt', '2025-01-31T09:00:00.123456789+0530'],
    ['between', [-1.5, -1.5]],
    ['eq', ''],
  ])('given %s at a limit or edge %#, then it is accepted', (operator, value) => {
    expect(conditionOf(operator, value).value).toEqual(value);
  });
});

describe('compileCondition', () => {
  it('given a condition built by hand with a value of the wrong type, then compiling throws', () => {
    const handMade = {
      property: 'plan',
      operator: 'gt',
      value: 'ten',
      caseSensitive: true,
    } as const;
    expect(validationErrorOf(() => compileCondition(handMade))).toMatchObject({
      field: 'condition.value',
      reason: 'INVALID_VALUE',
    });
  });

  it('given a compiled condition, when read through readPath many times, then each answer is the same', () => {
    const skuStartsWithA = compileCondition(
      parsePropertyCondition({ property: 'items.1.sku', operator: 'startsWith', value: 'A' }, 'f'),
    );
    const events: JsonObject[] = [
      { items: [{ sku: 'B' }, { sku: 'A-1' }] },
      { items: [{ sku: 'A' }] },
      { items: { 1: { sku: 'A' } } },
    ];
    const answers = [1, 2].flatMap(() =>
      events.map((event) => skuStartsWithA(readPath(event, 'items.1.sku'))),
    );
    expect(answers).toEqual([true, false, true, true, false, true]);
  });
});

describe('sameCondition', () => {
  const input = (operator: string, value: unknown, extra: PropertyConditionInput = {}) =>
    parsePropertyCondition({ property: 'plan', operator, value, ...extra }, 'f');

  it.each<[string, ReturnType<typeof input>, ReturnType<typeof input>, boolean]>([
    ['identical', input('eq', 'pro'), input('eq', 'pro'), true],
    ['other property', input('eq', 'pro'), input('eq', 'pro', { property: 'tier' }), false],
    ['trimmed property', input('eq', 'pro'), input('eq', 'pro', { property: ' plan ' }), true],
    ['other operator', input('eq', 'pro'), input('neq', 'pro'), false],
    ['other value', input('eq', 'pro'), input('eq', 'team'), false],
    ['number against numeric string', input('eq', 7), input('eq', '7'), false],
    [
      'case-insensitive, other case',
      input('eq', 'Pro', { caseSensitive: false }),
      input('eq', 'pRO', { caseSensitive: false }),
      true,
    ],
    ['case-sensitive, other case', input('eq', 'Pro'), input('eq', 'pRO'), false],
    [
      'sensitive against insensitive text',
      input('eq', 'pro'),
      input('eq', 'pro', { caseSensitive: false }),
      false,
    ],
    ['case flag on a number', input('gt', 5), input('gt', 5, { caseSensitive: false }), true],
    [
      'case flag on exists',
      input('exists', null),
      input('exists', null, { caseSensitive: false }),
      true,
    ],
    ['in lists as sets', input('in', ['a', 'b', 'a']), input('in', ['b', 'a']), true],
    ['in lists differ', input('in', ['a', 'b']), input('in', ['a', 'c']), false],
    [
      'same instant, other notation',
      input('gt', '2025-01-31'),
      input('gt', '2025-01-31T01:00:00+01:00'),
      true,
    ],
    ['other instant', input('gt', '2025-01-31'), input('gt', '2025-02-01'), false],
    ['same range', input('between', [1, 2]), input('between', [1.0, 2]), true],
    ['other range', input('between', [1, 2]), input('between', [1, 3]), false],
    ['same regex', input('regex', '^p'), input('regex', '^p'), true],
    [
      'regex with other case flag',
      input('regex', '^p'),
      input('regex', '^p', { caseSensitive: false }),
      false,
    ],
    [
      'contains ignoring case',
      input('contains', 'ACME', { caseSensitive: false }),
      input('contains', 'acme', { caseSensitive: false }),
      true,
    ],
  ])('given two conditions (%s), then sameCondition is %p', (_why, a, b, expected) => {
    expect(sameCondition(a, b)).toBe(expected);
    expect(sameCondition(b, a)).toBe(expected);
  });
});

describe('negative operators are complements (property-based)', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('7', '007', '7.0', '-0', '1e3', 'Pro', 'pro', 'true'),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -10, max: 10 }),
    fc.boolean(),
  );
  const present = fc.oneof(
    scalar,
    fc.array(scalar, { maxLength: 4 }),
    fc.dictionary(fc.string(), scalar),
  );

  it('given any scalar value and present property, then neq is exactly !eq', () => {
    fc.assert(
      fc.property(scalar, present, fc.boolean(), (value, property, caseSensitive) => {
        expect(matches('neq', value, property, caseSensitive)).toBe(
          !matches('eq', value, property, caseSensitive),
        );
      }),
    );
  });

  it('given any list of scalars and present property, then notIn is exactly !in, and in is some eq', () => {
    fc.assert(
      fc.property(fc.array(scalar, { minLength: 1, maxLength: 5 }), present, (values, property) => {
        const inList = matches('in', values, property);
        expect(matches('notIn', values, property)).toBe(!inList);
        expect(inList).toBe(values.some((value) => matches('eq', value, property)));
      }),
    );
  });
});
