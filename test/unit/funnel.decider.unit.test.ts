import {
  defaultWindowSeconds,
  funnelDecider,
  funnelLimits,
  funnelStreamId,
  type FunnelCommand,
  type FunnelCreated,
  type FunnelDefinition,
  type FunnelDefinitionInput,
  type FunnelEvent,
  type FunnelExclusionInput,
  type FunnelState,
  type FunnelStepInput,
  type FunnelUpdated,
} from '../../src/domain/funnel';
import {
  parsePropertyCondition,
  type PropertyConditionInput,
} from '../../src/domain/shared/conditions';
import type { CommandMetadata } from '../../src/domain/shared/events';

const funnelId = 'signup-to-purchase';
const now = new Date('2025-03-01T12:00:00.000Z');
const nowIso = now.toISOString();
const metadata: CommandMetadata = { workspaceId: 'acme', commandId: 'command-1', now };
const day = 24 * 60 * 60;

// ---- given: definitions and events ----------------------------------------------------------

/** The smallest valid input: a name and three steps; every other field takes its default. */
function input(overrides: Partial<FunnelDefinitionInput> = {}): FunnelDefinitionInput {
  return {
    name: 'Signup to purchase',
    steps: [{ event: 'signup' }, { event: 'add_to_cart' }, { event: 'purchase' }],
    ...overrides,
  };
}

/** What `input()` becomes once checked and completed. */
function definition(overrides: Partial<FunnelDefinition> = {}): FunnelDefinition {
  return {
    name: 'Signup to purchase',
    steps: [
      { event: 'signup', filters: [] },
      { event: 'add_to_cart', filters: [] },
      { event: 'purchase', filters: [] },
    ],
    order: 'ordered',
    windowSeconds: 1_209_600,
    exclusions: [],
    breakdown: null,
    campaignId: null,
    ...overrides,
  };
}

function created(overrides: Partial<FunnelDefinition> = {}): FunnelCreated {
  return {
    type: 'FunnelCreated',
    data: {
      funnelId,
      version: 1,
      definition: definition(overrides),
      createdAt: '2025-02-01T09:00:00.000Z',
    },
  };
}

function updated(version: number, overrides: Partial<FunnelDefinition>): FunnelUpdated {
  return {
    type: 'FunnelUpdated',
    data: {
      funnelId,
      version,
      definition: definition(overrides),
      updatedAt: '2025-02-02T09:00:00.000Z',
    },
  };
}

const archived: FunnelEvent = {
  type: 'FunnelArchived',
  data: { funnelId, archivedAt: '2025-02-03T09:00:00.000Z' },
};

const historyOf = {
  Nonexistent: [],
  Active: [created()],
  Archived: [created(), archived],
} satisfies Record<FunnelState['status'], FunnelEvent[]>;

// ---- when: commands --------------------------------------------------------------------------

const command = {
  create: (definitionInput: FunnelDefinitionInput = input()): FunnelCommand => ({
    type: 'CreateFunnel',
    data: { funnelId, definition: definitionInput },
    metadata,
  }),
  update: (definitionInput: FunnelDefinitionInput): FunnelCommand => ({
    type: 'UpdateFunnel',
    data: { funnelId, definition: definitionInput },
    metadata,
  }),
  archive: (): FunnelCommand => ({ type: 'ArchiveFunnel', data: { funnelId }, metadata }),
};

// ---- then ------------------------------------------------------------------------------------

function given(events: readonly FunnelEvent[]): FunnelState {
  return events.reduce(funnelDecider.evolve, funnelDecider.initialState());
}

function when(events: readonly FunnelEvent[], action: FunnelCommand): FunnelEvent[] {
  return funnelDecider.decide(action, given(events));
}

/**
 * What was thrown, compared by its properties (`kind`, `reason`, `field`) rather than by class:
 * the error may come from another realm under jest, where `instanceof` lies.
 */
function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, but nothing was thrown');
}

function rejection(events: readonly FunnelEvent[], action: FunnelCommand): unknown {
  return thrownBy(() => when(events, action));
}

