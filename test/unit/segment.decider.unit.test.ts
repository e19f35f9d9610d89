import {
  contactIdLength,
  parseConditionTree,
  segmentClockStreamId,
  segmentClockStreamPrefix,
  segmentDecider,
  segmentDefinitionLimits,
  segmentMembersPerCommand,
  segmentStreamId,
  segmentStreamPrefix,
  type KnownSegments,
  type SegmentCommand,
  type SegmentCreated,
  type SegmentDefinition,
  type SegmentDefinitionInput,
  type SegmentEvent,
  type SegmentState,
  type SegmentUpdated,
} from '../../src/domain/segment';
import type { CommandMetadata } from '../../src/domain/shared/events';

const segmentId = 'power-users';
const now = new Date('2026-03-01T12:00:00.000Z');
const nowIso = now.toISOString();
const metadata: CommandMetadata = { workspaceId: 'acme', commandId: 'command-1', now };

// ---- given: definitions and events ----------------------------------------------------------

const isPro = { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' };
const boughtRecently = {
  kind: 'performed',
  event: 'purchase',
  count: { op: 'atLeast', value: 1 },
  window: { lastDays: 30 },
};
const proWhoBought = { kind: 'and', conditions: [isPro, boughtRecently] };
const member = (id: string) => ({ kind: 'memberOf', segmentId: id });
/** `plan eq pro` and membership of `id`, so the tree passes the negation rule. */
const proAndMemberOf = (id: string) => ({ kind: 'and', conditions: [isPro, member(id)] });

/** The smallest valid dynamic input: a name and a tree; every other field takes its default. */
function input(overrides: Partial<SegmentDefinitionInput> = {}): SegmentDefinitionInput {
  return { name: 'Power users', conditions: proWhoBought, ...overrides };
}

function staticInput(overrides: Partial<SegmentDefinitionInput> = {}): SegmentDefinitionInput {
  return { name: 'Imported leads', kind: 'static', ...overrides };
}

/** What `input()` becomes once checked and completed. */
function definition(overrides: Partial<SegmentDefinition> = {}): SegmentDefinition {
  return {
    name: 'Power users',
    description: null,
    kind: 'dynamic',
    conditions: parseConditionTree(proWhoBought),
    ...overrides,
  };
}

function staticDefinition(overrides: Partial<SegmentDefinition> = {}): SegmentDefinition {
  return {
    name: 'Imported leads',
    description: null,
    kind: 'static',
    conditions: null,
    ...overrides,
  };
}

function created(segmentDefinition: SegmentDefinition = definition()): SegmentCreated {
  return {
    type: 'SegmentCreated',
    data: {
      segmentId,
      version: 1,
      definition: segmentDefinition,
      createdAt: '2026-02-01T09:00:00.000Z',
    },
  };
}

function updated(version: number, segmentDefinition: SegmentDefinition): SegmentUpdated {
  return {
    type: 'SegmentUpdated',
    data: {
      segmentId,
      version,
      definition: segmentDefinition,
      updatedAt: '2026-02-02T09:00:00.000Z',
    },
  };
}

const archived: SegmentEvent = {
  type: 'SegmentArchived',
  data: { segmentId, archivedAt: '2026-02-03T09:00:00.000Z' },
};

const membersAdded = (contactIds: string[]): SegmentEvent => ({
  type: 'SegmentMembersAdded',
  data: { segmentId, contactIds, source: 'import', addedAt: '2026-02-02T10:00:00.000Z' },
});

const historyOf = {
  Nonexistent: [],
  Active: [created()],
  Archived: [created(), archived],
  ActiveStatic: [created(staticDefinition())],
  ArchivedStatic: [created(staticDefinition()), archived],
} satisfies Record<string, SegmentEvent[]>;

// ---- when: commands --------------------------------------------------------------------------

const command = {
  create: (
    definitionInput: SegmentDefinitionInput = input(),
    knownSegments: KnownSegments = {},
  ): SegmentCommand => ({
    type: 'CreateSegment',
    data: { segmentId, definition: definitionInput, knownSegments },
    metadata,
  }),
  update: (
    definitionInput: SegmentDefinitionInput,
    knownSegments: KnownSegments = {},
  ): SegmentCommand => ({
    type: 'UpdateSegment',
    data: { segmentId, definition: definitionInput, knownSegments },
    metadata,
  }),
  archive: (referencedBy: readonly string[] = []): SegmentCommand => ({
    type: 'ArchiveSegment',
    data: { segmentId, referencedBy },
    metadata,
  }),
  add: (contactIds: readonly string[], source: 'manual' | 'import' = 'manual'): SegmentCommand => ({
    type: 'AddSegmentMembers',
    data: { segmentId, contactIds, source },
    metadata,
  }),
  remove: (contactIds: readonly string[]): SegmentCommand => ({
    type: 'RemoveSegmentMembers',
    data: { segmentId, contactIds },
    metadata,
  }),
};

// ---- then ------------------------------------------------------------------------------------

function given(events: readonly SegmentEvent[]): SegmentState {
  return events.reduce(segmentDecider.evolve, segmentDecider.initialState());
}

function when(events: readonly SegmentEvent[], action: SegmentCommand): SegmentEvent[] {
  return segmentDecider.decide(action, given(events));
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

function rejection(events: readonly SegmentEvent[], action: SegmentCommand): unknown {
  return thrownBy(() => when(events, action));
}

/** The definition a single SegmentCreated carries after creating a segment from `definitionInput`. */
function createdDefinition(
  definitionInput: SegmentDefinitionInput,
  knownSegments: KnownSegments = {},
): SegmentDefinition {
  const events = when([], command.create(definitionInput, knownSegments));
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event.type !== 'SegmentCreated')
    throw new Error(`expected SegmentCreated, got ${event.type}`);
  return event.data.definition;
}

const contacts = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `contact-${index}`);

