import {
  campaignDecider,
  campaignStreamId,
  duplicateCampaignInput,
  type CampaignCommand,
  type CampaignCreated,
  type CampaignEvent,
  type CampaignState,
  type CreateCampaignData,
} from '../../src/domain/campaign';
import {
  DomainError,
  IllegalStateError,
  NotFoundError,
  ValidationError,
} from '../../src/domain/shared/errors';
import type { CommandMetadata } from '../../src/domain/shared/events';
import type { JsonObject } from '../../src/domain/tracking/tracking.events';

const campaignId = 'spring-sale';
const now = new Date('2025-03-01T12:00:00.000Z');
const nowIso = now.toISOString();
const metadata: CommandMetadata = { workspaceId: 'acme', commandId: 'command-1', now };

// ---- given: events ---------------------------------------------------------------------------

function created(overrides: Partial<CampaignCreated['data']> = {}): CampaignCreated {
  return {
    type: 'CampaignCreated',
    data: {
      campaignId,
      name: 'Spring sale',
      description: 'Twenty percent off',
      channels: ['EMAIL', 'PAID_SOCIAL'],
      goal: { metric: 'CONVERSIONS', target: 500 },
      budget: { amountMinor: 150050, currency: 'USD' },
      schedule: { startsAt: null, endsAt: null },
      tags: ['spring', 'sale'],
      duplicatedFrom: null,
      createdAt: '2025-02-01T09:00:00.000Z',
      ...overrides,
    },
  };
}

const scheduled: CampaignEvent = {
  type: 'CampaignScheduled',
  data: {
    campaignId,
    schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-04-30T00:00:00.000Z' },
    scheduledAt: '2025-02-02T00:00:00.000Z',
  },
};
const launched: CampaignEvent = {
  type: 'CampaignLaunched',
  data: { campaignId, launchedAt: '2025-02-03T00:00:00.000Z' },
};
const paused: CampaignEvent = {
  type: 'CampaignPaused',
  data: { campaignId, reason: 'creative review', pausedAt: '2025-02-04T00:00:00.000Z' },
};
const completed: CampaignEvent = {
  type: 'CampaignCompleted',
  data: { campaignId, completedAt: '2025-02-05T00:00:00.000Z' },
};
const archived: CampaignEvent = {
  type: 'CampaignArchived',
  data: { campaignId, archivedAt: '2025-02-06T00:00:00.000Z' },
};

const historyOf = {
  Nonexistent: [],
  Draft: [created()],
  Scheduled: [created(), scheduled],
  Active: [created(), launched],
  Paused: [created(), launched, paused],
  Completed: [created(), launched, completed],
  Archived: [created(), archived],
} satisfies Record<CampaignState['status'], CampaignEvent[]>;
type Phase = keyof typeof historyOf;

// ---- when: commands --------------------------------------------------------------------------

const command = {
  create: (data: Partial<CreateCampaignData> = {}): CampaignCommand => ({
    type: 'CreateCampaign',
    data: { campaignId, name: 'Spring sale', ...data },
    metadata,
  }),
  update: (
    data: Omit<Extract<CampaignCommand, { type: 'UpdateCampaign' }>['data'], 'campaignId'>,
  ) =>
    ({ type: 'UpdateCampaign', data: { campaignId, ...data }, metadata }) satisfies CampaignCommand,
  schedule: (startsAt = '2025-04-01T00:00:00Z', endsAt: string | null = '2025-05-01T00:00:00Z') =>
    ({
      type: 'ScheduleCampaign',
      data: { campaignId, startsAt, endsAt },
      metadata,
    }) satisfies CampaignCommand,
  launch: (): CampaignCommand => ({ type: 'LaunchCampaign', data: { campaignId }, metadata }),
  pause: (reason?: string): CampaignCommand => ({
    type: 'PauseCampaign',
    data: { campaignId, reason },
    metadata,
  }),
  resume: (): CampaignCommand => ({ type: 'ResumeCampaign', data: { campaignId }, metadata }),
  complete: (): CampaignCommand => ({ type: 'CompleteCampaign', data: { campaignId }, metadata }),
  archive: (): CampaignCommand => ({ type: 'ArchiveCampaign', data: { campaignId }, metadata }),
  applyContent: (
    data: Partial<Extract<CampaignCommand, { type: 'ApplyCampaignContent' }>['data']> = {},
  ) =>
    ({
      type: 'ApplyCampaignContent',
      data: {
        campaignId,
        surface: 'EMAIL:welcome-email',
        content: { subject: 'Spring is here' },
        source: null,
        ...data,
      },
      metadata,
    }) satisfies CampaignCommand,
};

// ---- then ------------------------------------------------------------------------------------

function given(events: readonly CampaignEvent[]): CampaignState {
  return events.reduce(campaignDecider.evolve, campaignDecider.initialState());
}