/** The definition a single FunnelCreated carries after creating a funnel from `definitionInput`. */
function createdDefinition(definitionInput: FunnelDefinitionInput): FunnelDefinition {
  const events = when([], command.create(definitionInput));
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event.type !== 'FunnelCreated') throw new Error(`expected FunnelCreated, got ${event.type}`);
  return event.data.definition;
}

const steps = (count: number): FunnelStepInput[] =>
  Array.from({ length: count }, (_, index) => ({ event: `step-${index + 1}` }));
const filters = (count: number): PropertyConditionInput[] =>
  Array.from({ length: count }, (_, index) => ({
    property: `p${index}`,
    operator: 'exists',
  }));
const exclusions = (count: number): FunnelExclusionInput[] =>
  Array.from({ length: count }, (_, index) => ({
    event: `refund-${index}`,
    fromStep: 1,
    toStep: 3,
  }));

describe('CreateFunnel', () => {
  it('given no funnel, when created with name and steps only, then FunnelCreated version 1 with every default filled in', () => {
    expect(when([], command.create())).toEqual([
      {
        type: 'FunnelCreated',
        data: {
          funnelId,
          version: 1,
          definition: {
            name: 'Signup to purchase',
            steps: [
              { event: 'signup', filters: [] },
              { event: 'add_to_cart', filters: [] },
              { event: 'purchase', filters: [] },
            ],
            order: 'ordered',
            windowSeconds: 1_209_600,
            exclusions: [],
            breakdown: null,
            campaignId: null,
          },
          createdAt: nowIso,
        },
      },
    ]);
    expect(defaultWindowSeconds).toBe(14 * day);
  });

  it('given no funnel, when created with null optional fields, then they take the same defaults', () => {
    const withNulls = input({
      order: null,
      windowSeconds: null,
      exclusions: null,
      breakdown: null,
      campaignId: null,
      steps: [
        { event: 'signup', filters: null },
        { event: 'add_to_cart' },
        { event: 'purchase', filters: [] },
      ],
    });
    expect(createdDefinition(withNulls)).toEqual(definition());
  });

  it('given no funnel, when created with every field, then the definition carries trimmed names and normalised filters', () => {
    const planFilter = { property: ' plan ', operator: 'eq', value: 'pro' };
    const amountFilter = {
      property: 'amount',
      operator: 'between',
      value: [10, 50],
      caseSensitive: false,
    };
    const emailFilter = { property: 'user.email', operator: 'exists' };

    const result = createdDefinition({
      name: '  Signup to purchase  ',
      steps: [
        { event: ' signup ', filters: [planFilter] },
        { event: 'add_to_cart', filters: [amountFilter, emailFilter] },
        { event: '$pageview' },
      ],
      order: 'strict',
      windowSeconds: 7 * day,
      exclusions: [
        {
          event: ' refund ',
          fromStep: 1,
          toStep: 3,
          filters: [{ property: 'full', operator: 'eq', value: true }],
        },
      ],
      breakdown: { property: ' utm.source ', attribution: 'last_step' },
      campaignId: 'spring-sale',
    });

    expect(result).toEqual({
      name: 'Signup to purchase',
      steps: [
        {
          event: 'signup',
          filters: [{ property: 'plan', operator: 'eq', value: 'pro', caseSensitive: true }],
        },
        {
          event: 'add_to_cart',
          filters: [
            { property: 'amount', operator: 'between', value: [10, 50], caseSensitive: false },
            { property: 'user.email', operator: 'exists', value: null, caseSensitive: true },
          ],
        },
        { event: '$pageview', filters: [] },
      ],
      order: 'strict',
      windowSeconds: 604_800,
      exclusions: [
        {
          event: 'refund',
          filters: [{ property: 'full', operator: 'eq', value: true, caseSensitive: true }],
          fromStep: 1,
          toStep: 3,
        },
      ],
      breakdown: { property: 'utm.source', attribution: 'last_step' },
      campaignId: 'spring-sale',
    });
    // The same normalisation as the shared condition parser, not a funnel-specific one.
    expect(result.steps[0].filters[0]).toEqual(parsePropertyCondition(planFilter, 'x'));
    expect(result.steps[1].filters).toEqual([
      parsePropertyCondition(amountFilter, 'x'),
      parsePropertyCondition(emailFilter, 'x'),
    ]);
  });

  it('given no funnel, when a breakdown has no attribution, then it reads the first step', () => {
    expect(createdDefinition(input({ breakdown: { property: 'plan' } })).breakdown).toEqual({
      property: 'plan',
      attribution: 'first_step',
    });
  });

  it.each(['ordered', 'strict', 'unordered'] as const)(
    'given no funnel, when created with order %s, then that order is kept',
    (order) => {
      expect(createdDefinition(input({ order })).order).toBe(order);
    },
  );

  it.each([
    ['one second', 1],
    ['a day', day],
    ['exactly 365 days', 365 * day],
  ])('given no funnel, when the window is %s, then it is accepted', (_, windowSeconds) => {
    expect(createdDefinition(input({ windowSeconds })).windowSeconds).toBe(windowSeconds);
  });

  it('accepts the limits themselves: 2 and 20 steps, 200-character names, 20 filters, 10 exclusions', () => {
    expect(createdDefinition(input({ steps: steps(2) })).steps).toHaveLength(2);
    expect(createdDefinition(input({ steps: steps(20) })).steps).toHaveLength(
      funnelLimits.maxSteps,
    );
    expect(createdDefinition(input({ name: 'x'.repeat(200) })).name).toHaveLength(200);
    const longEvent = 'e'.repeat(200);
    expect(
      createdDefinition(input({ steps: [{ event: longEvent }, { event: 'b' }] })).steps[0].event,
    ).toBe(longEvent);
    const manyFilters = createdDefinition(
      input({ steps: [{ event: 'a', filters: filters(20) }, { event: 'b' }] }),
    );
    expect(manyFilters.steps[0].filters).toHaveLength(funnelLimits.filtersPerStep);
    expect(createdDefinition(input({ exclusions: exclusions(10) })).exclusions).toHaveLength(
      funnelLimits.exclusions,
    );
  });

  it.each(['Active', 'Archived'] as const)(
    'given an %s funnel, when created again, then CONFLICT ALREADY_EXISTS',
    (phase) => {
      expect(rejection(historyOf[phase], command.create())).toMatchObject({
        kind: 'CONFLICT',
        reason: 'ALREADY_EXISTS',
      });
    },
  );

  it('given a created funnel, when the same create is decided again from the folded state, then CONFLICT ALREADY_EXISTS', () => {
    const first = when([], command.create());
    expect(rejection(first, command.create())).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ALREADY_EXISTS',
    });
  });
});