describe('CreateSegment', () => {
  it('given no segment, when created with a name and a tree only, then SegmentCreated version 1, dynamic, with the tree normalised', () => {
    expect(when([], command.create())).toEqual([
      {
        type: 'SegmentCreated',
        data: {
          segmentId,
          version: 1,
          definition: {
            name: 'Power users',
            description: null,
            kind: 'dynamic',
            conditions: {
              kind: 'and',
              conditions: [
                {
                  kind: 'trait',
                  condition: {
                    property: 'plan',
                    operator: 'eq',
                    value: 'pro',
                    caseSensitive: true,
                  },
                },
                {
                  kind: 'performed',
                  event: 'purchase',
                  filters: [],
                  count: { op: 'atLeast', value: 1 },
                  window: { lastDays: 30 },
                },
              ],
            },
          },
          createdAt: nowIso,
        },
      },
    ]);
  });

  it('given no segment, when created with null optional fields, then they take the same defaults', () => {
    expect(createdDefinition(input({ description: null, kind: null }))).toEqual(definition());
  });

  it('given no segment, when created with every field, then the name and description are trimmed', () => {
    expect(
      createdDefinition(
        input({
          name: '  Power users ',
          description: '  Pro plan, bought lately ',
          kind: 'dynamic',
        }),
      ),
    ).toEqual(definition({ description: 'Pro plan, bought lately' }));
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
  ])('given no segment, when the description is %s, then it is null', (_, description) => {
    expect(createdDefinition(input({ description })).description).toBeNull();
  });

  it.each([
    ['absent', {}],
    ['null', { conditions: null }],
  ])(
    'given no segment, when a static segment is created with its conditions %s, then SegmentCreated with no tree',
    (_, conditions) => {
      expect(when([], command.create(staticInput(conditions)))).toEqual([
        {
          type: 'SegmentCreated',
          data: { segmentId, version: 1, definition: staticDefinition(), createdAt: nowIso },
        },
      ]);
    },
  );

  it('accepts the limits themselves: a 200-character name and a 2,000-character description', () => {
    const name = 'n'.repeat(segmentDefinitionLimits.nameLength);
    const description = 'd'.repeat(segmentDefinitionLimits.descriptionLength);
    expect(createdDefinition(input({ name, description }))).toMatchObject({ name, description });
    expect(segmentDefinitionLimits).toEqual({ nameLength: 200, descriptionLength: 2000 });
  });

  it.each(['Active', 'Archived', 'ActiveStatic'] as const)(
    'given an %s segment, when created again, then CONFLICT ALREADY_EXISTS',
    (phase) => {
      expect(rejection(historyOf[phase], command.create())).toMatchObject({
        kind: 'CONFLICT',
        reason: 'ALREADY_EXISTS',
      });
    },
  );

  it('given a created segment, when the same create is decided again from the folded state, then CONFLICT ALREADY_EXISTS', () => {
    const first = when([], command.create());
    expect(rejection(first, command.create())).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ALREADY_EXISTS',
    });
  });
});

