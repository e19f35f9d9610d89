/**
 * Old-shape events in an existing log: rows written the way Touchline stored
 * CampaignScheduled before its schema version 2, read through the SQLite event store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  campaignDecider,
  campaignStreamId,
  type CampaignCommand,
  type CampaignEvent,
} from '../../src/domain/campaign';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { CommandHandler } from '../../src/infra/commands/command-handler';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';

const workspaceId = 'acme';
const campaignId = 'spring-sale';
const streamId = campaignStreamId(workspaceId, campaignId);

/** Two rows as an older Touchline wrote them: CampaignScheduled still at schema version 1. */
const oldRows = [
  {
    event_id: '6f1c1d52-8d4e-5b7a-9a51-0c1e2f3a4b01',
    type: 'CampaignCreated',
    data: {
      campaignId,
      name: 'Spring sale',
      description: '',
      channels: ['EMAIL'],
      goal: null,
      budget: null,
      schedule: { startsAt: null, endsAt: null },
      tags: [],
      duplicatedFrom: null,
      createdAt: '2025-02-01T09:00:00.000Z',
    },
    metadata: { workspaceId, commandId: 'create', schemaVersion: 1, correlationId: 'create' },
    recorded_at: Date.parse('2025-02-01T09:00:00.010Z'),
  },
  {
    event_id: '6f1c1d52-8d4e-5b7a-9a51-0c1e2f3a4b02',
    type: 'CampaignScheduled',
    data: {
      campaignId,
      startsAt: '2025-04-01T00:00:00.000Z',
      endsAt: '2025-04-30T00:00:00.000Z',
      scheduledAt: '2025-02-02T09:00:00.000Z',
    },
    metadata: { workspaceId, commandId: 'schedule', schemaVersion: 1, correlationId: 'schedule' },
    recorded_at: Date.parse('2025-02-02T09:00:00.010Z'),
  },
];

const liftedSchedule = {
  campaignId,
  schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-04-30T00:00:00.000Z' },
  scheduledAt: '2025-02-02T09:00:00.000Z',
};

interface RawRow {
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

describe('an event store file holding version 1 CampaignScheduled events', () => {
  let dir: string;
  let path: string;
  let store: SqliteEventStore | undefined;

  function rawRows(): RawRow[] {
    const db = new Database(path, { readonly: true });
    try {
      return db
        .prepare<[], RawRow>('SELECT type, data, metadata FROM events ORDER BY position')
        .all();
    } finally {
      db.close();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'touchline-upcast-'));
    path = join(dir, 'events.db');
    // The file's table as the store creates it, then the rows written straight into it.
    await SqliteEventStore.open({ path }).close();
    const db = new Database(path);
    const insert = db.prepare(
      `INSERT INTO events (stream_id, revision, event_id, type, data, metadata, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    oldRows.forEach((row, revision) =>
      insert.run(
        streamId,
        revision,
        row.event_id,
        row.type,
        JSON.stringify(row.data),
        JSON.stringify(row.metadata),
        row.recorded_at,
      ),
    );
    db.close();
    store = SqliteEventStore.open({ path, pollIntervalMs: 10 });
  });

  afterEach(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function expectLifted(events: readonly RecordedEvent[]): void {
    expect(events.map((event) => event.type)).toEqual(['CampaignCreated', 'CampaignScheduled']);
    const [created, scheduled] = events;
    expect(created?.data).toEqual(oldRows[0]?.data);
    expect(created?.metadata).toEqual(oldRows[0]?.metadata);
    expect(scheduled?.data).toEqual(liftedSchedule);
    expect(scheduled?.metadata).toEqual({
      ...oldRows[1]?.metadata,
      schemaVersion: 2,
      storedSchemaVersion: 1,
    });
  }

  it('when the stream is read, then CampaignScheduled comes back in its version 2 shape', async () => {
    expectLifted(await store!.readStream(streamId));
  });

  it('when the log is read, then readAll hands out version 2 too', async () => {
    expectLifted(await store!.readAll());
    expectLifted(await store!.readAll({ filter: { streamPrefixes: ['campaign-'] } }));
  });

  it('when subscribed, then the subscription delivers version 2', async () => {
    const subscription = store!.subscribe();
    const received: RecordedEvent[] = [];
    for await (const event of subscription) {
      received.push(event);
      if (received.length === oldRows.length) break;
    }
    expectLifted(received);
  });

  it('when folded, then the campaign state holds the schedule the old event set', async () => {
    const events = await store!.readStream(streamId);

    const state = events.reduce(
      (current, event) => campaignDecider.evolve(current, event as unknown as CampaignEvent),
      campaignDecider.initialState(),
    );

    expect(state).toMatchObject({
      status: 'Scheduled',
      campaign: {
        schedule: { startsAt: '2025-04-01T00:00:00.000Z', endsAt: '2025-04-30T00:00:00.000Z' },
      },
    });
  });

  it('when a command is decided on it, then the new event is stored at version 2 and the old rows are unchanged', async () => {
    const before = rawRows();
    const handler = new CommandHandler(store!);
    const reschedule: CampaignCommand = {
      type: 'ScheduleCampaign',
      data: { campaignId, startsAt: '2025-05-01T00:00:00Z', endsAt: null },
      metadata: { workspaceId, commandId: 'reschedule', now: new Date('2025-02-03T00:00:00Z') },
    };

    const result = await handler.handle(campaignDecider, streamId, reschedule);

    expect(result.state).toMatchObject({
      status: 'Scheduled',
      campaign: { schedule: { startsAt: '2025-05-01T00:00:00.000Z', endsAt: null } },
    });
    const after = rawRows();
    expect(after.slice(0, oldRows.length)).toEqual(before);
    expect(JSON.parse(after[1]!.data)).toEqual(oldRows[1]?.data);
    expect(JSON.parse(after[1]!.metadata)).toEqual(oldRows[1]?.metadata);
    const written = after[2]!;
    expect(JSON.parse(written.data)).toEqual({
      campaignId,
      schedule: { startsAt: '2025-05-01T00:00:00.000Z', endsAt: null },
      scheduledAt: '2025-02-03T00:00:00.000Z',
    });
    expect(JSON.parse(written.metadata)).toMatchObject({ schemaVersion: 2 });
    expect(JSON.parse(written.metadata)).not.toHaveProperty('storedSchemaVersion');
    // and a current event reads back as stored, with no stored version of its own
    const [, , rescheduled] = await store!.readStream(streamId);
    expect(rescheduled?.metadata).not.toHaveProperty('storedSchemaVersion');
  });

  it('when a row is newer than this build reads, then reading it fails clearly', async () => {
    await store!.close();
    const db = new Database(path);
    db.prepare('UPDATE events SET metadata = json_set(metadata, ?, 3) WHERE type = ?').run(
      '$.schemaVersion',
      'CampaignScheduled',
    );
    db.close();
    store = SqliteEventStore.open({ path });

    await expect(store.readStream(streamId)).rejects.toThrow(
      /\(CampaignScheduled\) has schema version 3, newer than this build reads \(2\)/,
    );
  });
});