describe('definition rules', () => {
  const planIsPro = { property: 'plan', operator: 'eq', value: 'pro' };

  it.each<[string, Partial<FunnelDefinitionInput>, string, string]>([
    // steps
    ['no steps', { steps: [] }, 'steps', 'TOO_FEW_STEPS'],
    ['one step', { steps: steps(1) }, 'steps', 'TOO_FEW_STEPS'],
    [
      'no step list at all',
      { steps: null as unknown as FunnelStepInput[] },
      'steps',
      'TOO_FEW_STEPS',
    ],
    ['21 steps', { steps: steps(21) }, 'steps', 'TOO_MANY_STEPS'],
    [
      'an empty step event',
      { steps: [{ event: 'a' }, { event: '' }] },
      'steps.1.event',
      'REQUIRED',
    ],
    [
      'a blank step event',
      { steps: [{ event: 'a' }, { event: '  ' }] },
      'steps.1.event',
      'REQUIRED',
    ],
    [
      'a 201-character step event',
      { steps: [{ event: 'a' }, { event: 'e'.repeat(201) }] },
      'steps.1.event',
      'TOO_LONG',
    ],
    // name
    ['an empty name', { name: '' }, 'name', 'REQUIRED'],
    ['a blank name', { name: '   ' }, 'name', 'REQUIRED'],
    ['a 201-character name', { name: 'x'.repeat(201) }, 'name', 'TOO_LONG'],
    // order
    ['an unknown order', { order: 'sequential' }, 'order', 'INVALID_ORDER'],
    ['an order in the wrong case', { order: 'Strict' }, 'order', 'INVALID_ORDER'],
    ['an empty order', { order: '' }, 'order', 'INVALID_ORDER'],
    // window
    ['a zero window', { windowSeconds: 0 }, 'windowSeconds', 'INVALID_WINDOW'],
    ['a negative window', { windowSeconds: -60 }, 'windowSeconds', 'INVALID_WINDOW'],
    ['a fractional window', { windowSeconds: 1.5 }, 'windowSeconds', 'INVALID_WINDOW'],
    ['a NaN window', { windowSeconds: Number.NaN }, 'windowSeconds', 'INVALID_WINDOW'],
    ['an infinite window', { windowSeconds: Infinity }, 'windowSeconds', 'INVALID_WINDOW'],
    [
      'a window one second over 365 days',
      { windowSeconds: 365 * day + 1 },
      'windowSeconds',
      'INVALID_WINDOW',
    ],
    // exclusion ranges (the funnel has 3 steps)
    [
      'an exclusion with fromStep equal to toStep',
      { exclusions: [{ event: 'refund', fromStep: 2, toStep: 2 }] },
      'exclusions.0.toStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion with fromStep after toStep',
      { exclusions: [{ event: 'refund', fromStep: 3, toStep: 1 }] },
      'exclusions.0.toStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion from step 0',
      { exclusions: [{ event: 'refund', fromStep: 0, toStep: 2 }] },
      'exclusions.0.fromStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion from a negative step',
      { exclusions: [{ event: 'refund', fromStep: -1, toStep: 2 }] },
      'exclusions.0.fromStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion from a fractional step',
      { exclusions: [{ event: 'refund', fromStep: 1.5, toStep: 3 }] },
      'exclusions.0.fromStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion to a step past the last',
      { exclusions: [{ event: 'refund', fromStep: 1, toStep: 4 }] },
      'exclusions.0.toStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'a second exclusion out of range',
      {
        exclusions: [
          { event: 'refund', fromStep: 1, toStep: 3 },
          { event: 'refund', fromStep: 4, toStep: 5 },
        ],
      },
      'exclusions.1.fromStep',
      'INVALID_STEP_RANGE',
    ],
    [
      'an exclusion with an empty event',
      { exclusions: [{ event: ' ', fromStep: 1, toStep: 2 }] },
      'exclusions.0.event',
      'REQUIRED',
    ],
    // exclusions equal to a step in their range (closed: both ends count)
    [
      'an exclusion equal to a middle step of its range',
      { exclusions: [{ event: 'add_to_cart', fromStep: 1, toStep: 3 }] },
      'exclusions.0.event',
      'EXCLUSION_EQUALS_STEP',
    ],
    [
      'an exclusion equal to the first step of its range',
      { exclusions: [{ event: 'signup', fromStep: 1, toStep: 2 }] },
      'exclusions.0.event',
      'EXCLUSION_EQUALS_STEP',
    ],
    [
      'an exclusion equal to the last step of its range',
      { exclusions: [{ event: ' purchase ', fromStep: 2, toStep: 3 }] },
      'exclusions.0.event',
      'EXCLUSION_EQUALS_STEP',
    ],
    [
      'a second exclusion equal to a step',
      {
        exclusions: [
          { event: 'refund', fromStep: 1, toStep: 3 },
          { event: 'purchase', fromStep: 1, toStep: 3 },
        ],
      },
      'exclusions.1.event',
      'EXCLUSION_EQUALS_STEP',
    ],
    // filters
    [
      'a filter with an unknown operator',
      {
        steps: [
          { event: 'a', filters: [{ property: 'plan', operator: 'like', value: 'p' }] },
          { event: 'b' },
        ],
      },
      'steps.0.filters.0.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      'a filter without an operator',
      { steps: [{ event: 'a', filters: [{ property: 'plan', value: 'p' }] }, { event: 'b' }] },
      'steps.0.filters.0.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      'a filter with a value its operator cannot take',
      {
        steps: [
          { event: 'a', filters: [{ property: 'amount', operator: 'gt', value: 'ten' }] },
          { event: 'b' },
        ],
      },
      'steps.0.filters.0.value',
      'INVALID_VALUE',
    ],
    [
      'a later step with a bad second filter',
      {
        steps: [
          { event: 'a' },
          { event: 'b' },
          { event: 'c', filters: [planIsPro, { property: 'tags', operator: 'in', value: [] }] },
        ],
      },
      'steps.2.filters.1.value',
      'INVALID_VALUE',
    ],
    [
      'a filter with an empty property path segment',
      {
        steps: [
          { event: 'a', filters: [{ property: 'user..plan', operator: 'exists' }] },
          { event: 'b' },
        ],
      },
      'steps.0.filters.0.property',
      'INVALID_PROPERTY',
    ],
    [
      'a filter whose caseSensitive is not a boolean',
      { steps: [{ event: 'a', filters: [{ ...planIsPro, caseSensitive: 'no' }] }, { event: 'b' }] },
      'steps.0.filters.0.caseSensitive',
      'INVALID_VALUE',
    ],
    [
      'a filter with a catastrophic regex',
      {
        steps: [
          { event: 'a', filters: [{ property: 'p', operator: 'regex', value: '(a+)+$' }] },
          { event: 'b' },
        ],
      },
      'steps.0.filters.0.value',
      'UNSAFE_REGEX',
    ],
    [
      'an exclusion with a bad filter',
      {
        exclusions: [
          { event: 'refund', fromStep: 1, toStep: 2, filters: [{ property: 'p', operator: '~' }] },
        ],
      },
      'exclusions.0.filters.0.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      '21 filters on a step',
      { steps: [{ event: 'a' }, { event: 'b', filters: filters(21) }] },
      'steps.1.filters',
      'TOO_MANY_FILTERS',
    ],
    [
      '21 filters on an exclusion',
      { exclusions: [{ event: 'refund', fromStep: 1, toStep: 2, filters: filters(21) }] },
      'exclusions.0.filters',
      'TOO_MANY_FILTERS',
    ],
    ['11 exclusions', { exclusions: exclusions(11) }, 'exclusions', 'TOO_MANY_EXCLUSIONS'],
    // breakdown
    [
      'an empty breakdown property',
      { breakdown: { property: ' ' } },
      'breakdown.property',
      'REQUIRED',
    ],
    [
      'a 201-character breakdown property',
      { breakdown: { property: 'p'.repeat(201) } },
      'breakdown.property',
      'TOO_LONG',
    ],
    [
      'a breakdown property with an empty middle segment',
      { breakdown: { property: 'utm..source' } },
      'breakdown.property',
      'INVALID_PROPERTY',
    ],
    [
      'a breakdown property with a leading dot',
      { breakdown: { property: '.plan' } },
      'breakdown.property',
      'INVALID_PROPERTY',
    ],
    [
      'a breakdown property with a trailing dot',
      { breakdown: { property: 'plan.' } },
      'breakdown.property',
      'INVALID_PROPERTY',
    ],
    [
      'an unknown breakdown attribution',
      { breakdown: { property: 'plan', attribution: 'any_step' } },
      'breakdown.attribution',
      'INVALID_ATTRIBUTION',
    ],
    // campaign
    ['a campaign id with spaces', { campaignId: 'spring sale' }, 'campaignId', 'INVALID_ID'],
    ['an empty campaign id', { campaignId: '' }, 'campaignId', 'INVALID_ID'],
    ['a 101-character campaign id', { campaignId: 'c'.repeat(101) }, 'campaignId', 'INVALID_ID'],
  ])(
    'given no funnel, when created with %s, then BAD_USER_INPUT on %s (%s)',
    (_, overrides, field, reason) => {
      expect(rejection([], command.create(input(overrides)))).toMatchObject({
        kind: 'BAD_USER_INPUT',
        field,
        reason,
      });
    },
  );

  describe('an exclusion that resembles a step', () => {
    const fourSteps: FunnelStepInput[] = [
      { event: 'signup' },
      { event: 'view_product' },
      { event: 'add_to_cart' },
      { event: 'purchase', filters: [planIsPro] },
    ];

    it.each<[string, FunnelExclusionInput]>([
      ['the equal step lies before its range', { event: 'signup', fromStep: 2, toStep: 4 }],
      ['the equal step lies after its range', { event: 'add_to_cart', fromStep: 1, toStep: 2 }],
      [
        'the filters differ in value',
        {
          event: 'purchase',
          fromStep: 1,
          toStep: 4,
          filters: [{ property: 'plan', operator: 'eq', value: 'free' }],
        },
      ],
      [
        'the exclusion has a filter and the step has none',
        { event: 'add_to_cart', fromStep: 1, toStep: 4, filters: [planIsPro] },
      ],
      [
        'the exclusion has an extra filter',
        {
          event: 'purchase',
          fromStep: 1,
          toStep: 4,
          filters: [planIsPro, { property: 'coupon', operator: 'exists' }],
        },
      ],
      [
        'the filter differs only in case and the comparison is case-sensitive',
        {
          event: 'purchase',
          fromStep: 1,
          toStep: 4,
          filters: [{ property: 'plan', operator: 'eq', value: 'PRO' }],
        },
      ],
      [
        'the event differs only in case',
        { event: 'Purchase', fromStep: 1, toStep: 4, filters: [planIsPro] },
      ],
    ])('given no funnel, when %s, then it is accepted', (_, exclusion) => {
      const result = createdDefinition(input({ steps: fourSteps, exclusions: [exclusion] }));
      expect(result.exclusions).toHaveLength(1);
      expect(result.exclusions[0]).toMatchObject({
        event: exclusion.event.trim(),
        fromStep: exclusion.fromStep,
        toStep: exclusion.toStep,
      });
    });

    it.each<[string, PropertyConditionInput[]]>([
      [
        'the same filter, with the property path padded',
        [{ property: ' plan ', operator: 'eq', value: 'pro' }],
      ],
      [
        'the same filter, with caseSensitive given explicitly',
        [{ ...planIsPro, caseSensitive: true }],
      ],
      ['the same filter twice (it means the same)', [planIsPro, planIsPro]],
      ['no filter (it matches every event of the step, a broader exclusion)', []],
    ])(
      'given no funnel, when the exclusion has %s as the step in its range, then EXCLUSION_EQUALS_STEP',
      (_, exclusionFilters) => {
        const error = rejection(
          [],
          command.create(
            input({
              steps: fourSteps,
              exclusions: [
                { event: 'purchase', fromStep: 2, toStep: 4, filters: exclusionFilters },
              ],
            }),
          ),
        );
        expect(error).toMatchObject({
          kind: 'BAD_USER_INPUT',
          field: 'exclusions.0.event',
          reason: 'EXCLUSION_EQUALS_STEP',
        });
      },
    );

    it('given no funnel, when the filters match the step in another order and `in` lists are sets, then EXCLUSION_EQUALS_STEP', () => {
      const stepFilters = [
        { property: 'plan', operator: 'in', value: ['pro', 'team'] },
        { property: 'amount', operator: 'gt', value: 10 },
      ];
      const exclusionFilters = [
        { property: 'amount', operator: 'gt', value: 10 },
        { property: 'plan', operator: 'in', value: ['team', 'pro', 'team'] },
      ];
      const error = rejection(
        [],
        command.create(
          input({
            steps: [{ event: 'signup' }, { event: 'purchase', filters: stepFilters }],
            exclusions: [{ event: 'purchase', fromStep: 1, toStep: 2, filters: exclusionFilters }],
          }),
        ),
      );
      expect(error).toMatchObject({ field: 'exclusions.0.event', reason: 'EXCLUSION_EQUALS_STEP' });
    });

    it('given no funnel, when an exclusion ignoring case matches a case-insensitive step filter, then EXCLUSION_EQUALS_STEP', () => {
      const ignoringCase = (value: string) => ({
        property: 'plan',
        operator: 'eq',
        value,
        caseSensitive: false,
      });
      const error = rejection(
        [],
        command.create(
          input({
            steps: [{ event: 'signup' }, { event: 'purchase', filters: [ignoringCase('Pro')] }],
            exclusions: [
              { event: 'purchase', fromStep: 1, toStep: 2, filters: [ignoringCase('PRO')] },
            ],
          }),
        ),
      );
      expect(error).toMatchObject({ field: 'exclusions.0.event', reason: 'EXCLUSION_EQUALS_STEP' });
    });
  });
});