describe('definition rules', () => {
  it.each<[string, SegmentDefinitionInput, string, string]>([
    // name
    ['an empty name', input({ name: '' }), 'name', 'REQUIRED'],
    ['a blank name', input({ name: '   ' }), 'name', 'REQUIRED'],
    ['a 201-character name', input({ name: 'x'.repeat(201) }), 'name', 'TOO_LONG'],
    // description
    [
      'a 2,001-character description',
      input({ description: 'd'.repeat(2001) }),
      'description',
      'TOO_LONG',
    ],
    // kind
    ['an unknown kind', input({ kind: 'manual' }), 'kind', 'INVALID_KIND'],
    ['a kind in the wrong case', input({ kind: 'Static' }), 'kind', 'INVALID_KIND'],
    ['an empty kind', input({ kind: '' }), 'kind', 'INVALID_KIND'],
    // conditions against the kind
    [
      'a dynamic segment without conditions',
      { name: 'Power users' },
      'conditions',
      'MISSING_CONDITIONS',
    ],
    [
      'a dynamic segment with null conditions',
      input({ conditions: null }),
      'conditions',
      'MISSING_CONDITIONS',
    ],
    [
      'an explicit dynamic segment without conditions',
      { name: 'Power users', kind: 'dynamic' },
      'conditions',
      'MISSING_CONDITIONS',
    ],
    [
      'a static segment with conditions',
      staticInput({ conditions: isPro }),
      'conditions',
      'INVALID_VALUE',
    ],
    // the tree's own errors, under `conditions`
    [
      'a tree that is not an object',
      input({ conditions: 'plan = pro' }),
      'conditions',
      'INVALID_CONDITION',
    ],
    [
      'an unknown root kind',
      input({ conditions: { kind: 'sql' } }),
      'conditions.kind',
      'UNKNOWN_KIND',
    ],
    [
      'an unknown operator in a group',
      input({ conditions: { kind: 'and', conditions: [isPro, { ...isPro, operator: 'like' }] } }),
      'conditions.conditions.1.operator',
      'UNKNOWN_OPERATOR',
    ],
    [
      'an empty group',
      input({ conditions: { kind: 'or', conditions: [] } }),
      'conditions.conditions',
      'EMPTY_GROUP',
    ],
    [
      'a lone negation',
      input({ conditions: { kind: 'not', condition: isPro } }),
      'conditions.kind',
      'ONLY_NEGATIONS',
    ],
    [
      'a window of zero days deep in the tree',
      input({
        conditions: {
          kind: 'and',
          conditions: [
            isPro,
            { kind: 'not', condition: { ...boughtRecently, window: { lastDays: 0 } } },
          ],
        },
      }),
      'conditions.conditions.1.condition.window.lastDays',
      'INVALID_VALUE',
    ],
  ])(
    'given no segment, when created with %s, then BAD_USER_INPUT at %s',
    (_, definitionInput, field, reason) => {
      expect(rejection([], command.create(definitionInput))).toMatchObject({
        kind: 'BAD_USER_INPUT',
        name: 'ValidationError',
        field,
        reason,
      });
    },
  );

  it("keeps the tree's own message and reason, only the field is prefixed", () => {
    const tree = { kind: 'and', conditions: [isPro, { ...isPro, operator: 'like' }] };
    const fromTree = thrownBy(() => parseConditionTree(tree)) as Error & { reason: string };
    expect(rejection([], command.create(input({ conditions: tree })))).toMatchObject({
      message: fromTree.message,
      reason: fromTree.reason,
      field: `conditions.${(fromTree as { field?: string }).field}`,
    });
  });
});

