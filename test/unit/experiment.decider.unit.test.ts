import {
  currentPhase,
  experimentDecider,
  experimentEventTypes,
  experimentStreamId,
  isExperimentEvent,
  parseExperimentDefinition,
  type ExperimentCommand,
  type ExperimentDefinition,
  type ExperimentDefinitionInput,
  type ExperimentEvent,
  type ExperimentMetricInput,
  type ExperimentState,
  type StopExperiment,
} from '../../src/domain/experiment';
import {
  DomainError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '../../src/domain/shared/errors';
import type { CommandMetadata } from '../../src/domain/shared/events';

const experimentId = 'checkout-button';
const now = new Date('2025-03-01T12:00:00.000Z');
const nowIso = now.toISOString();
const metadata: CommandMetadata = { workspaceId: 'acme', commandId: 'command-1', now };

// ---- given: a definition and events ----------------------------------------------------------

const primaryMetricInput: ExperimentMetricInput = {
  key: 'purchase',
  name: 'Purchase',
  kind: 'conversion',
  event: 'Order Completed',
};

function definitionInput(
  overrides: Partial<ExperimentDefinitionInput> = {},
): ExperimentDefinitionInput {
  return {
    name: 'Green checkout button',
    hypothesis: 'A green button gets more orders',
    campaignId: 'spring-sale',
    surface: { kind: 'CTA', ref: 'checkout' },
    variants: [
      { key: 'control', name: 'Blue', weight: 50, content: { color: 'blue' } },
      { key: 'green', name: 'Green', weight: 50, content: { color: 'green' } },
    ],
    primaryMetric: primaryMetricInput,
    secondaryMetrics: [
      {
        key: 'revenue',
        name: 'Revenue',
        kind: 'value',
        event: 'Order Completed',
        property: 'revenue',
      },
    ],
    guardrailMetrics: [
      {
        key: 'refunds',
        name: 'Refunds',
        kind: 'conversion',
        event: 'Order Refunded',
        higherIsBetter: false,
      },
    ],
    method: 'bayesian',
    correction: 'benjamini-hochberg',
    minSamplePerVariant: 500,
    autoStop: true,
    ...overrides,
  };
}

const definition: ExperimentDefinition = {
  name: 'Green checkout button',
  hypothesis: 'A green button gets more orders',
  campaignId: 'spring-sale',
  surface: { kind: 'CTA', ref: 'checkout' },
  variants: [
    { key: 'control', name: 'Blue', weight: 50, content: { color: 'blue' } },
    { key: 'green', name: 'Green', weight: 50, content: { color: 'green' } },
  ],
  primaryMetric: {
    key: 'purchase',
    name: 'Purchase',
    kind: 'conversion',
    event: 'Order Completed',
    property: null,
    higherIsBetter: true,
  },
  secondaryMetrics: [
    {
      key: 'revenue',
      name: 'Revenue',
      kind: 'value',
      event: 'Order Completed',
      property: 'revenue',
      higherIsBetter: true,
    },
  ],
  guardrailMetrics: [
    {
      key: 'refunds',
      name: 'Refunds',
      kind: 'conversion',
      event: 'Order Refunded',
      property: null,
      higherIsBetter: false,
    },
  ],
  method: 'bayesian',
  correction: 'benjamini-hochberg',
  minSamplePerVariant: 500,
  autoStop: true,
};

const created: ExperimentEvent = {
  type: 'ExperimentCreated',
  data: { experimentId, definition, createdAt: '2025-02-01T09:00:00.000Z' },
};
const started: ExperimentEvent = {
  type: 'ExperimentStarted',
  data: {
    experimentId,
    phase: { phase: 1, weights: [50, 50], startedAt: '2025-02-02T00:00:00.000Z' },
  },
};
const reweighted: ExperimentEvent = {
  type: 'ExperimentWeightsChanged',
  data: {
    experimentId,
    phase: { phase: 2, weights: [20, 80], startedAt: '2025-02-03T00:00:00.000Z' },
  },
};
const stoppedWith = (winner: string | null): ExperimentEvent => ({
  type: 'ExperimentStopped',
  data: {
    experimentId,
    decision: { winner, note: 'done', decidedBy: 'manual', reason: null },
    stoppedAt: '2025-02-10T00:00:00.000Z',
  },
});
const applied: ExperimentEvent = {
  type: 'ExperimentWinnerApplied',
  data: {
    experimentId,
    variant: 'green',
    campaignId: 'spring-sale',
    surface: { kind: 'CTA', ref: 'checkout' },
    content: { color: 'green' },
    appliedAt: '2025-02-11T00:00:00.000Z',
  },
};

const historyOf = {
  Nonexistent: [],
  Draft: [created],
  Running: [created, started],
  Stopped: [created, started, stoppedWith('green')],
  StoppedWithoutWinner: [created, started, stoppedWith(null)],
  WinnerApplied: [created, started, stoppedWith('green'), applied],
} satisfies Record<ExperimentState['status'] | 'StoppedWithoutWinner', ExperimentEvent[]>;
type History = keyof typeof historyOf;

// ---- when: commands --------------------------------------------------------------------------

const command = {
  create: (input: ExperimentDefinitionInput = definitionInput(), id = experimentId) =>
    ({
      type: 'CreateExperiment',
      data: { experimentId: id, definition: input },
      metadata,
    }) satisfies ExperimentCommand,
  update: (input: ExperimentDefinitionInput = definitionInput({ name: 'Renamed' })) =>
    ({
      type: 'UpdateExperiment',
      data: { experimentId, definition: input },
      metadata,
    }) satisfies ExperimentCommand,
  start: () =>
    ({ type: 'StartExperiment', data: { experimentId }, metadata }) satisfies ExperimentCommand,
  changeWeights: (weights: number[] = [30, 70]) =>
    ({
      type: 'ChangeWeights',
      data: { experimentId, weights },
      metadata,
    }) satisfies ExperimentCommand,
  stop: (data: Partial<Omit<StopExperiment['data'], 'experimentId'>> = {}) =>
    ({
      type: 'StopExperiment',
      data: { experimentId, winner: null, note: 'no clear result', ...data },
      metadata,
    }) satisfies ExperimentCommand,
  declareWinner: (winner = 'green', note = 'green wins') =>
    ({
      type: 'DeclareWinner',
      data: { experimentId, winner, note },
      metadata,
    }) satisfies ExperimentCommand,
  applyWinner: () =>
    ({ type: 'ApplyWinner', data: { experimentId }, metadata }) satisfies ExperimentCommand,
};

// ---- then ------------------------------------------------------------------------------------

function given(events: readonly ExperimentEvent[]): ExperimentState {
  return events.reduce(experimentDecider.evolve, experimentDecider.initialState());
}

function when(events: readonly ExperimentEvent[], action: ExperimentCommand): ExperimentEvent[] {
  return experimentDecider.decide(action, given(events));
}

/** The events after running `actions` one after the other on `events`. */
function afterAll(events: readonly ExperimentEvent[], actions: readonly ExperimentCommand[]) {
  return actions.reduce<ExperimentEvent[]>(
    (history, action) => [...history, ...when(history, action)],
    [...events],
  );
}

function domainErrorOf(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}

function rejection(events: readonly ExperimentEvent[], action: ExperimentCommand): DomainError {
  return domainErrorOf(() => when(events, action));
}

function expectValidationError(error: DomainError, field: string, reason: string): void {
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toMatchObject({ kind: 'BAD_USER_INPUT', field, reason });
}

/** Rows [label, input, field, reason] as named cases, so `it.each` titles can say them. */
function rejectionCases<Input>(rows: readonly (readonly [string, Input, string, string])[]) {
  return rows.map(([label, input, field, reason]) => ({ label, input, field, reason }));
}

function expectConflict(error: DomainError, reason = 'ILLEGAL_TRANSITION'): void {
  expect(error).toBeInstanceOf(IllegalStateError);
  expect(error).toMatchObject({ kind: 'CONFLICT', reason });
}

describe('CreateExperiment', () => {
  it('given no experiment, when created with full input, then ExperimentCreated carries the definition', () => {
    expect(when([], command.create())).toEqual([
      { type: 'ExperimentCreated', data: { experimentId, definition, createdAt: nowIso } },
    ]);
  });

  it('given a minimal definition, then the defaults fill in the rest', () => {
    const [event] = when(
      [],
      command.create({
        name: '  Headline  ',
        hypothesis: ' Shorter is better ',
        campaignId: 'spring-sale',
        variants: [{ key: 'control' }, { key: 'short' }],
        primaryMetric: { key: 'signup', name: 'Signup', kind: 'conversion', event: '$pageview' },
      }),
    );
    expect(event).toEqual({
      type: 'ExperimentCreated',
      data: {
        experimentId,
        definition: {
          name: 'Headline',
          hypothesis: 'Shorter is better',
          campaignId: 'spring-sale',
          surface: { kind: 'CAMPAIGN', ref: null },
          variants: [
            { key: 'control', name: 'control', weight: 50, content: {} },
            { key: 'short', name: 'short', weight: 50, content: {} },
          ],
          primaryMetric: {
            key: 'signup',
            name: 'Signup',
            kind: 'conversion',
            event: '$pageview',
            property: null,
            higherIsBetter: true,
          },
          secondaryMetrics: [],
          guardrailMetrics: [],
          method: 'frequentist',
          correction: 'holm',
          minSamplePerVariant: 100,
          autoStop: false,
        },
        createdAt: nowIso,
      },
    });
  });

  it('given no weights, then the split is equal and the first variants take the remainder', () => {
    const parsed = parseExperimentDefinition(
      definitionInput({ variants: [{ key: 'a' }, { key: 'b' }, { key: 'c' }] }),
    );
    expect(parsed.variants.map((variant) => variant.weight)).toEqual([33.34, 33.33, 33.33]);
  });

  it('compares weights in hundredths, so 10.1 + 20.2 + 69.7 is exactly 100', () => {
    const parsed = parseExperimentDefinition(
      definitionInput({
        variants: [
          { key: 'a', weight: 10.1 },
          { key: 'b', weight: 20.2 },
          { key: 'c', weight: 69.7 },
        ],
      }),
    );
    expect(parsed.variants.map((variant) => variant.weight)).toEqual([10.1, 20.2, 69.7]);
  });

  it('accepts 10 variants, 10 metrics per list and content of exactly 16 KiB', () => {
    const metrics = (prefix: string) =>
      Array.from({ length: 10 }, (_, index) => ({
        ...primaryMetricInput,
        key: `${prefix}-${index}`,
      }));
    // {"x":"…"} is 8 bytes around the text.
    const content = { x: 'a'.repeat(16 * 1024 - 8) };
    expect(() =>
      parseExperimentDefinition(
        definitionInput({
          variants: Array.from({ length: 10 }, (_, index) => ({
            key: `v${index}`,
            weight: 10,
            content,
          })),
          secondaryMetrics: metrics('s'),
          guardrailMetrics: metrics('g'),
        }),
      ),
    ).not.toThrow();
  });

  it('given an existing experiment, when created again, then CONFLICT ALREADY_EXISTS', () => {
    expectConflict(rejection(historyOf.Draft, command.create()), 'ALREADY_EXISTS');
  });

  it.each(['', 'Upper', '-starts-with-dash', 'has space', 'dots.not.allowed', 'x'.repeat(65)])(
    'rejects the experiment key %p (experimentId INVALID_KEY)',
    (id) => {
      expectValidationError(
        rejection([], command.create(definitionInput(), id)),
        'experimentId',
        'INVALID_KEY',
      );
    },
  );

  const tooBig = { text: 'a'.repeat(16 * 1024) };
  const metric = (overrides: Partial<ExperimentMetricInput>): ExperimentMetricInput => ({
    ...primaryMetricInput,
    key: 'other',
    ...overrides,
  });

  it.each(
    rejectionCases<Partial<ExperimentDefinitionInput>>([
      ['an empty name', { name: '  ' }, 'name', 'REQUIRED'],
      ['a long name', { name: 'n'.repeat(201) }, 'name', 'TOO_LONG'],
      ['no hypothesis', { hypothesis: '' }, 'hypothesis', 'REQUIRED'],
      ['a long hypothesis', { hypothesis: 'h'.repeat(2001) }, 'hypothesis', 'TOO_LONG'],
      ['a bad campaign id', { campaignId: 'a/b' }, 'campaignId', 'INVALID_ID'],
      ['an unknown surface', { surface: { kind: 'SMS' } }, 'surface.kind', 'INVALID_SURFACE'],
      [
        'a bad surface ref',
        { surface: { kind: 'EMAIL', ref: 'a b' } },
        'surface.ref',
        'INVALID_ID',
      ],
      ['one variant', { variants: [{ key: 'a', weight: 100 }] }, 'variants', 'TOO_FEW_VARIANTS'],
      [
        '11 variants',
        { variants: Array.from({ length: 11 }, (_, index) => ({ key: `v${index}` })) },
        'variants',
        'TOO_MANY_VARIANTS',
      ],
      [
        'a repeated variant key',
        { variants: [{ key: 'a' }, { key: 'a' }] },
        'variants.1.key',
        'DUPLICATE_KEY',
      ],
      [
        'a variant key that is not a slug',
        { variants: [{ key: 'a' }, { key: 'B!' }] },
        'variants.1.key',
        'INVALID_KEY',
      ],
      [
        'a zero weight',
        {
          variants: [
            { key: 'a', weight: 0 },
            { key: 'b', weight: 100 },
          ],
        },
        'variants.0.weight',
        'INVALID_WEIGHT',
      ],
      [
        'a negative weight',
        {
          variants: [
            { key: 'a', weight: -10 },
            { key: 'b', weight: 110 },
          ],
        },
        'variants.0.weight',
        'INVALID_WEIGHT',
      ],
      [
        'a weight with 3 decimals',
        {
          variants: [
            { key: 'a', weight: 33.333 },
            { key: 'b', weight: 66.667 },
          ],
        },
        'variants.0.weight',
        'INVALID_WEIGHT',
      ],
      [
        'a weight that is not a number',
        {
          variants: [
            { key: 'a', weight: Number.NaN },
            { key: 'b', weight: 50 },
          ],
        },
        'variants.0.weight',
        'INVALID_WEIGHT',
      ],
      [
        'some weights but not all',
        { variants: [{ key: 'a', weight: 50 }, { key: 'b' }] },
        'variants.1.weight',
        'MISSING_WEIGHT',
      ],
      [
        'weights not summing to 100',
        {
          variants: [
            { key: 'a', weight: 50 },
            { key: 'b', weight: 40 },
          ],
        },
        'variants',
        'WEIGHTS_NOT_100',
      ],
      [
        'content over 16 KiB',
        { variants: [{ key: 'a' }, { key: 'b', content: tooBig }] },
        'variants.1.content',
        'TOO_LARGE',
      ],
      [
        'content that is not JSON',
        { variants: [{ key: 'a' }, { key: 'b', content: { at: Number.NaN } }] },
        'variants.1.content.at',
        'INVALID_CONTENT',
      ],
      [
        'no primary metric',
        { primaryMetric: undefined as unknown as ExperimentMetricInput },
        'primaryMetric',
        'REQUIRED',
      ],
      [
        'a metric key that is not a slug',
        { primaryMetric: metric({ key: 'Purchase Rate' }) },
        'primaryMetric.key',
        'INVALID_KEY',
      ],
      [
        'an unknown metric kind',
        { primaryMetric: metric({ kind: 'ratio' }) },
        'primaryMetric.kind',
        'INVALID_KIND',
      ],
      [
        'a metric without event',
        { primaryMetric: metric({ event: ' ' }) },
        'primaryMetric.event',
        'REQUIRED',
      ],
      [
        'a metric without name',
        { primaryMetric: metric({ name: '' }) },
        'primaryMetric.name',
        'REQUIRED',
      ],
      [
        'a value metric without property',
        { primaryMetric: metric({ kind: 'value' }) },
        'primaryMetric.property',
        'MISSING_PROPERTY',
      ],
      [
        'a conversion metric with a property',
        { secondaryMetrics: [metric({ property: 'revenue' })] },
        'secondaryMetrics.0.property',
        'UNEXPECTED_PROPERTY',
      ],
      [
        'a property path with an empty segment',
        { secondaryMetrics: [metric({ kind: 'value', property: 'order..total' })] },
        'secondaryMetrics.0.property',
        'INVALID_PROPERTY',
      ],
      [
        'a metric key used in two lists',
        { guardrailMetrics: [metric({ key: 'purchase' })] },
        'guardrailMetrics.0.key',
        'DUPLICATE_KEY',
      ],
      [
        'a metric key used twice in one list',
        { secondaryMetrics: [metric({ key: 'x' }), metric({ key: 'x' })] },
        'secondaryMetrics.1.key',
        'DUPLICATE_KEY',
      ],
      [
        '11 secondary metrics',
        {
          secondaryMetrics: Array.from({ length: 11 }, (_, index) => metric({ key: `m${index}` })),
        },
        'secondaryMetrics',
        'TOO_MANY_METRICS',
      ],
      ['an unknown method', { method: 'bandit' }, 'method', 'INVALID_METHOD'],
      ['an unknown correction', { correction: 'bonferroni' }, 'correction', 'INVALID_CORRECTION'],
      [
        'a negative sample size',
        { minSamplePerVariant: -1 },
        'minSamplePerVariant',
        'INVALID_COUNT',
      ],
      [
        'a fractional sample size',
        { minSamplePerVariant: 1.5 },
        'minSamplePerVariant',
        'INVALID_COUNT',
      ],
    ]),
  )('given $label, then $field $reason', ({ input: overrides, field, reason }) => {
    expectValidationError(rejection([], command.create(definitionInput(overrides))), field, reason);
  });

  it('says what the weights sum to', () => {
    const error = rejection(
      [],
      command.create(
        definitionInput({
          variants: [
            { key: 'a', weight: 33.33 },
            { key: 'b', weight: 33.33 },
            { key: 'c', weight: 33.33 },
          ],
        }),
      ),
    );
    expectValidationError(error, 'variants', 'WEIGHTS_NOT_100');
    expect(error.message).toContain('99.99');
  });
});

describe('UpdateExperiment', () => {
  it('given a draft, when updated, then ExperimentUpdated carries the whole new definition', () => {
    const events = when(historyOf.Draft, command.update());
    expect(events).toEqual([
      {
        type: 'ExperimentUpdated',
        data: { experimentId, definition: { ...definition, name: 'Renamed' }, updatedAt: nowIso },
      },
    ]);
    const state = given([...historyOf.Draft, ...events]);
    expect(state).toMatchObject({ status: 'Draft', definition: { name: 'Renamed' } });
  });

  it('given a draft, when the same definition is sent again, then no event', () => {
    expect(when(historyOf.Draft, command.update(definitionInput()))).toEqual([]);
  });

  it('validates like create does', () => {
    expectValidationError(
      rejection(historyOf.Draft, command.update(definitionInput({ method: 'magic' }))),
      'method',
      'INVALID_METHOD',
    );
  });

  it.each(['Running', 'Stopped', 'WinnerApplied'] as const)(
    'given a %s experiment, when updated, then CONFLICT ILLEGAL_TRANSITION',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.update()));
    },
  );
});