function when(events: readonly CampaignEvent[], action: CampaignCommand): CampaignEvent[] {
  return campaignDecider.decide(action, given(events));
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

function rejection(events: readonly CampaignEvent[], action: CampaignCommand): DomainError {
  return domainErrorOf(() => when(events, action));
}

describe('CreateCampaign', () => {
  it('given no campaign, when created with full input, then CampaignCreated carries normalised values', () => {
    const events = when(
      [],
      command.create({
        name: '  Spring sale  ',
        description: ' Twenty percent off ',
        channels: ['EMAIL', 'PAID_SOCIAL'],
        goal: { metric: 'REVENUE', target: '25000', currency: 'usd' },
        budget: { amount: '1500.5', currency: 'USD' },
        schedule: { startsAt: '2025-04-01T02:00:00+02:00', endsAt: '2025-04-30T00:00:00Z' },
        tags: [' spring', 'sale', 'spring '],
      }),
    );

    expect(events).toEqual([
      {
        type: 'CampaignCreated',
        data: {
          campaignId,
          name: 'Spring sale',
          description: 'Twenty percent off',
          channels: ['EMAIL', 'PAID_SOCIAL'],
          goal: { metric: 'REVENUE', target: { amountMinor: 2500000, currency: 'USD' } },
          budget: { amountMinor: 150050, currency: 'USD' },
          schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-04-30T00:00:00.000Z' },
          tags: ['spring', 'sale'],
          duplicatedFrom: null,
          createdAt: nowIso,
        },
      },
    ]);
  });

  it('given no campaign, when created with a name only, then the other fields are empty', () => {
    expect(when([], command.create())).toEqual([
      {
        type: 'CampaignCreated',
        data: {
          campaignId,
          name: 'Spring sale',
          description: '',
          channels: [],
          goal: null,
          budget: null,
          schedule: { startsAt: null, endsAt: null },
          tags: [],
          duplicatedFrom: null,
          createdAt: nowIso,
        },
      },
    ]);
  });

  it('accepts a count goal given as a number or a string of digits', () => {
    const [fromNumber] = when([], command.create({ goal: { metric: 'CLICKS', target: 1000 } }));
    const [fromString] = when([], command.create({ goal: { metric: 'CLICKS', target: '1000' } }));
    expect(fromNumber.data).toMatchObject({ goal: { metric: 'CLICKS', target: 1000 } });
    expect(fromString.data).toEqual(fromNumber.data);
  });

  it.each(['Draft', 'Active', 'Archived'] as const)(
    'given a %s campaign, when created again, then CONFLICT ALREADY_EXISTS',
    (phase) => {
      const error = rejection(historyOf[phase], command.create());
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'ALREADY_EXISTS' });
    },
  );

  const tooManyTags = Array.from({ length: 51 }, (_, index) => `tag-${index}`);
  it.each<[string, Partial<CreateCampaignData>, string, string]>([
    ['an empty name', { name: '' }, 'name', 'REQUIRED'],
    ['a blank name', { name: '   ' }, 'name', 'REQUIRED'],
    ['a 201-character name', { name: 'x'.repeat(201) }, 'name', 'TOO_LONG'],
    ['a 5001-character description', { description: 'x'.repeat(5001) }, 'description', 'TOO_LONG'],
    ['an unknown channel', { channels: ['EMAIL', 'TELEPATHY'] }, 'channels', 'UNKNOWN_CHANNEL'],
    ['a repeated channel', { channels: ['EMAIL', 'EMAIL'] }, 'channels', 'DUPLICATE_CHANNEL'],
    ['an empty tag', { tags: ['ok', '  '] }, 'tags', 'INVALID_TAG'],
    ['a 65-character tag', { tags: ['x'.repeat(65)] }, 'tags', 'INVALID_TAG'],
    ['51 distinct tags', { tags: tooManyTags }, 'tags', 'TOO_MANY_TAGS'],
    [
      'a negative budget',
      { budget: { amount: '-1', currency: 'USD' } },
      'budget.amount',
      'NEGATIVE_AMOUNT',
    ],
    [
      'an unknown currency',
      { budget: { amount: '1', currency: 'XYZ' } },
      'budget.currency',
      'UNKNOWN_CURRENCY',
    ],
    [
      'too many fraction digits',
      { budget: { amount: '10.5', currency: 'JPY' } },
      'budget.amount',
      'TOO_MANY_FRACTION_DIGITS',
    ],
    [
      'a malformed budget',
      { budget: { amount: 'ten', currency: 'USD' } },
      'budget.amount',
      'INVALID_AMOUNT',
    ],
    [
      'an unknown goal metric',
      { goal: { metric: 'LIKES', target: 1 } },
      'goal.metric',
      'UNKNOWN_METRIC',
    ],
    [
      'a zero count target',
      { goal: { metric: 'SIGNUPS', target: 0 } },
      'goal.target',
      'INVALID_TARGET',
    ],
    [
      'a fractional count target',
      { goal: { metric: 'SIGNUPS', target: 1.5 } },
      'goal.target',
      'INVALID_TARGET',
    ],
    [
      'a count goal with a currency',
      { goal: { metric: 'CLICKS', target: 5, currency: 'USD' } },
      'goal.currency',
      'UNEXPECTED_CURRENCY',
    ],
    [
      'a revenue goal without currency',
      { goal: { metric: 'REVENUE', target: '100' } },
      'goal.currency',
      'REQUIRED',
    ],
    [
      'a zero revenue goal',
      { goal: { metric: 'REVENUE', target: '0.00', currency: 'EUR' } },
      'goal.target',
      'INVALID_TARGET',
    ],
    [
      'an end before the start',
      { schedule: { startsAt: '2025-04-02T00:00:00Z', endsAt: '2025-04-01T00:00:00Z' } },
      'schedule.endsAt',
      'END_BEFORE_START',
    ],
    [
      'an end equal to the start',
      { schedule: { startsAt: '2025-04-01T00:00:00Z', endsAt: '2025-04-01T02:00:00+02:00' } },
      'schedule.endsAt',
      'END_BEFORE_START',
    ],
    [
      'a date that is not ISO',
      { schedule: { startsAt: 'next Tuesday' } },
      'schedule.startsAt',
      'INVALID_DATE',
    ],
    [
      'a date without a time',
      { schedule: { startsAt: '2025-04-01' } },
      'schedule.startsAt',
      'INVALID_DATE',
    ],
    [
      'a day that does not exist',
      { schedule: { endsAt: '2025-02-30T00:00:00Z' } },
      'schedule.endsAt',
      'INVALID_DATE',
    ],
    [
      'an hour that does not exist',
      { schedule: { endsAt: '2025-02-10T24:00:00Z' } },
      'schedule.endsAt',
      'INVALID_DATE',
    ],
    ['a malformed campaign id', { campaignId: 'no spaces please' }, 'campaignId', 'INVALID_ID'],
  ])(
    'given no campaign, when created with %s, then BAD_USER_INPUT on %s (%s)',
    (_, data, field, reason) => {
      const error = rejection([], command.create(data));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ kind: 'BAD_USER_INPUT', field, reason });
    },
  );

  it('counts tags after de-duplication, so repeats do not hit the limit', () => {
    const [event] = when([], command.create({ tags: Array.from({ length: 80 }, () => 'same') }));
    expect(event.data).toMatchObject({ tags: ['same'] });
  });
});