describe('memberOf references', () => {
  const vip = parseConditionTree({ kind: 'trait', property: 'tier', operator: 'eq', value: 'vip' });

  it('given a known dynamic segment, when a segment includes it, then the reference is kept', () => {
    const result = createdDefinition(input({ conditions: proAndMemberOf('vip') }), {
      vip: { kind: 'dynamic', conditions: vip },
    });
    expect(result.conditions).toEqual({
      kind: 'and',
      conditions: [parseConditionTree(isPro), { kind: 'memberOf', segmentId: 'vip' }],
    });
  });

  it('given a known static segment, when a segment includes it, then accepted', () => {
    const result = createdDefinition(input({ conditions: proAndMemberOf('imported') }), {
      imported: { kind: 'static' },
    });
    expect(result.conditions).toMatchObject({
      conditions: [{}, { kind: 'memberOf', segmentId: 'imported' }],
    });
  });

  it('given a segment the read model does not know, then UNKNOWN_SEGMENT at the reference', () => {
    expect(
      rejection(
        [],
        command.create(input({ conditions: proAndMemberOf('gone') }), {
          vip: { kind: 'dynamic', conditions: vip },
        }),
      ),
    ).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'conditions.conditions.1.segmentId',
      reason: 'UNKNOWN_SEGMENT',
    });
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'given a reference to %s, then UNKNOWN_SEGMENT, not a property of every object',
    (id) => {
      expect(
        rejection([], command.create(input({ conditions: proAndMemberOf(id) }))),
      ).toMatchObject({ field: 'conditions.conditions.1.segmentId', reason: 'UNKNOWN_SEGMENT' });
    },
  );

  it('given a memberOf at the root, then its field is conditions.segmentId', () => {
    // A lone memberOf is not a negation, so only the reference check can refuse it.
    expect(rejection([], command.create(input({ conditions: member('gone') })))).toMatchObject({
      field: 'conditions.segmentId',
      reason: 'UNKNOWN_SEGMENT',
    });
  });

  it('given a segment that includes itself, then SEGMENT_CYCLE', () => {
    expect(
      rejection(historyOf.Active, command.update(input({ conditions: proAndMemberOf(segmentId) }))),
    ).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'conditions.conditions.1.segmentId',
      reason: 'SEGMENT_CYCLE',
    });
  });

  it('given vip includes this segment, when this segment is updated to include vip, then SEGMENT_CYCLE', () => {
    const knownSegments: KnownSegments = {
      vip: { kind: 'dynamic', conditions: parseConditionTree(proAndMemberOf(segmentId)) },
    };
    const error = rejection(
      historyOf.Active,
      command.update(input({ conditions: proAndMemberOf('vip') }), knownSegments),
    );
    expect(error).toMatchObject({
      field: 'conditions.conditions.1.segmentId',
      reason: 'SEGMENT_CYCLE',
    });
    expect((error as Error).message).toContain(`${segmentId} → vip → ${segmentId}`);
  });

  it('given a → b → this segment among the known ones, when this segment includes a, then SEGMENT_CYCLE', () => {
    const knownSegments: KnownSegments = {
      a: { kind: 'dynamic', conditions: parseConditionTree(proAndMemberOf('b')) },
      b: { kind: 'dynamic', conditions: parseConditionTree(proAndMemberOf(segmentId)) },
    };
    expect(
      rejection(
        historyOf.Active,
        command.update(input({ conditions: proAndMemberOf('a') }), knownSegments),
      ),
    ).toMatchObject({ reason: 'SEGMENT_CYCLE' });
  });

  it('given a chain that ends in a static segment, then no cycle', () => {
    const knownSegments: KnownSegments = {
      a: { kind: 'dynamic', conditions: parseConditionTree(proAndMemberOf('imported')) },
      imported: { kind: 'static' },
    };
    expect(
      when(
        historyOf.Active,
        command.update(input({ conditions: proAndMemberOf('a') }), knownSegments),
      ),
    ).toMatchObject([{ type: 'SegmentUpdated', data: { version: 2 } }]);
  });
});