describe('UpdateFunnel', () => {
  it('given an active funnel, when the definition changes, then FunnelUpdated carries version 2 and the whole new definition', () => {
    const events = when(
      historyOf.Active,
      command.update(input({ order: 'unordered', windowSeconds: day })),
    );
    expect(events).toEqual([
      {
        type: 'FunnelUpdated',
        data: {
          funnelId,
          version: 2,
          definition: definition({ order: 'unordered', windowSeconds: day }),
          updatedAt: nowIso,
        },
      },
    ]);
  });

  it('given a funnel at version 3, when updated, then the new version is 4', () => {
    const history = [created(), updated(2, { name: 'Second' }), updated(3, { name: 'Third' })];
    const [event] = when(history, command.update(input({ name: 'Fourth' })));
    expect(event).toMatchObject({
      type: 'FunnelUpdated',
      data: { version: 4, definition: { name: 'Fourth' } },
    });
  });

  it('given an active funnel, when updated with the identical definition, then no event', () => {
    expect(when(historyOf.Active, command.update(input()))).toEqual([]);
  });

  it('given an active funnel, when updated with the same definition written out with its defaults and padding, then no event', () => {
    const sameDefinition = command.update({
      name: ' Signup to purchase ',
      steps: [
        { event: 'signup ', filters: [] },
        { event: ' add_to_cart', filters: null },
        { event: 'purchase' },
      ],
      order: 'ordered',
      windowSeconds: 1_209_600,
      exclusions: [],
      breakdown: null,
      campaignId: null,
    });
    expect(when(historyOf.Active, sameDefinition)).toEqual([]);
  });

  it('given an updated funnel, when updated back to its first definition, then a new version, not a no-op', () => {
    const history = [created(), updated(2, { order: 'strict' })];
    expect(when(history, command.update(input()))).toEqual([
      {
        type: 'FunnelUpdated',
        data: { funnelId, version: 3, definition: definition(), updatedAt: nowIso },
      },
    ]);
  });

  it('given an active funnel, when only a filter is added, then it is a change', () => {
    const [event] = when(
      historyOf.Active,
      command.update(
        input({
          steps: [
            { event: 'signup' },
            { event: 'add_to_cart' },
            { event: 'purchase', filters: [{ property: 'plan', operator: 'exists' }] },
          ],
        }),
      ),
    );
    expect(event).toMatchObject({ type: 'FunnelUpdated', data: { version: 2 } });
  });

  it('given an active funnel, when updated with an invalid definition, then the same BAD_USER_INPUT as create', () => {
    expect(rejection(historyOf.Active, command.update(input({ windowSeconds: 0 })))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'windowSeconds',
      reason: 'INVALID_WINDOW',
    });
    expect(rejection(historyOf.Active, command.update(input({ steps: steps(1) })))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'steps',
      reason: 'TOO_FEW_STEPS',
    });
  });

  it('given no funnel, when updated, then NOT_FOUND', () => {
    expect(rejection(historyOf.Nonexistent, command.update(input()))).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'NOT_FOUND',
      field: 'id',
    });
  });

  it('given no funnel, when updated with an invalid definition, then NOT_FOUND comes first', () => {
    expect(rejection(historyOf.Nonexistent, command.update(input({ steps: [] })))).toMatchObject({
      kind: 'NOT_FOUND',
    });
  });

  it('given an archived funnel, when updated, then CONFLICT ILLEGAL_TRANSITION', () => {
    expect(rejection(historyOf.Archived, command.update(input({ name: 'Renamed' })))).toMatchObject(
      { kind: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' },
    );
  });

  it('given an archived funnel, when updated with its identical definition, then still CONFLICT, not a silent no-op', () => {
    expect(rejection(historyOf.Archived, command.update(input()))).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
    });
  });
});