describe('UpdateCampaign', () => {
  it.each(['Draft', 'Scheduled', 'Active', 'Paused'] as const)(
    'given a %s campaign, when a field changes, then CampaignUpdated carries only the changed fields',
    (phase) => {
      const events = when(
        historyOf[phase],
        command.update({
          name: 'Spring sale',
          description: 'Thirty percent off',
          tags: ['spring', 'sale'],
        }),
      );
      expect(events).toEqual([
        {
          type: 'CampaignUpdated',
          data: { campaignId, changes: { description: 'Thirty percent off' }, updatedAt: nowIso },
        },
      ]);
    },
  );

  it('given a campaign, when nothing really changes, then no event', () => {
    const sameValues = command.update({
      name: ' Spring sale ',
      channels: ['EMAIL', 'PAID_SOCIAL'],
      goal: { metric: 'CONVERSIONS', target: '500' },
      budget: { amount: '1500.50', currency: 'usd' },
      tags: ['spring', 'sale', 'sale'],
    });
    expect(when(historyOf.Draft, sameValues)).toEqual([]);
    expect(when(historyOf.Draft, command.update({}))).toEqual([]);
  });

  it('given a campaign with goal and budget, when they are set to null, then they are cleared', () => {
    const [event] = when(historyOf.Draft, command.update({ goal: null, budget: null }));
    expect(event.data).toMatchObject({ changes: { goal: null, budget: null } });
  });

  it('given an updated campaign, then the state reflects the change', () => {
    const [event] = when(historyOf.Draft, command.update({ channels: ['DISPLAY'] }));
    const state = given([...historyOf.Draft, event]);
    expect(state).toMatchObject({
      status: 'Draft',
      campaign: { channels: ['DISPLAY'], name: 'Spring sale' },
    });
  });

  it('validates input like create does', () => {
    expect(rejection(historyOf.Draft, command.update({ name: ' ' }))).toMatchObject({
      field: 'name',
      reason: 'REQUIRED',
    });
    expect(rejection(historyOf.Draft, command.update({ channels: ['FAX'] }))).toMatchObject({
      field: 'channels',
      reason: 'UNKNOWN_CHANNEL',
    });
  });

  it('given an active campaign, when the budget currency changes, then CURRENCY_CHANGE', () => {
    const error = rejection(
      historyOf.Active,
      command.update({ budget: { amount: '1500.50', currency: 'EUR' } }),
    );
    expect(error).toMatchObject({
      kind: 'BAD_USER_INPUT',
      reason: 'CURRENCY_CHANGE',
      field: 'budget.currency',
    });
  });

  it('given an active campaign, when only the budget amount changes, then it is updated', () => {
    const [event] = when(
      historyOf.Active,
      command.update({ budget: { amount: '2000', currency: 'USD' } }),
    );
    expect(event.data).toMatchObject({
      changes: { budget: { amountMinor: 200000, currency: 'USD' } },
    });
  });

  it('given a draft campaign, when the budget currency changes, then it is updated', () => {
    const [event] = when(
      historyOf.Draft,
      command.update({ budget: { amount: '2000', currency: 'EUR' } }),
    );
    expect(event.data).toMatchObject({
      changes: { budget: { amountMinor: 200000, currency: 'EUR' } },
    });
  });

  it('given a completed campaign, when updated, then ILLEGAL_TRANSITION', () => {
    const error = rejection(historyOf.Completed, command.update({ name: 'Later' }));
    expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    expect(error.message).toBe('cannot update a completed campaign');
  });
});

describe('ScheduleCampaign', () => {
  it.each(['Draft', 'Scheduled'] as const)(
    'given a %s campaign, when scheduled in the future, then CampaignScheduled in UTC',
    (phase) => {
      expect(when(historyOf[phase], command.schedule('2025-04-01T09:00:00+01:00', null))).toEqual([
        {
          type: 'CampaignScheduled',
          data: {
            campaignId,
            schedule: { startsAt: '2025-04-01T08:00:00.000Z', endsAt: null },
            scheduledAt: nowIso,
          },
        },
      ]);
    },
  );

  it('given a scheduled campaign, then the state holds the new schedule', () => {
    const events = when(historyOf.Scheduled, command.schedule());
    expect(given([...historyOf.Scheduled, ...events])).toMatchObject({
      status: 'Scheduled',
      campaign: {
        schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-05-01T00:00:00.000Z' },
      },
    });
  });

  it.each([
    ['before now', '2025-02-28T00:00:00Z'],
    ['exactly now', nowIso],
  ])('given a draft, when the start is %s, then START_IN_PAST', (_, startsAt) => {
    expect(rejection(historyOf.Draft, command.schedule(startsAt, null))).toMatchObject({
      kind: 'BAD_USER_INPUT',
      reason: 'START_IN_PAST',
      field: 'startsAt',
    });
  });

  it('given a draft, when the end is before the start, then END_BEFORE_START', () => {
    const error = rejection(
      historyOf.Draft,
      command.schedule('2025-04-02T00:00:00Z', '2025-04-01T00:00:00Z'),
    );
    expect(error).toMatchObject({ reason: 'END_BEFORE_START', field: 'endsAt' });
  });

  it('given a draft, when a date is invalid, then INVALID_DATE on that field', () => {
    expect(rejection(historyOf.Draft, command.schedule('2025-13-01T00:00:00Z'))).toMatchObject({
      reason: 'INVALID_DATE',
      field: 'startsAt',
    });
    expect(rejection(historyOf.Draft, command.schedule(undefined, 'soon'))).toMatchObject({
      reason: 'INVALID_DATE',
      field: 'endsAt',
    });
  });
});

