import { randomUUID } from 'node:crypto';
import {
  campaignDecider,
  campaignStreamId,
  type CampaignCommand,
  type CampaignEvent,
  type CampaignState,
} from '../../src/domain/campaign';
import { DomainError, IllegalStateError, NotFoundError } from '../../src/domain/shared/errors';
import type { CommandMetadata, Decider } from '../../src/domain/shared/events';
import {
  CommandHandler,
  ConcurrencyConflictError,
  deterministicEventId,
} from '../../src/infra/commands/command-handler';
import {
  ExpectedRevision,
  type AppendResult,
  type EventStore,
} from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';

const workspaceId = 'acme';
const campaignId = 'spring-sale';
const streamId = campaignStreamId(workspaceId, campaignId);
const now = new Date('2025-03-01T12:00:00.000Z');

function metadata(commandId: string, extra: Partial<CommandMetadata> = {}): CommandMetadata {
  return { workspaceId, commandId, now, ...extra };
}

function createCampaign(commandId: string, extra: Partial<CommandMetadata> = {}): CampaignCommand {
  return {
    type: 'CreateCampaign',
    data: { campaignId, name: 'Spring sale', channels: ['EMAIL'] },
    metadata: metadata(commandId, extra),
  };
}

function renameCampaign(commandId: string, name: string): CampaignCommand {
  return { type: 'UpdateCampaign', data: { campaignId, name }, metadata: metadata(commandId) };
}

type CampaignDecider = Decider<CampaignCommand, CampaignEvent, CampaignState>;

/**
 * A decider that plays a second writer: on the calls `interfereOn` picks, its `decide`
 * renames the campaign through the store itself before answering, so the stream has moved
 * on between the handler's read and its append.
 */
function interferingDecider(
  store: EventStore,
  interfereOn: (call: number) => boolean,
): { decider: CampaignDecider; calls: () => number; interference: () => Promise<unknown> } {
  let calls = 0;
  const writes: Promise<AppendResult>[] = [];
  const decider: CampaignDecider = {
    ...campaignDecider,
    decide(command, state) {
      calls += 1;
      if (interfereOn(calls)) {
        writes.push(
          store.append(
            streamId,
            [
              {
                eventId: randomUUID(),
                type: 'CampaignUpdated',
                data: {
                  campaignId,
                  changes: { name: `Renamed by the other writer ${calls}` },
                  updatedAt: now.toISOString(),
                },
                metadata: { workspaceId, commandId: `other-writer-${calls}`, schemaVersion: 1 },
              },
            ],
            ExpectedRevision.streamExists,
          ),
        );
      }
      return campaignDecider.decide(command, state);
    },
  };
  return { decider, calls: () => calls, interference: () => Promise.all(writes) };
}

/**
 * The store as the handler sees it, except that an append first waits for the other
 * writer's appends started so far: the concurrent write is committed before the handler's,
 * whatever the adapter's timing.
 */