describe('StartExperiment', () => {
  it('given a draft, when started, then phase 1 with the definition weights', () => {
    const events = when(historyOf.Draft, command.start());
    expect(events).toEqual([
      {
        type: 'ExperimentStarted',
        data: { experimentId, phase: { phase: 1, weights: [50, 50], startedAt: nowIso } },
      },
    ]);
    const state = given([...historyOf.Draft, ...events]);
    expect(state.status).toBe('Running');
    expect(currentPhase(state)).toEqual({ phase: 1, weights: [50, 50], startedAt: nowIso });
  });

  it('given a draft, then there is no current phase yet', () => {
    expect(currentPhase(given(historyOf.Draft))).toBeNull();
    expect(currentPhase(given([]))).toBeNull();
  });

  it.each(['Running', 'Stopped', 'WinnerApplied'] as const)(
    'given a %s experiment, when started, then CONFLICT ILLEGAL_TRANSITION',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.start()));
    },
  );
});

describe('ChangeWeights', () => {
  it('given a running experiment, when the weights change, then a new phase 2', () => {
    const events = when(historyOf.Running, command.changeWeights([30, 70]));
    expect(events).toEqual([
      {
        type: 'ExperimentWeightsChanged',
        data: { experimentId, phase: { phase: 2, weights: [30, 70], startedAt: nowIso } },
      },
    ]);
    const state = given([...historyOf.Running, ...events]);
    expect(state).toMatchObject({ status: 'Running' });
    expect(state.status !== 'Nonexistent' && state.phases.map((phase) => phase.phase)).toEqual([
      1, 2,
    ]);
  });

  it('given phase 2, when the weights change again, then phase 3', () => {
    const [event] = when([...historyOf.Running, reweighted], command.changeWeights([50, 50]));
    expect(event).toMatchObject({ data: { phase: { phase: 3, weights: [50, 50] } } });
  });

  it('given the same weights as the current phase, then no event', () => {
    expect(when(historyOf.Running, command.changeWeights([50, 50]))).toEqual([]);
    expect(when([...historyOf.Running, reweighted], command.changeWeights([20, 80]))).toEqual([]);
  });

  it.each(
    rejectionCases<number[]>([
      ['too few weights', [100], 'weights', 'WEIGHT_COUNT_MISMATCH'],
      ['too many weights', [20, 30, 50], 'weights', 'WEIGHT_COUNT_MISMATCH'],
      ['a sum of 90', [40, 50], 'weights', 'WEIGHTS_NOT_100'],
      ['a zero weight', [0, 100], 'weights.0', 'INVALID_WEIGHT'],
      ['a negative weight', [50, -50], 'weights.1', 'INVALID_WEIGHT'],
      ['three decimals', [50.005, 49.995], 'weights.0', 'INVALID_WEIGHT'],
    ]),
  )('given $label, then $field $reason', ({ input: weights, field, reason }) => {
    expectValidationError(
      rejection(historyOf.Running, command.changeWeights(weights)),
      field,
      reason,
    );
  });

  it.each(['Draft', 'Stopped', 'WinnerApplied'] as const)(
    'given a %s experiment, when the weights change, then CONFLICT ILLEGAL_TRANSITION',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.changeWeights()));
    },
  );
});