describe('LaunchCampaign', () => {
  it.each(['Draft', 'Scheduled'] as const)(
    'given a %s campaign, when launched, then CampaignLaunched',
    (phase) => {
      expect(when(historyOf[phase], command.launch())).toEqual([
        { type: 'CampaignLaunched', data: { campaignId, launchedAt: nowIso } },
      ]);
    },
  );

  it('given a campaign without channels, when launched, then NO_CHANNELS', () => {
    const error = rejection([created({ channels: [] })], command.launch());
    expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'NO_CHANNELS' });
  });

  it.each([
    ['ended before now', '2025-02-15T00:00:00.000Z'],
    ['ending exactly now', nowIso],
  ])('given a campaign whose schedule %s, when launched, then SCHEDULE_ENDED', (_, endsAt) => {
    const error = rejection([created({ schedule: { startsAt: null, endsAt } })], command.launch());
    expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'SCHEDULE_ENDED' });
  });

  it('given an active campaign, when launched again, then ILLEGAL_TRANSITION rather than silent success', () => {
    const error = rejection(historyOf.Active, command.launch());
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error).toMatchObject({
      reason: 'ILLEGAL_TRANSITION',
      message: 'cannot launch an active campaign',
    });
  });
});

describe('PauseCampaign', () => {
  it('given an active campaign, when paused without a reason, then the reason is "manual"', () => {
    expect(when(historyOf.Active, command.pause())).toEqual([
      { type: 'CampaignPaused', data: { campaignId, reason: 'manual', pausedAt: nowIso } },
    ]);
  });

  it('given an active campaign, when paused with a reason, then the trimmed reason is kept', () => {
    const [event] = when(historyOf.Active, command.pause('  budget review '));
    expect(event.data).toMatchObject({ reason: 'budget review' });
  });

  it.each([
    ['empty', '  ', 'REQUIRED'],
    ['longer than 500 characters', 'x'.repeat(501), 'TOO_LONG'],
  ])('given an active campaign, when the reason is %s, then BAD_USER_INPUT', (_, reason, code) => {
    expect(rejection(historyOf.Active, command.pause(reason))).toMatchObject({
      field: 'reason',
      reason: code,
    });
  });

  it('given a paused campaign, then the state keeps the launch and the pause', () => {
    expect(given(historyOf.Paused)).toEqual({
      status: 'Paused',
      campaign: created().data,
      launchedAt: '2025-02-03T00:00:00.000Z',
      pausedAt: '2025-02-04T00:00:00.000Z',
      pauseReason: 'creative review',
      spend: { adReports: new Map(), entries: new Map(), total: null, thresholdsReached: [] },
      content: {},
    });
  });
});

describe('ResumeCampaign', () => {
  it('given a paused campaign, when resumed, then CampaignResumed and it is active with its first launch time', () => {
    const events = when(historyOf.Paused, command.resume());
    expect(events).toEqual([{ type: 'CampaignResumed', data: { campaignId, resumedAt: nowIso } }]);
    expect(given([...historyOf.Paused, ...events])).toMatchObject({
      status: 'Active',
      launchedAt: '2025-02-03T00:00:00.000Z',
    });
  });
});

describe('CompleteCampaign', () => {
  it.each(['Active', 'Paused'] as const)(
    'given a %s campaign, when completed, then CampaignCompleted',
    (phase) => {
      expect(when(historyOf[phase], command.complete())).toEqual([
        { type: 'CampaignCompleted', data: { campaignId, completedAt: nowIso } },
      ]);
    },
  );
});

describe('ArchiveCampaign', () => {
  it.each(['Draft', 'Scheduled', 'Paused', 'Completed'] as const)(
    'given a %s campaign, when archived, then CampaignArchived',
    (phase) => {
      expect(when(historyOf[phase], command.archive())).toEqual([
        { type: 'CampaignArchived', data: { campaignId, archivedAt: nowIso } },
      ]);
    },
  );

  it('given an active campaign, when archived, then the client is told to stop it first', () => {
    const error = rejection(historyOf.Active, command.archive());
    expect(error).toMatchObject({
      kind: 'CONFLICT',
      reason: 'ILLEGAL_TRANSITION',
      message: 'pause or complete an active campaign before archiving it',
    });
  });
});