function storeBehind(store: EventStore, interference: () => Promise<unknown>): EventStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') {
        return async (...args: Parameters<EventStore['append']>) => {
          await interference();
          return target.append(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('CommandHandler', () => {
  let store: SqliteEventStore;
  let handler: CommandHandler;

  beforeEach(() => {
    store = SqliteEventStore.open({ path: ':memory:', synchronous: 'NORMAL' });
    handler = new CommandHandler(store);
  });

  afterEach(async () => {
    await store.close();
  });

  describe('appending', () => {
    it('appends the decided events with their metadata and answers the revision and position the stream shows', async () => {
      // given an empty stream
      // when a command is handled
      const result = await handler.handle(
        campaignDecider,
        streamId,
        createCampaign('command-1', { actor: 'user-7', causationId: 'cause-1' }),
      );

      // then the stream holds the event, with the command's metadata
      const stored = await store.readStream(streamId);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({
        type: 'CampaignCreated',
        eventId: deterministicEventId(`${streamId}|command-1|0`),
        metadata: {
          workspaceId,
          commandId: 'command-1',
          correlationId: 'command-1',
          causationId: 'cause-1',
          actor: 'user-7',
          schemaVersion: 1,
        },
      });
      // and the result matches what the store recorded
      expect(result).toMatchObject({
        streamId,
        revision: stored[0].revision,
        position: stored[0].position,
        replayed: false,
      });
      expect(result.revision).toBe(0n);
      expect(result.events).toEqual([{ type: 'CampaignCreated', data: stored[0].data }]);
      expect(result.state.status).toBe('Draft');
      expect(await store.headPosition()).toBe(result.position);
    });

    it('keeps a correlation id the command brings and leaves out actor and causation when absent', async () => {
      // given a command that names its correlation id only
      const command = createCampaign('command-1', { correlationId: 'journey-42' });

      // when it is handled
      await handler.handle(campaignDecider, streamId, command);

      // then the event carries that correlation id and no actor or causation
      const [event] = await store.readStream(streamId);
      expect(event.metadata).toEqual({
        workspaceId,
        commandId: 'command-1',
        correlationId: 'journey-42',
        schemaVersion: 1,
      });
    });

    it('appends behind existing events and answers the new last revision and position', async () => {
      // given a created campaign
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));

      // when a second command changes it
      const result = await handler.handle(
        campaignDecider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
      );

      // then its event is revision 1, at the log's head, and the state reflects both
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.type)).toEqual(['CampaignCreated', 'CampaignUpdated']);
      expect(result.revision).toBe(1n);
      expect(result.position).toBe(stored[1].position);
      expect(result.state.status === 'Draft' && result.state.campaign.name).toBe('Big sale');
    });
  });

  describe('idempotency', () => {
    it('answers a retried command id with the first result and appends nothing, even after the stream moved on', async () => {
      // given a command that was handled, and another one after it
      const first = await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      await handler.handle(campaignDecider, streamId, renameCampaign('command-2', 'Big sale'));
      const before = await store.readStream(streamId);

      // when the first command is retried with the same command id
      const retry = await handler.handle(campaignDecider, streamId, createCampaign('command-1'));

      // then the first result comes back, marked as replayed
      expect(retry.replayed).toBe(true);
      expect(retry.revision).toBe(first.revision);
      expect(retry.position).toBe(first.position);
      expect(retry.events).toEqual(first.events);
      // and nothing was appended (a new CreateCampaign would even have been refused)
      expect(await store.readStream(streamId)).toEqual(before);
    });

    it('replays a retry that repeats the expected revision it first sent instead of calling it a conflict', async () => {
      // given a command sent with the revision the client saw, handled, and the stream moved on
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      const first = await handler.handle(
        campaignDecider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
        { expectedRevision: 0n },
      );
      await handler.handle(campaignDecider, streamId, renameCampaign('command-3', 'Bigger sale'));

      // when the client retries it, with the same (now stale) expected revision
      const retry = await handler.handle(
        campaignDecider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
        { expectedRevision: 0n },
      );

      // then it gets the first result back
      expect(retry).toMatchObject({
        replayed: true,
        revision: first.revision,
        position: first.position,
      });
      expect(await store.readStream(streamId)).toHaveLength(3);
    });

    it('replays without deciding again', async () => {
      // given a handled command
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      const decide = jest.fn(campaignDecider.decide);

      // when it is retried
      const retry = await handler.handle({ ...campaignDecider, decide }, streamId, {
        ...createCampaign('command-1'),
      });

      // then the decider is not asked
      expect(retry.replayed).toBe(true);
      expect(decide).not.toHaveBeenCalled();
    });
  });

  describe('optimistic concurrency', () => {
    it('refuses a stale expected revision with a CONFLICT and appends nothing', async () => {
      // given a stream at revision 1
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      await handler.handle(campaignDecider, streamId, renameCampaign('command-2', 'Big sale'));
      const before = await store.readStream(streamId);
      const decide = jest.fn(campaignDecider.decide);

      // when a client that saw revision 0 sends a command
      const attempt = handler.handle(
        { ...campaignDecider, decide },
        streamId,
        renameCampaign('command-3', 'Bigger sale'),
        { expectedRevision: 0n },
      );

      // then it is a revision mismatch conflict
      const error: unknown = await attempt.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({
        kind: 'CONFLICT',
        reason: 'REVISION_MISMATCH',
        field: 'expectedRevision',
        streamId,
      });
      expect((error as Error).message).toContain('expected revision 0');
      expect((error as Error).message).toContain('at 1');
      // and nothing was decided nor appended
      expect(decide).not.toHaveBeenCalled();
      expect(await store.readStream(streamId)).toEqual(before);
    });

    it('accepts an expected revision that matches the stream', async () => {
      // given a stream at revision 0
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));

      // when a client that saw revision 0 sends a command
      const result = await handler.handle(
        campaignDecider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
        { expectedRevision: 0n },
      );

      // then it is appended
      expect(result.revision).toBe(1n);
    });

    it('refuses an expected revision of -1 (no stream) once the stream exists', async () => {
      // given a stream at revision 0
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));

      // when a client expects the stream not to exist
      const attempt = handler.handle(campaignDecider, streamId, renameCampaign('command-2', 'x'), {
        expectedRevision: -1n,
      });

      // then it is a conflict
      await expect(attempt).rejects.toBeInstanceOf(ConcurrencyConflictError);
      expect(await store.readStream(streamId)).toHaveLength(1);
    });

    it('retries when another writer appends between its read and its append, and then succeeds', async () => {
      // given a campaign, and a second writer that renames it while the first decide runs
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      const other = interferingDecider(store, (call) => call === 1);
      const racing = new CommandHandler(storeBehind(store, other.interference));

      // when a command without expected revision is handled
      const result = await racing.handle(
        other.decider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
      );

      // then the other writer's event is kept and the command was decided again on top of it
      await other.interference();
      expect(other.calls()).toBe(2);
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.metadata.commandId)).toEqual([
        'command-1',
        'other-writer-1',
        'command-2',
      ]);
      expect(result).toMatchObject({
        revision: 2n,
        position: stored[2].position,
        replayed: false,
      });
      expect(result.state.status === 'Draft' && result.state.campaign.name).toBe('Big sale');
    });

    it('gives up with a CONFLICT when every retry meets another writer', async () => {
      // given a campaign, and a second writer that renames it on every decide
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      const other = interferingDecider(store, () => true);
      const racing = new CommandHandler(storeBehind(store, other.interference));

      // when a command is handled with two retries allowed
      const attempt = racing.handle(
        other.decider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
        {
          maxRetries: 2,
        },
      );

      // then it fails as a revision mismatch after three attempts
      const error: unknown = await attempt.catch((caught: unknown) => caught);
      await other.interference();
      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect(error).toMatchObject({ kind: 'CONFLICT', reason: 'REVISION_MISMATCH', streamId });
      expect(other.calls()).toBe(3);
      // and only the other writer's events were appended
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.metadata.commandId)).toEqual([
        'command-1',
        'other-writer-1',
        'other-writer-2',
        'other-writer-3',
      ]);
    });

    it('does not retry when the client named the revision it saw', async () => {
      // given a campaign at revision 0, and a second writer that renames it during decide
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      const other = interferingDecider(store, () => true);
      const racing = new CommandHandler(storeBehind(store, other.interference));

      // when a client that saw revision 0 sends a command
      const attempt = racing.handle(
        other.decider,
        streamId,
        renameCampaign('command-2', 'Big sale'),
        {
          expectedRevision: 0n,
        },
      );

      // then it is a conflict at once: one decide, nothing of the command appended
      await expect(attempt).rejects.toMatchObject({
        kind: 'CONFLICT',
        reason: 'REVISION_MISMATCH',
      });
      await other.interference();
      expect(other.calls()).toBe(1);
      const stored = await store.readStream(streamId);
      expect(stored.map((event) => event.metadata.commandId)).toEqual([
        'command-1',
        'other-writer-1',
      ]);
    });
  });

  describe('deciding nothing', () => {
    it('appends nothing and answers the current revision and position when decide returns no event', async () => {
      // given a campaign named "Spring sale", and an unrelated later event in the log
      const created = await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      await handler.handle(
        campaignDecider,
        campaignStreamId(workspaceId, 'other'),
        createCampaign('command-x'),
      );

      // when it is renamed to the name it already has
      const result = await handler.handle(
        campaignDecider,
        streamId,
        renameCampaign('command-2', 'Spring sale'),
      );

      // then nothing is appended and the stream's own revision and position come back
      expect(result).toMatchObject({
        events: [],
        revision: 0n,
        position: created.position,
        replayed: false,
      });
      expect(await store.readStream(streamId)).toHaveLength(1);
    });

    it('answers revision and position -1 for a stream that does not exist', async () => {
      // given a decider that decides nothing
      const quiet: CampaignDecider = { ...campaignDecider, decide: () => [] };

      // when a command is handled on an empty stream
      const result = await handler.handle(quiet, streamId, createCampaign('command-1'));

      // then nothing is stored and the stream is reported as absent
      expect(result).toMatchObject({ events: [], revision: -1n, position: -1n, replayed: false });
      expect(await store.readStream(streamId)).toEqual([]);
      expect(await store.headPosition()).toBe(-1n);
    });
  });

  describe('domain errors', () => {
    it('lets the very error decide throws propagate, appending nothing', async () => {
      // given a decider that refuses
      const refusal = new IllegalStateError('no, not today', 'NOT_TODAY');
      const refusing: CampaignDecider = {
        ...campaignDecider,
        decide: () => {
          throw refusal;
        },
      };

      // when a command is handled
      const attempt = handler.handle(refusing, streamId, createCampaign('command-1'));

      // then the same error object comes out
      await expect(attempt).rejects.toBe(refusal);
      expect(await store.headPosition()).toBe(-1n);
    });

    it('propagates the campaign decider’s typed errors', async () => {
      // given no campaign
      // when it is launched
      const attempt = handler.handle(campaignDecider, streamId, {
        type: 'LaunchCampaign',
        data: { campaignId },
        metadata: metadata('command-1'),
      });

      // then it is the decider's NOT_FOUND error
      await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
      await expect(attempt).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    });
  });

  describe('load', () => {
    it('folds the stream into its state and revision without deciding', async () => {
      // given a created and renamed campaign
      await handler.handle(campaignDecider, streamId, createCampaign('command-1'));
      await handler.handle(campaignDecider, streamId, renameCampaign('command-2', 'Big sale'));

      // when it is loaded
      const loaded = await handler.load(campaignDecider, streamId);

      // then the state and revision are the stream's
      expect(loaded.revision).toBe(1n);
      expect(loaded.state.status === 'Draft' && loaded.state.campaign.name).toBe('Big sale');
      expect(await handler.load(campaignDecider, 'campaign-acme:none')).toMatchObject({
        revision: -1n,
        state: { status: 'Nonexistent' },
      });
    });
  });
});