describe('StopExperiment', () => {
  it('given a running experiment, when stopped with a winner, then ExperimentStopped with the decision', () => {
    const events = when(historyOf.Running, command.stop({ winner: 'green', note: '  ship it ' }));
    expect(events).toEqual([
      {
        type: 'ExperimentStopped',
        data: {
          experimentId,
          decision: { winner: 'green', note: 'ship it', decidedBy: 'manual', reason: null },
          stoppedAt: nowIso,
        },
      },
    ]);
    expect(given([...historyOf.Running, ...events])).toMatchObject({
      status: 'Stopped',
      decision: { winner: 'green' },
      stoppedAt: nowIso,
    });
  });

  it('given a running experiment, when the process manager stops it, then decidedBy auto and its reason', () => {
    const [event] = when(
      historyOf.Running,
      command.stop({ winner: null, note: '', decidedBy: 'auto', reason: 'guardrail refunds' }),
    );
    expect(event).toMatchObject({
      type: 'ExperimentStopped',
      data: {
        decision: { winner: null, note: '', decidedBy: 'auto', reason: 'guardrail refunds' },
      },
    });
  });

  it.each(
    rejectionCases<Partial<StopExperiment['data']>>([
      ['an unknown winner', { winner: 'purple' }, 'winner', 'UNKNOWN_VARIANT'],
      ['a long note', { note: 'n'.repeat(2001) }, 'note', 'TOO_LONG'],
      ['a long reason', { reason: 'r'.repeat(501) }, 'reason', 'TOO_LONG'],
      [
        'an unknown decider',
        { decidedBy: 'robot' as unknown as 'auto' },
        'decidedBy',
        'INVALID_DECIDED_BY',
      ],
    ]),
  )('given $label, then $field $reason', ({ input: data, field, reason }) => {
    expectValidationError(rejection(historyOf.Running, command.stop(data)), field, reason);
  });

  it.each(['Draft', 'Stopped', 'WinnerApplied'] as const)(
    'given a %s experiment, when stopped, then CONFLICT ILLEGAL_TRANSITION',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.stop()));
    },
  );
});