describe('ArchiveFunnel', () => {
  it('given an active funnel, when archived, then FunnelArchived', () => {
    expect(when(historyOf.Active, command.archive())).toEqual([
      { type: 'FunnelArchived', data: { funnelId, archivedAt: nowIso } },
    ]);
  });

  it('given an updated funnel, when archived, then FunnelArchived', () => {
    const history = [created(), updated(2, { order: 'strict' })];
    expect(when(history, command.archive())).toEqual([
      { type: 'FunnelArchived', data: { funnelId, archivedAt: nowIso } },
    ]);
  });

  it('given an archived funnel, when archived again, then CONFLICT ILLEGAL_TRANSITION', () => {
    expect(rejection(historyOf.Archived, command.archive())).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
    });
  });

  it('given no funnel, when archived, then NOT_FOUND', () => {
    expect(rejection(historyOf.Nonexistent, command.archive())).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'NOT_FOUND',
      field: 'id',
    });
  });
});

describe('evolve', () => {
  it('given no events, then the funnel does not exist', () => {
    expect(given([])).toEqual({ status: 'Nonexistent' });
  });

  it('given FunnelCreated, then the funnel is active at version 1 with its definition', () => {
    expect(given([created({ order: 'strict' })])).toEqual({
      status: 'Active',
      funnelId,
      version: 1,
      definition: definition({ order: 'strict' }),
    });
  });

  it('given updates, then the state holds the latest version and definition', () => {
    expect(
      given([created(), updated(2, { name: 'Second' }), updated(3, { name: 'Third' })]),
    ).toEqual({
      status: 'Active',
      funnelId,
      version: 3,
      definition: definition({ name: 'Third' }),
    });
  });

  it('given FunnelArchived, then the funnel is archived and keeps its version and definition', () => {
    expect(given([created(), updated(2, { windowSeconds: day }), archived])).toEqual({
      status: 'Archived',
      funnelId,
      version: 2,
      definition: definition({ windowSeconds: day }),
    });
  });

  it('given only FunnelArchived, then there is still no funnel', () => {
    expect(given([archived])).toEqual({ status: 'Nonexistent' });
  });

  it('given the events the decider produces, then folding them gives the state the next decision expects', () => {
    const history: FunnelEvent[] = [];
    const decideAndRecord = (action: FunnelCommand): FunnelEvent[] => {
      const events = when(history, action);
      history.push(...events);
      return events;
    };

    decideAndRecord(command.create());
    expect(given(history)).toMatchObject({
      status: 'Active',
      version: 1,
      definition: definition(),
    });

    decideAndRecord(command.update(input({ order: 'strict' })));
    expect(decideAndRecord(command.update(input({ order: 'strict' })))).toEqual([]);
    expect(given(history)).toMatchObject({
      status: 'Active',
      version: 2,
      definition: definition({ order: 'strict' }),
    });

    expect(decideAndRecord(command.update(input({ order: 'unordered' })))).toMatchObject([
      { type: 'FunnelUpdated', data: { version: 3 } },
    ]);

    decideAndRecord(command.archive());
    expect(given(history)).toMatchObject({ status: 'Archived', version: 3 });
    expect(history.map((event) => event.type)).toEqual([
      'FunnelCreated',
      'FunnelUpdated',
      'FunnelUpdated',
      'FunnelArchived',
    ]);
  });
});