describe('ApplyCampaignContent', () => {
  const source = { experimentId: 'checkout-button', variant: 'green' };

  it.each(['Draft', 'Scheduled', 'Active', 'Paused'] as const)(
    'given a %s campaign, when content is applied, then CampaignContentApplied and the state shows it',
    (phase) => {
      const events = when(
        historyOf[phase],
        command.applyContent({ surface: ' CTA:checkout ', content: { color: 'green' }, source }),
      );
      expect(events).toEqual([
        {
          type: 'CampaignContentApplied',
          data: {
            campaignId,
            surface: 'CTA:checkout',
            content: { color: 'green' },
            source,
            appliedAt: nowIso,
          },
        },
      ]);
      expect(given([...historyOf[phase], ...events])).toMatchObject({
        status: phase,
        content: { 'CTA:checkout': { color: 'green' } },
      });
    },
  );

  it('given content on a surface, when other content is applied there, then it replaces it; other surfaces stay', () => {
    const history = afterAll(historyOf.Active, [
      command.applyContent({ surface: 'CAMPAIGN', content: { headline: 'Spring' } }),
      command.applyContent({ content: { subject: 'A' } }),
      command.applyContent({ content: { subject: 'B' }, source }),
    ]);
    expect(history).toHaveLength(historyOf.Active.length + 3);
    expect(given(history)).toMatchObject({
      content: { CAMPAIGN: { headline: 'Spring' }, 'EMAIL:welcome-email': { subject: 'B' } },
    });
  });

  it('given the same content on the surface, when applied again, then no event', () => {
    const history = afterAll(historyOf.Active, [command.applyContent()]);
    expect(when(history, command.applyContent())).toEqual([]);
    expect(when(history, command.applyContent({ surface: 'CAMPAIGN' }))).toHaveLength(1);
  });

  it('keeps the content through later transitions', () => {
    const history = afterAll(historyOf.Active, [command.applyContent(), command.pause()]);
    expect(given([...history, completed])).toMatchObject({
      status: 'Completed',
      content: { 'EMAIL:welcome-email': { subject: 'Spring is here' } },
    });
  });

  it.each<
    [
      string,
      Partial<Extract<CampaignCommand, { type: 'ApplyCampaignContent' }>['data']>,
      string,
      string,
    ]
  >([
    ['an empty surface', { surface: '  ' }, 'surface', 'REQUIRED'],
    ['a long surface', { surface: 's'.repeat(201) }, 'surface', 'TOO_LONG'],
    ['content over 16 KiB', { content: { body: 'x'.repeat(16 * 1024) } }, 'content', 'TOO_LARGE'],
    [
      'content that is a list',
      { content: [] as unknown as JsonObject },
      'content',
      'INVALID_CONTENT',
    ],
    [
      'a source without a valid experiment id',
      { source: { experimentId: 'a b', variant: 'green' } },
      'source.experimentId',
      'INVALID_ID',
    ],
  ])('given %s, then BAD_USER_INPUT on the field with its reason', (_, data, field, reason) => {
    const error = rejection(historyOf.Active, command.applyContent(data));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ kind: 'BAD_USER_INPUT', field, reason });
  });

  it('accepts content of exactly 16 KiB as JSON', () => {
    // {"body":"…"} is 11 bytes around the text.
    const content = { body: 'x'.repeat(16 * 1024 - 11) };
    expect(when(historyOf.Active, command.applyContent({ content }))).toHaveLength(1);
  });
});

describe('the transition table', () => {
  const lifecycleCommands = {
    update: command.update({ name: 'Renamed' }),
    schedule: command.schedule(),
    launch: command.launch(),
    pause: command.pause(),
    resume: command.resume(),
    complete: command.complete(),
    archive: command.archive(),
    applyContent: command.applyContent(),
  };
  const allowedIn: Record<keyof typeof lifecycleCommands, readonly Phase[]> = {
    update: ['Draft', 'Scheduled', 'Active', 'Paused'],
    schedule: ['Draft', 'Scheduled'],
    launch: ['Draft', 'Scheduled'],
    pause: ['Active'],
    resume: ['Paused'],
    complete: ['Active', 'Paused'],
    archive: ['Draft', 'Scheduled', 'Paused', 'Completed'],
    applyContent: ['Draft', 'Scheduled', 'Active', 'Paused'],
  };
  const existingPhases = [
    'Draft',
    'Scheduled',
    'Active',
    'Paused',
    'Completed',
    'Archived',
  ] as const;
  const cases = Object.entries(lifecycleCommands).flatMap(([name, action]) =>
    existingPhases.map((phase) => ({
      name,
      phase,
      action,
      allowed: allowedIn[name as keyof typeof lifecycleCommands].includes(phase),
    })),
  );

  it.each(cases.filter((each) => each.allowed))(
    'given $phase, when $name, then one event',
    ({ phase, action }) => {
      expect(when(historyOf[phase], action)).toHaveLength(1);
    },
  );

  it.each(cases.filter((each) => !each.allowed))(
    'given $phase, when $name, then CONFLICT ILLEGAL_TRANSITION',
    ({ phase, action }) => {
      const error = rejection(historyOf[phase], action);
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'ILLEGAL_TRANSITION' });
    },
  );

  it.each(Object.entries(lifecycleCommands))(
    'given an archived campaign, when %s, then "campaign is archived"',
    (_, action) => {
      expect(rejection(historyOf.Archived, action).message).toBe('campaign is archived');
    },
  );

  it.each(Object.entries(lifecycleCommands))(
    'given no campaign, when %s, then NOT_FOUND',
    (_, action) => {
      const error = rejection(historyOf.Nonexistent, action);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ kind: 'NOT_FOUND', reason: 'NOT_FOUND' });
    },
  );
});