describe('deterministicEventId', () => {
  const uuidV5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('gives the same UUID (version 5 layout) for the same name', () => {
    // given a name
    const name = 'campaign-acme:spring-sale|command-1|0';

    // when its id is derived twice
    const first = deterministicEventId(name);
    const second = deterministicEventId(name);

    // then both are the same version-5, RFC 4122 variant UUID
    expect(first).toBe(second);
    expect(first).toMatch(uuidV5);
  });

  it('is pinned: stored event ids must not change between releases', () => {
    // given the id scheme of the stored log
    // when a known name is derived
    // then the id is the one earlier releases stored (a change would let retries double events)
    expect(deterministicEventId('campaign-acme:spring-sale|command-1|0')).toBe(
      '15cc75f7-c91f-5f13-85c4-3fbe107b847a',
    );
    expect(deterministicEventId('')).toBe('adce4ce8-8752-5b5c-9494-a2f96818045d');
  });

  it('differs for every different name', () => {
    // given many names that differ by stream, command id or index
    const names = ['a', 'b', 'c'].flatMap((stream) =>
      ['command-1', 'command-2'].flatMap((commandId) =>
        Array.from({ length: 50 }, (_, index) => `${stream}|${commandId}|${index}`),
      ),
    );

    // when their ids are derived
    const ids = names.map(deterministicEventId);

    // then no two are equal, and each is UUID-shaped
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect(id).toMatch(uuidV5);
  });
});