describe('UpdateSegment', () => {
  it('given an active segment, when updated with a new tree and a description, then SegmentUpdated version 2 with the whole new definition', () => {
    const events = when(
      historyOf.Active,
      command.update(input({ conditions: isPro, description: 'All pro' })),
    );
    expect(events).toEqual([
      {
        type: 'SegmentUpdated',
        data: {
          segmentId,
          version: 2,
          definition: definition({ conditions: parseConditionTree(isPro), description: 'All pro' }),
          updatedAt: nowIso,
        },
      },
    ]);
  });

  it('given a segment at version 3, when updated, then the new version is 4', () => {
    const history = [
      created(),
      updated(2, definition({ name: 'Second' })),
      updated(3, definition({ name: 'Third' })),
    ];
    const [event] = when(history, command.update(input({ name: 'Fourth' })));
    expect(event).toMatchObject({
      type: 'SegmentUpdated',
      data: { version: 4, definition: { name: 'Fourth' } },
    });
  });

  it('given an active segment, when updated with the identical definition, then no event', () => {
    expect(when(historyOf.Active, command.update(input()))).toEqual([]);
  });

  it('given an active segment, when updated with the same definition written out with its defaults and padding, then no event', () => {
    const sameDefinition = command.update({
      name: ' Power users ',
      description: '  ',
      kind: 'dynamic',
      conditions: {
        kind: 'and',
        conditions: [{ ...isPro, property: ' plan ', caseSensitive: true }, boughtRecently],
      },
    });
    expect(when(historyOf.Active, sameDefinition)).toEqual([]);
  });

  it('given an updated segment, when updated back to its first definition, then a new version, not a no-op', () => {
    const history = [created(), updated(2, definition({ name: 'Renamed' }))];
    expect(when(history, command.update(input()))).toEqual([
      {
        type: 'SegmentUpdated',
        data: { segmentId, version: 3, definition: definition(), updatedAt: nowIso },
      },
    ]);
  });

  it('given a static segment, when renamed without repeating its kind, then the kind is kept', () => {
    expect(when(historyOf.ActiveStatic, command.update({ name: 'Leads from the fair' }))).toEqual([
      {
        type: 'SegmentUpdated',
        data: {
          segmentId,
          version: 2,
          definition: staticDefinition({ name: 'Leads from the fair' }),
          updatedAt: nowIso,
        },
      },
    ]);
  });

  it('given a static segment, when updated with its identical definition, then no event', () => {
    expect(when(historyOf.ActiveStatic, command.update(staticInput()))).toEqual([]);
  });

  it.each<[string, keyof typeof historyOf, SegmentDefinitionInput]>([
    ['a dynamic segment made static', 'Active', staticInput()],
    ['a static segment made dynamic', 'ActiveStatic', input({ kind: 'dynamic' })],
    [
      'a static segment made dynamic without a tree',
      'ActiveStatic',
      { name: 'Imported leads', kind: 'dynamic' },
    ],
  ])('given %s, then BAD_USER_INPUT KIND_CHANGE on kind', (_, phase, definitionInput) => {
    expect(rejection(historyOf[phase], command.update(definitionInput))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'kind',
      reason: 'KIND_CHANGE',
    });
  });

  it('given a static segment, when updated with conditions, then INVALID_VALUE on conditions', () => {
    expect(
      rejection(historyOf.ActiveStatic, command.update(staticInput({ conditions: isPro }))),
    ).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'conditions',
      reason: 'INVALID_VALUE',
    });
  });

  it('given an active segment, when updated with an invalid definition, then the same BAD_USER_INPUT as create', () => {
    expect(rejection(historyOf.Active, command.update(input({ name: '' })))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'name',
      reason: 'REQUIRED',
    });
    expect(rejection(historyOf.Active, command.update(input({ conditions: null })))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'conditions',
      reason: 'MISSING_CONDITIONS',
    });
    expect(rejection(historyOf.Active, command.update(input({ kind: 'smart' })))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'kind',
      reason: 'INVALID_KIND',
    });
  });

  it('given no segment, when updated, then NOT_FOUND', () => {
    expect(rejection(historyOf.Nonexistent, command.update(input()))).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'NOT_FOUND',
      field: 'id',
    });
  });

  it('given no segment, when updated with an invalid definition, then NOT_FOUND comes first', () => {
    expect(rejection(historyOf.Nonexistent, command.update(input({ name: '' })))).toMatchObject({
      kind: 'NOT_FOUND',
    });
  });

  it('given an archived segment, when updated, then CONFLICT ILLEGAL_TRANSITION', () => {
    expect(rejection(historyOf.Archived, command.update(input({ name: 'Renamed' })))).toMatchObject(
      {
        kind: 'CONFLICT',
        reason: 'ILLEGAL_TRANSITION',
      },
    );
  });

  it('given an archived segment, when updated with its identical definition, then still CONFLICT, not a silent no-op', () => {
    expect(rejection(historyOf.Archived, command.update(input()))).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
    });
  });
});