describe('duplicateCampaignInput', () => {
  const source = given([
    created({
      goal: { metric: 'REVENUE', target: { amountMinor: 1234500, currency: 'BHD' } },
      budget: { amountMinor: 5000, currency: 'BHD' },
      schedule: { startsAt: '2025-01-01T00:00:00.000Z', endsAt: '2025-01-31T00:00:00.000Z' },
    }),
    archived,
  ]);

  it('copies the source into CreateCampaign input, without the schedule', () => {
    expect(duplicateCampaignInput(source, 'summer-sale')).toEqual({
      campaignId: 'summer-sale',
      name: 'Copy of Spring sale',
      description: 'Twenty percent off',
      channels: ['EMAIL', 'PAID_SOCIAL'],
      goal: { metric: 'REVENUE', target: '1234.500', currency: 'BHD' },
      budget: { amount: '5.000', currency: 'BHD' },
      tags: ['spring', 'sale'],
      duplicatedFrom: campaignId,
    });
  });

  it('given the input, when created, then the new campaign has the source fields and duplicatedFrom', () => {
    const input = duplicateCampaignInput(source, 'summer-sale', 'Summer sale');
    const [event] = campaignDecider.decide(
      { type: 'CreateCampaign', data: input, metadata },
      given([]),
    );
    const sourceProfile = created().data;
    expect(event).toEqual({
      type: 'CampaignCreated',
      data: {
        ...sourceProfile,
        campaignId: 'summer-sale',
        name: 'Summer sale',
        goal: { metric: 'REVENUE', target: { amountMinor: 1234500, currency: 'BHD' } },
        budget: { amountMinor: 5000, currency: 'BHD' },
        schedule: { startsAt: null, endsAt: null },
        duplicatedFrom: campaignId,
        createdAt: nowIso,
      },
    });
  });

  it('keeps a default name within the length limit', () => {
    const longNamed = given([created({ name: 'n'.repeat(200) })]);
    expect(duplicateCampaignInput(longNamed, 'copy').name).toHaveLength(200);
  });

  it('given no source campaign, then NotFoundError', () => {
    expect(() => duplicateCampaignInput(given([]), 'copy')).toThrow(NotFoundError);
  });
});

describe('campaignStreamId', () => {
  it('names the stream after the workspace and the campaign', () => {
    expect(campaignStreamId('acme', 'spring-sale')).toBe('campaign-acme:spring-sale');
  });

  it.each([
    ['', 'c', 'workspaceId'],
    ['a:b', 'c', 'workspaceId'],
    ['acme', '', 'id'],
    ['acme', 'x'.repeat(101), 'id'],
    ['acme', 'with/slash', 'id'],
  ])('rejects workspace %p with campaign %p on %s', (workspaceId, id, field) => {
    const error = domainErrorOf(() => campaignStreamId(workspaceId, id));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field, reason: 'INVALID_ID' });
  });
});

// ---- spend and budget thresholds -------------------------------------------------------------

const budgetOf1000 = { amountMinor: 100000, currency: 'USD' };
const withBudget = (budget: CampaignCreated['data']['budget'] = budgetOf1000) => [
  created({ budget }),
  launched,
];

const spendCommand = {
  importAdReport: (
    data: Partial<Extract<CampaignCommand, { type: 'ImportAdReport' }>['data']> = {},
  ): CampaignCommand => ({
    type: 'ImportAdReport',
    data: {
      campaignId,
      channel: 'PAID_SEARCH',
      day: '2025-03-01',
      source: 'google-ads',
      impressions: 10000,
      clicks: 250,
      spend: { amount: '400.00', currency: 'USD' },
      ...data,
    },
    metadata,
  }),
  recordSpend: (
    data: Partial<Extract<CampaignCommand, { type: 'RecordSpend' }>['data']> = {},
  ): CampaignCommand => ({
    type: 'RecordSpend',
    data: {
      campaignId,
      channel: 'DISPLAY',
      day: '2025-03-02',
      amount: { amount: '100', currency: 'USD' },
      entryId: 'invoice-17',
      ...data,
    },
    metadata,
  }),
  threshold: (threshold: number): CampaignCommand => ({
    type: 'RecordBudgetThreshold',
    data: { campaignId, threshold },
    metadata,
  }),
};

/** The events that follow from running `actions` one after the other on `events`. */
function afterAll(events: readonly CampaignEvent[], actions: readonly CampaignCommand[]) {
  return actions.reduce<CampaignEvent[]>(
    (history, action) => [...history, ...when(history, action)],
    [...events],
  );
}

function spentOf(events: readonly CampaignEvent[]) {
  const state = given(events);
  return state.status === 'Nonexistent' ? undefined : state.spend.total;
}