describe('DeclareWinner', () => {
  it('given a running experiment, then it stops with that winner, decided by hand', () => {
    expect(when(historyOf.Running, command.declareWinner('green', 'clear win'))).toEqual([
      {
        type: 'ExperimentStopped',
        data: {
          experimentId,
          decision: { winner: 'green', note: 'clear win', decidedBy: 'manual', reason: null },
          stoppedAt: nowIso,
        },
      },
    ]);
  });

  it('given an experiment stopped without a winner, then ExperimentWinnerDeclared names it', () => {
    const events = when(historyOf.StoppedWithoutWinner, command.declareWinner('control'));
    expect(events).toEqual([
      {
        type: 'ExperimentWinnerDeclared',
        data: {
          experimentId,
          decision: { winner: 'control', note: 'green wins', decidedBy: 'manual', reason: null },
          declaredAt: nowIso,
        },
      },
    ]);
    expect(given([...historyOf.StoppedWithoutWinner, ...events])).toMatchObject({
      status: 'Stopped',
      decision: { winner: 'control' },
    });
  });

  it('given an experiment stopped with a winner, then CONFLICT WINNER_ALREADY_DECLARED', () => {
    expectConflict(
      rejection(historyOf.Stopped, command.declareWinner('control')),
      'WINNER_ALREADY_DECLARED',
    );
  });

  it.each(['Draft', 'WinnerApplied'] as const)(
    'given a %s experiment, then CONFLICT ILLEGAL_TRANSITION',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.declareWinner()));
    },
  );

  it('given a variant that does not exist, then winner UNKNOWN_VARIANT', () => {
    expectValidationError(
      rejection(historyOf.Running, command.declareWinner('purple')),
      'winner',
      'UNKNOWN_VARIANT',
    );
  });
});