describe('funnelStreamId', () => {
  it('builds funnel-<workspace>:<funnel id>', () => {
    expect(funnelStreamId('acme', 'signup-to-purchase')).toBe('funnel-acme:signup-to-purchase');
  });

  it('accepts a funnel id with a colon, since only the workspace id must not have one', () => {
    expect(funnelStreamId('acme', 'q1:signup')).toBe('funnel-acme:q1:signup');
  });

  it.each([
    ['a colon', 'acme:eu'],
    ['nothing', ''],
    ['a space', 'ac me'],
    ['a slash', 'acme/eu'],
  ])('rejects a workspace id with %s', (_, workspaceId) => {
    expect(thrownBy(() => funnelStreamId(workspaceId, funnelId))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'workspaceId',
      reason: 'INVALID_ID',
    });
  });

  it('so workspace "a" with funnel "b:c" cannot be reached as workspace "a:b" with funnel "c"', () => {
    expect(funnelStreamId('a', 'b:c')).toBe('funnel-a:b:c');
    expect(thrownBy(() => funnelStreamId('a:b', 'c'))).toMatchObject({ reason: 'INVALID_ID' });
  });

  it.each([
    ['nothing', ''],
    ['a space', 'signup flow'],
    ['101 characters', 'f'.repeat(101)],
  ])('rejects a funnel id of %s', (_, id) => {
    expect(thrownBy(() => funnelStreamId('acme', id))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'id',
      reason: 'INVALID_ID',
    });
  });
});