describe('ImportAdReport', () => {
  it('given an active campaign, when a row is imported, then AdReportImported with no previous row', () => {
    const events = when(
      withBudget(),
      spendCommand.importAdReport({ spend: { amount: '400.5', currency: 'usd' } }),
    );
    expect(events).toEqual([
      {
        type: 'AdReportImported',
        data: {
          campaignId,
          channel: 'PAID_SEARCH',
          day: '2025-03-01',
          source: 'google-ads',
          impressions: 10000,
          clicks: 250,
          spend: { amountMinor: 40050, currency: 'USD' },
          previous: null,
          importedAt: nowIso,
        },
      },
    ]);
    expect(spentOf([...withBudget(), ...events])).toEqual({ amountMinor: 40050, currency: 'USD' });
  });

  it('given a row, when the platform restates it, then the event carries the replaced row and the total replaces it', () => {
    const first = afterAll(withBudget(), [spendCommand.importAdReport()]);
    const restated = when(
      first,
      spendCommand.importAdReport({
        impressions: 12000,
        clicks: 300,
        spend: { amount: '450', currency: 'USD' },
      }),
    );
    expect(restated).toHaveLength(1);
    expect(restated[0].data).toMatchObject({
      impressions: 12000,
      clicks: 300,
      spend: { amountMinor: 45000, currency: 'USD' },
      previous: { impressions: 10000, clicks: 250, spend: { amountMinor: 40000, currency: 'USD' } },
    });
    expect(spentOf([...first, ...restated])).toEqual({ amountMinor: 45000, currency: 'USD' });
  });

  it('given a row, when the same figures are imported again, then no event', () => {
    const first = afterAll(withBudget(), [spendCommand.importAdReport()]);
    expect(
      when(first, spendCommand.importAdReport({ spend: { amount: '400', currency: 'usd' } })),
    ).toEqual([]);
  });

  it('given a row, when another source, channel or day is imported, then both rows count', () => {
    const events = afterAll(withBudget(), [
      spendCommand.importAdReport(),
      spendCommand.importAdReport({ source: 'meta-ads' }),
      spendCommand.importAdReport({ channel: 'DISPLAY' }),
      spendCommand.importAdReport({ day: '2025-03-02' }),
    ]);
    const imported = events.filter((event) => event.type === 'AdReportImported');
    expect(imported.map((event) => event.data)).toEqual(
      imported.map(() => expect.objectContaining({ previous: null })),
    );
    expect(spentOf(events)).toEqual({ amountMinor: 160000, currency: 'USD' });
  });

  it.each<
    [string, Partial<Extract<CampaignCommand, { type: 'ImportAdReport' }>['data']>, string, string]
  >([
    ['an unknown channel', { channel: 'TELEPATHY' }, 'channel', 'UNKNOWN_CHANNEL'],
    ['a day that does not exist', { day: '2025-02-30' }, 'day', 'INVALID_DATE'],
    ['a day with a time', { day: '2025-03-01T00:00:00Z' }, 'day', 'INVALID_DATE'],
    ['a day without leading zeros', { day: '2025-3-1' }, 'day', 'INVALID_DATE'],
    ['an empty source', { source: '  ' }, 'source', 'REQUIRED'],
    ['a 101-character source', { source: 's'.repeat(101) }, 'source', 'TOO_LONG'],
    ['negative impressions', { impressions: -1 }, 'impressions', 'INVALID_COUNT'],
    ['fractional clicks', { clicks: 1.5 }, 'clicks', 'INVALID_COUNT'],
    [
      'a negative spend',
      { spend: { amount: '-5', currency: 'USD' } },
      'spend.amount',
      'NEGATIVE_AMOUNT',
    ],
    [
      'an unknown currency',
      { spend: { amount: '5', currency: 'XYZ' } },
      'spend.currency',
      'UNKNOWN_CURRENCY',
    ],
    [
      'a currency other than the budget',
      { spend: { amount: '5', currency: 'EUR' } },
      'spend.currency',
      'CURRENCY_MISMATCH',
    ],
  ])(
    'given an active campaign, when the row has %s, then BAD_USER_INPUT',
    (_, data, field, reason) => {
      const error = rejection(withBudget(), spendCommand.importAdReport(data));
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ kind: 'BAD_USER_INPUT', field, reason });
    },
  );

  it('given no budget, then the first spend fixes the currency and another one is refused', () => {
    const history = afterAll(withBudget(null), [
      spendCommand.importAdReport({ spend: { amount: '10', currency: 'EUR' } }),
    ]);
    expect(spentOf(history)).toEqual({ amountMinor: 1000, currency: 'EUR' });
    expect(
      rejection(
        history,
        spendCommand.importAdReport({ source: 'x', spend: { amount: '1', currency: 'USD' } }),
      ),
    ).toMatchObject({ field: 'spend.currency', reason: 'CURRENCY_MISMATCH' });
  });

  it('given spend in EUR and no budget, when a USD budget is set, then BAD_USER_INPUT CURRENCY_MISMATCH', () => {
    const history = afterAll(
      [created({ budget: null })],
      [spendCommand.importAdReport({ spend: { amount: '10', currency: 'EUR' } })],
    );
    expect(
      rejection(history, command.update({ budget: { amount: '100', currency: 'USD' } })),
    ).toMatchObject({
      field: 'budget.currency',
      reason: 'CURRENCY_MISMATCH',
    });
    expect(
      when(history, command.update({ budget: { amount: '100', currency: 'EUR' } })),
    ).toHaveLength(1);
  });

  it.each(['Draft', 'Scheduled', 'Active', 'Paused', 'Completed'] as const)(
    'given a %s campaign, when a row or an entry comes in, then it is recorded (platforms report late)',
    (phase) => {
      expect(when(historyOf[phase], spendCommand.importAdReport())).toHaveLength(1);
      expect(when(historyOf[phase], spendCommand.recordSpend())).toHaveLength(1);
    },
  );

  it('given an archived campaign, then spend is refused; given none, NOT_FOUND', () => {
    expect(rejection(historyOf.Archived, spendCommand.importAdReport()).message).toBe(
      'campaign is archived',
    );
    expect(rejection(historyOf.Archived, spendCommand.recordSpend())).toBeInstanceOf(
      IllegalStateError,
    );
    expect(rejection([], spendCommand.importAdReport())).toBeInstanceOf(NotFoundError);
    expect(rejection([], spendCommand.recordSpend())).toBeInstanceOf(NotFoundError);
  });
});