describe('ApplyWinner', () => {
  it('given an experiment stopped with a winner, then ExperimentWinnerApplied carries its content', () => {
    const events = when(historyOf.Stopped, command.applyWinner());
    expect(events).toEqual([{ ...applied, data: { ...applied.data, appliedAt: nowIso } }]);
    expect(given([...historyOf.Stopped, ...events])).toMatchObject({
      status: 'WinnerApplied',
      appliedAt: nowIso,
      decision: { winner: 'green' },
    });
  });

  it('given a winner declared after the stop, then that winner is applied', () => {
    const history = afterAll(historyOf.StoppedWithoutWinner, [command.declareWinner('control')]);
    const [event] = when(history, command.applyWinner());
    expect(event).toMatchObject({
      type: 'ExperimentWinnerApplied',
      data: { variant: 'control', content: { color: 'blue' } },
    });
  });

  it.each(['StoppedWithoutWinner', 'Running', 'Draft'] as const)(
    'given a %s experiment, then CONFLICT NO_WINNER',
    (phase) => {
      expectConflict(rejection(historyOf[phase], command.applyWinner()), 'NO_WINNER');
    },
  );

  it('given the winner applied, when applied twice, then CONFLICT ILLEGAL_TRANSITION', () => {
    const history = afterAll(historyOf.Stopped, [command.applyWinner()]);
    expectConflict(rejection(history, command.applyWinner()));
  });
});