describe('ArchiveSegment', () => {
  it.each(['Active', 'ActiveStatic'] as const)(
    'given an %s segment no one references, when archived, then SegmentArchived',
    (phase) => {
      expect(when(historyOf[phase], command.archive())).toEqual([
        { type: 'SegmentArchived', data: { segmentId, archivedAt: nowIso } },
      ]);
    },
  );

  it('given segments that include this one, when archived, then CONFLICT SEGMENT_IN_USE naming them', () => {
    const error = rejection(historyOf.Active, command.archive(['churn-risk', 'vip']));
    expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'SEGMENT_IN_USE' });
    expect((error as Error).message).toContain('churn-risk, vip');
  });

  it('given an archived segment, when archived again, then CONFLICT ILLEGAL_TRANSITION', () => {
    expect(rejection(historyOf.Archived, command.archive())).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
    });
  });

  it('given no segment, when archived, then NOT_FOUND', () => {
    expect(rejection(historyOf.Nonexistent, command.archive())).toMatchObject({
      kind: 'NOT_FOUND',
      reason: 'NOT_FOUND',
      field: 'id',
    });
  });
});

describe('AddSegmentMembers / RemoveSegmentMembers', () => {
  it.each(['manual', 'import'] as const)(
    'given a static segment, when members are added by %s, then SegmentMembersAdded with that source',
    (source) => {
      expect(when(historyOf.ActiveStatic, command.add(['ann', 'bob'], source))).toEqual([
        {
          type: 'SegmentMembersAdded',
          data: { segmentId, contactIds: ['ann', 'bob'], source, addedAt: nowIso },
        },
      ]);
    },
  );

  it('given a static segment, when members are removed, then SegmentMembersRemoved', () => {
    expect(when(historyOf.ActiveStatic, command.remove(['ann']))).toEqual([
      {
        type: 'SegmentMembersRemoved',
        data: { segmentId, contactIds: ['ann'], removedAt: nowIso },
      },
    ]);
  });

  it('given repeated ids, then each is kept once, in the order of its first appearance', () => {
    const [event] = when(historyOf.ActiveStatic, command.add(['cid', 'ann', 'cid', 'bob', 'ann']));
    expect(event.data).toMatchObject({ contactIds: ['cid', 'ann', 'bob'] });
    const [removal] = when(historyOf.ActiveStatic, command.remove(['bob', 'bob']));
    expect(removal.data).toMatchObject({ contactIds: ['bob'] });
  });

  it('given ids with spaces, then they are kept as sent: ids are opaque', () => {
    const [event] = when(historyOf.ActiveStatic, command.add(['ann', ' ann', ' ']));
    expect(event.data).toMatchObject({ contactIds: ['ann', ' ann', ' '] });
  });

  it('given a contact already added, when added again, then recorded again: the projection applies it idempotently', () => {
    const history = [created(staticDefinition()), membersAdded(['ann'])];
    expect(when(history, command.add(['ann']))).toMatchObject([
      { type: 'SegmentMembersAdded', data: { contactIds: ['ann'] } },
    ]);
    expect(when(history, command.remove(['zoe']))).toMatchObject([
      { type: 'SegmentMembersRemoved', data: { contactIds: ['zoe'] } },
    ]);
  });

  it(`accepts the limits themselves: ${segmentMembersPerCommand} ids and ids of ${contactIdLength} characters`, () => {
    const [many] = when(historyOf.ActiveStatic, command.add(contacts(10_000), 'import'));
    expect(many.data).toMatchObject({ contactIds: contacts(10_000) });
    const longId = 'c'.repeat(contactIdLength);
    expect(when(historyOf.ActiveStatic, command.remove([longId]))[0].data).toMatchObject({
      contactIds: [longId],
    });
  });

  describe.each([
    ['add', command.add],
    ['remove', command.remove],
  ] as const)('%s', (_, action) => {
    it.each<[string, readonly string[], string, string]>([
      ['no ids', [], 'contactIds', 'REQUIRED'],
      ['10,001 ids', contacts(10_001), 'contactIds', 'TOO_MANY_CONTACTS'],
      ['an empty id', ['ann', 'bob', ''], 'contactIds.2', 'REQUIRED'],
      ['a 257-character id', ['ann', 'c'.repeat(contactIdLength + 1)], 'contactIds.1', 'TOO_LONG'],
      ['an id that is not text', ['ann', 42 as unknown as string], 'contactIds.1', 'INVALID_ID'],
    ])(
      'given a static segment, when given %s, then BAD_USER_INPUT at %s',
      (__, ids, field, reason) => {
        expect(rejection(historyOf.ActiveStatic, action(ids))).toMatchObject({
          kind: 'BAD_USER_INPUT',
          field,
          reason,
        });
      },
    );

    it('given a dynamic segment, then CONFLICT NOT_STATIC, even before the ids are checked', () => {
      expect(rejection(historyOf.Active, action(['ann']))).toMatchObject({
        kind: 'CONFLICT',
        reason: 'NOT_STATIC',
      });
      expect(rejection(historyOf.Active, action([]))).toMatchObject({ reason: 'NOT_STATIC' });
    });

    it('given an archived static segment, then CONFLICT ILLEGAL_TRANSITION', () => {
      expect(rejection(historyOf.ArchivedStatic, action(['ann']))).toMatchObject({
        kind: 'CONFLICT',
        reason: 'ILLEGAL_TRANSITION',
      });
    });

    it('given no segment, then NOT_FOUND', () => {
      expect(rejection(historyOf.Nonexistent, action(['ann']))).toMatchObject({
        kind: 'NOT_FOUND',
        field: 'id',
      });
    });
  });
});