describe('RecordSpend', () => {
  it('given an active campaign, when spend is recorded, then SpendRecorded and the total adds up', () => {
    const events = afterAll(withBudget(), [
      spendCommand.importAdReport(),
      spendCommand.recordSpend({ note: '  sponsorship invoice ' }),
    ]);
    expect(events.at(-1)).toEqual({
      type: 'SpendRecorded',
      data: {
        campaignId,
        channel: 'DISPLAY',
        day: '2025-03-02',
        amount: { amountMinor: 10000, currency: 'USD' },
        entryId: 'invoice-17',
        note: 'sponsorship invoice',
        recordedAt: nowIso,
      },
    });
    expect(spentOf(events)).toEqual({ amountMinor: 50000, currency: 'USD' });
  });

  it('given an entry, when the same entry comes again, then no event; with other figures, CONFLICT', () => {
    const history = afterAll(withBudget(), [spendCommand.recordSpend()]);
    expect(when(history, spendCommand.recordSpend())).toEqual([]);
    const error = rejection(
      history,
      spendCommand.recordSpend({ amount: { amount: '101', currency: 'USD' } }),
    );
    expect(error).toBeInstanceOf(IllegalStateError);
    expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'ENTRY_EXISTS' });
    expect(when(history, spendCommand.recordSpend({ entryId: 'invoice-18' }))).toHaveLength(1);
  });

  it.each<
    [string, Partial<Extract<CampaignCommand, { type: 'RecordSpend' }>['data']>, string, string]
  >([
    ['an invalid entry id', { entryId: 'with space' }, 'entryId', 'INVALID_ID'],
    [
      'a negative amount',
      { amount: { amount: '-1', currency: 'USD' } },
      'amount.amount',
      'NEGATIVE_AMOUNT',
    ],
    [
      'a currency other than the budget',
      { amount: { amount: '1', currency: 'GBP' } },
      'amount.currency',
      'CURRENCY_MISMATCH',
    ],
    ['a 501-character note', { note: 'n'.repeat(501) }, 'note', 'TOO_LONG'],
    ['an unknown channel', { channel: 'RADIO' }, 'channel', 'UNKNOWN_CHANNEL'],
  ])(
    'given an active campaign, when the entry has %s, then BAD_USER_INPUT',
    (_, data, field, reason) => {
      expect(rejection(withBudget(), spendCommand.recordSpend(data))).toMatchObject({
        kind: 'BAD_USER_INPUT',
        field,
        reason,
      });
    },
  );
});

describe('RecordBudgetThreshold', () => {
  const spending = (amount: string) =>
    afterAll(withBudget(), [spendCommand.importAdReport({ spend: { amount, currency: 'USD' } })]);

  it('given 75 % spent, when 75 is recorded, then BudgetThresholdReached with spend and budget; a repeat is no event', () => {
    const history = spending('750');
    const events = when(history, spendCommand.threshold(75));
    expect(events).toEqual([
      {
        type: 'BudgetThresholdReached',
        data: {
          campaignId,
          threshold: 75,
          spent: { amountMinor: 75000, currency: 'USD' },
          budget: budgetOf1000,
          reachedAt: nowIso,
        },
      },
    ]);
    expect(when([...history, ...events], spendCommand.threshold(75))).toEqual([]);
  });

  it('given exactly the budget spent, then 100 is reached', () => {
    expect(when(spending('1000'), spendCommand.threshold(100))).toHaveLength(1);
  });

  it.each<[string, () => CampaignEvent[], number]>([
    ['74.99 % spent', () => spending('749.99'), 75],
    ['99 % spent', () => spending('990'), 100],
    ['no spend', () => withBudget(), 75],
    ['no budget', () => afterAll(withBudget(null), [spendCommand.importAdReport()]), 75],
  ])(
    'given %s, when %i is recorded, then CONFLICT THRESHOLD_NOT_REACHED',
    (_, history, threshold) => {
      const error = rejection(history(), spendCommand.threshold(threshold));
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'THRESHOLD_NOT_REACHED' });
    },
  );

  it.each([0, 50, 80, 101])('rejects the threshold %i', (threshold) => {
    expect(rejection(spending('1000'), spendCommand.threshold(threshold))).toMatchObject({
      field: 'threshold',
      reason: 'INVALID_THRESHOLD',
    });
  });

  it('given 100 % reached, when the budget is raised, then the thresholds no longer reached are armed again', () => {
    const exhausted = afterAll(spending('1000'), [
      spendCommand.threshold(75),
      spendCommand.threshold(90),
      spendCommand.threshold(100),
    ]);
    const raised = afterAll(exhausted, [
      command.update({ budget: { amount: '1250', currency: 'USD' } }),
    ]);
    const state = given(raised);
    expect(state.status === 'Nonexistent' ? [] : state.spend.thresholdsReached).toEqual([75]);
    expect(when(raised, spendCommand.threshold(75))).toEqual([]);
    expect(rejection(raised, spendCommand.threshold(90))).toMatchObject({
      reason: 'THRESHOLD_NOT_REACHED',
    });
    const spentMore = afterAll(raised, [
      spendCommand.recordSpend({ amount: { amount: '250', currency: 'USD' } }),
    ]);
    expect(when(spentMore, spendCommand.threshold(100))).toHaveLength(1);
  });

  it('given a threshold reached, when the platform restates the spend lower, then it stays reached', () => {
    const history = afterAll(spending('800'), [
      spendCommand.threshold(75),
      spendCommand.importAdReport({ spend: { amount: '100', currency: 'USD' } }),
    ]);
    expect(when(history, spendCommand.threshold(75))).toEqual([]);
  });

  it('given an archived campaign, then refused', () => {
    expect(rejection(historyOf.Archived, spendCommand.threshold(75)).message).toBe(
      'campaign is archived',
    );
  });
});