describe('the lifecycle', () => {
  it('draft → running → weights changed (phase 2) → stopped → winner applied', () => {
    const history = afterAll(
      [],
      [
        command.create(),
        command.start(),
        command.changeWeights([20, 80]),
        command.stop({ winner: 'green', note: 'green converts better' }),
        command.applyWinner(),
      ],
    );
    expect(history.map((event) => event.type)).toEqual([
      'ExperimentCreated',
      'ExperimentStarted',
      'ExperimentWeightsChanged',
      'ExperimentStopped',
      'ExperimentWinnerApplied',
    ]);
    const states = history.map((_, index) => given(history.slice(0, index + 1)).status);
    expect(states).toEqual(['Draft', 'Running', 'Running', 'Stopped', 'WinnerApplied']);
    const state = given(history);
    expect(state.status !== 'Nonexistent' && state.phases).toEqual([
      { phase: 1, weights: [50, 50], startedAt: nowIso },
      { phase: 2, weights: [20, 80], startedAt: nowIso },
    ]);
    expect(currentPhase(state)).toMatchObject({ phase: 2 });
    expect(history.every(isExperimentEvent)).toBe(true);
  });
});

describe('the transition table', () => {
  const commands = {
    update: command.update(),
    start: command.start(),
    changeWeights: command.changeWeights(),
    stop: command.stop(),
    declareWinner: command.declareWinner(),
    applyWinner: command.applyWinner(),
  };
  const allowedIn: Record<keyof typeof commands, readonly History[]> = {
    update: ['Draft'],
    start: ['Draft'],
    changeWeights: ['Running'],
    stop: ['Running'],
    declareWinner: ['Running', 'StoppedWithoutWinner'],
    applyWinner: ['Stopped'],
  };
  const existing = [
    'Draft',
    'Running',
    'Stopped',
    'StoppedWithoutWinner',
    'WinnerApplied',
  ] as const;
  const cases = Object.entries(commands).flatMap(([name, action]) =>
    existing.map((phase) => ({
      name,
      phase,
      action,
      allowed: allowedIn[name as keyof typeof commands].includes(phase),
    })),
  );

  it.each(cases.filter((each) => each.allowed))(
    'given $phase, when $name, then one event',
    ({ phase, action }) => {
      expect(when(historyOf[phase], action)).toHaveLength(1);
    },
  );

  it.each(cases.filter((each) => !each.allowed))(
    'given $phase, when $name, then CONFLICT',
    ({ phase, action }) => {
      expect(rejection(historyOf[phase], action)).toMatchObject({ kind: 'CONFLICT' });
    },
  );

  it.each(Object.entries(commands))('given no experiment, when %s, then NOT_FOUND', (_, action) => {
    const error = rejection(historyOf.Nonexistent, action);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ kind: 'NOT_FOUND', reason: 'NOT_FOUND' });
  });
});