describe('evolve', () => {
  it('given no events, then the segment does not exist', () => {
    expect(given([])).toEqual({ status: 'Nonexistent' });
  });

  it('given SegmentCreated, then the segment is active at version 1 with its definition', () => {
    expect(given([created(staticDefinition())])).toEqual({
      status: 'Active',
      segmentId,
      version: 1,
      definition: staticDefinition(),
    });
  });

  it('given updates, then the state holds the latest version and definition', () => {
    expect(
      given([
        created(),
        updated(2, definition({ name: 'Second' })),
        updated(3, definition({ name: 'Third' })),
      ]),
    ).toEqual({
      status: 'Active',
      segmentId,
      version: 3,
      definition: definition({ name: 'Third' }),
    });
  });

  it('given member changes, then the state is unchanged: members are not kept', () => {
    const removed: SegmentEvent = {
      type: 'SegmentMembersRemoved',
      data: { segmentId, contactIds: ['ann'], removedAt: nowIso },
    };
    const before = given(historyOf.ActiveStatic);
    expect(given([...historyOf.ActiveStatic, membersAdded(['ann', 'bob']), removed])).toEqual(
      before,
    );
  });

  it('given SegmentArchived, then the segment is archived and keeps its version and definition', () => {
    expect(given([created(), updated(2, definition({ name: 'Second' })), archived])).toEqual({
      status: 'Archived',
      segmentId,
      version: 2,
      definition: definition({ name: 'Second' }),
    });
  });

  it('given only SegmentArchived, then there is still no segment', () => {
    expect(given([archived])).toEqual({ status: 'Nonexistent' });
  });

  it('given the events the decider produces, then folding them gives the state the next decision expects', () => {
    const history: SegmentEvent[] = [];
    const decideAndRecord = (action: SegmentCommand): SegmentEvent[] => {
      const events = when(history, action);
      history.push(...events);
      return events;
    };

    decideAndRecord(command.create(staticInput()));
    decideAndRecord(command.add(['ann', 'bob'], 'import'));
    decideAndRecord(command.update(staticInput({ description: 'From the fair' })));
    expect(decideAndRecord(command.update(staticInput({ description: 'From the fair' })))).toEqual(
      [],
    );
    decideAndRecord(command.remove(['bob']));
    expect(given(history)).toEqual({
      status: 'Active',
      segmentId,
      version: 2,
      definition: staticDefinition({ description: 'From the fair' }),
    });

    decideAndRecord(command.archive());
    expect(given(history)).toMatchObject({ status: 'Archived', version: 2 });
    expect(rejection(history, command.add(['zoe']))).toMatchObject({
      reason: 'ILLEGAL_TRANSITION',
    });
    expect(history.map((event) => event.type)).toEqual([
      'SegmentCreated',
      'SegmentMembersAdded',
      'SegmentUpdated',
      'SegmentMembersRemoved',
      'SegmentArchived',
    ]);
  });
});

