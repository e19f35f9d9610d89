/**
 * Replays of the log into a throw-away read store (`asOf`, `touchline replay --until`): which
 * projections run, in which order, and that nothing past the position is applied.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { replayProjections } from '../../src/infra/history/replay';
import { UnknownProjectionError } from '../../src/infra/projections/projection-manager';
import { contactsCollection } from '../../src/projections/contacts/contacts.projection';

let dataDir: string;
let eventStore: SqliteEventStore;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-replay-'));
  eventStore = SqliteEventStore.open({ path: path.join(dataDir, 'events.db') });
});

afterEach(async () => {
  await eventStore.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** An `identify` of a new contact, stored as tracking ingestion stores it. */
async function identify(userId: string, n: number): Promise<bigint> {
  const { position } = await eventStore.append(
    `contact-acme:${userId}`,
    [
      {
        eventId: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
        type: 'ContactIdentified',
        data: {
          messageId: `m-${n}`,
          userId,
          anonymousId: null,
          occurredAt: '2026-11-20T10:00:00.000Z',
          receivedAt: '2026-11-20T10:00:00.000Z',
          sentAt: null,
          originalTimestamp: null,
          campaign: null,
          page: null,
          traits: { plan: 'pro' },
        },
        metadata: { workspaceId: 'acme', schemaVersion: 1 },
      },
    ],
    ExpectedRevision.any,
  );
  return position;
}

describe('replayProjections', () => {
  it('runs the inputs a projection pins first, in the order the server runs them', async () => {
    const funnels = await replayProjections({ eventStore, projections: ['funnels'], until: -1n });
    expect(funnels.projections).toEqual(['funnel-definitions', 'funnels']);
    const attribution = await replayProjections({
      eventStore,
      projections: ['attribution', 'campaign-metrics'],
      until: -1n,
    });
    expect(attribution.projections).toEqual([
      'campaign-metrics',
      'attribution-settings',
      'attribution',
    ]);
    await Promise.all([funnels.close(), attribution.close()]);
  });

  it('refuses a projection it does not know', async () => {
    await expect(
      replayProjections({ eventStore, projections: ['nonsense'], until: -1n }),
    ).rejects.toBeInstanceOf(UnknownProjectionError);
  });

  it('applies the log up to the position and nothing after it', async () => {
    const first = await identify('ann', 1);
    await identify('bob', 2);
    const progress: bigint[] = [];
    const replayed = await replayProjections({
      eventStore,
      projections: ['contacts'],
      until: first,
      onProgress: ({ position }) => {
        progress.push(position);
      },
    });
    const documents = [];
    for await (const document of replayed.documents(contactsCollection)) documents.push(document);
    expect(documents).toEqual([expect.objectContaining({ userIds: ['ann'] })]);
    expect(replayed.eventsProcessed).toBe(1);
    expect(progress).toEqual([first]);
    const whole = await replayProjections({
      eventStore,
      projections: ['contacts'],
      until: await eventStore.headPosition(),
    });
    expect(await whole.collection(contactsCollection).count({})).toBe(2);
    await Promise.all([replayed.close(), whole.close()]);
  });
});