describe('evolve', () => {
  it('given an event for a phase the stream never reached, then the state stays', () => {
    expect(given([started])).toEqual({ status: 'Nonexistent' });
    expect(given([created, stoppedWith('green')]).status).toBe('Draft');
    expect(given([created, applied]).status).toBe('Draft');
  });

  it('lists every event type', () => {
    expect([...experimentEventTypes].sort()).toEqual(
      [
        'ExperimentCreated',
        'ExperimentStarted',
        'ExperimentStopped',
        'ExperimentUpdated',
        'ExperimentWeightsChanged',
        'ExperimentWinnerApplied',
        'ExperimentWinnerDeclared',
      ].sort(),
    );
    expect(isExperimentEvent({ type: 'CampaignCreated', data: {} })).toBe(false);
  });
});

describe('experimentStreamId', () => {
  it('names the stream after the workspace and the experiment key', () => {
    expect(experimentStreamId('acme', 'checkout-button')).toBe('experiment-acme:checkout-button');
  });

  it.each([
    ['', 'k', 'workspaceId', 'INVALID_ID'],
    ['a:b', 'k', 'workspaceId', 'INVALID_ID'],
    ['acme', '', 'key', 'INVALID_KEY'],
    ['acme', 'Checkout', 'key', 'INVALID_KEY'],
    ['acme', 'k'.repeat(65), 'key', 'INVALID_KEY'],
  ])('rejects workspace %p with key %p on %s (%s)', (workspaceId, key, field, reason) => {
    expectValidationError(
      domainErrorOf(() => experimentStreamId(workspaceId, key)),
      field,
      reason,
    );
  });
});