describe('segmentStreamId', () => {
  it('builds segment-<workspace>:<segment id>', () => {
    expect(segmentStreamId('acme', 'power-users')).toBe('segment-acme:power-users');
  });

  it('accepts a segment id with a colon, since only the workspace id must not have one', () => {
    expect(segmentStreamId('acme', 'q1:leads')).toBe('segment-acme:q1:leads');
  });

  it.each([
    ['a colon', 'acme:eu'],
    ['nothing', ''],
    ['a space', 'ac me'],
  ])('rejects a workspace id with %s', (_, workspaceId) => {
    expect(thrownBy(() => segmentStreamId(workspaceId, segmentId))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'workspaceId',
      reason: 'INVALID_ID',
    });
  });

  it.each([
    ['nothing', ''],
    ['a space', 'power users'],
    ['101 characters', 's'.repeat(101)],
  ])('rejects a segment id of %s', (_, id) => {
    expect(thrownBy(() => segmentStreamId('acme', id))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      field: 'id',
      reason: 'INVALID_ID',
    });
  });
});

describe('segmentClockStreamId', () => {
  it('builds segmentclock-<workspace>', () => {
    expect(segmentClockStreamId('acme')).toBe('segmentclock-acme');
  });

  it('rejects a workspace id with a colon', () => {
    expect(thrownBy(() => segmentClockStreamId('acme:eu'))).toMatchObject({
      field: 'workspaceId',
      reason: 'INVALID_ID',
    });
  });

  it('never falls under the segment prefix, nor a segment stream under the clock prefix, even for a workspace named "clock"', () => {
    const clockStreams = ['acme', 'clock', 'clock-acme'].map(segmentClockStreamId);
    const segmentStreams = [segmentStreamId('clock', 'acme'), segmentStreamId('clock-acme', 'x')];
    for (const stream of clockStreams) expect(stream.startsWith(segmentStreamPrefix)).toBe(false);
    for (const stream of segmentStreams) {
      expect(stream.startsWith(segmentClockStreamPrefix)).toBe(false);
    }
    // KurrentDB's categories: the text before the first '-'.
    expect(clockStreams.map((stream) => stream.split('-')[0])).toEqual([
      'segmentclock',
      'segmentclock',
      'segmentclock',
    ]);
  });
});
