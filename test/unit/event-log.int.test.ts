import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { parseEventFilter, type EventQuery } from '../../src/graphql/history/event-query';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { eventLog } from '../../src/infra/services';

const workspaceId = 'acme';
let dataDir: string;
let eventStore: SqliteEventStore;
let counter = 0;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'touchline-event-log-'));
  eventStore = SqliteEventStore.open({ path: path.join(dataDir, 'events.db') });
});

afterEach(async () => {
  await eventStore.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function given(streamId: string, type: string, workspace = workspaceId): Promise<bigint> {
  counter += 1;
  const result = await eventStore.append(
    streamId,
    [
      {
        eventId: `00000000-0000-4000-8000-${counter.toString().padStart(12, '0')}`,
        type,
        data: { n: counter },
        metadata: { workspaceId: workspace, schemaVersion: 1 },
      },
    ],
    ExpectedRevision.any,
  );
  return result.position;
}

/** Every page of a query, `first` at a time, running `between` after each page. */
async function allPages(
  log: ReturnType<typeof eventLog>,
  query: EventQuery,
  first: number,
  between: () => Promise<void> = async () => undefined,
): Promise<{ events: RecordedEvent[]; pages: number }> {
  const events: RecordedEvent[] = [];
  let after: bigint | undefined;
  let pages = 0;
  for (;;) {
    const page = await log.events(query, { first, ...(after !== undefined && { after }) });
    pages += 1;
    events.push(...page.events);
    if (!page.hasNextPage) return { events, pages };
    await between();
    after = page.endPosition ?? undefined;
  }
}

const numbers = (events: readonly RecordedEvent[]) =>
  events.map((event) => (event.data as { n: number }).n);

describe('the event log over SQLite', () => {
  it('given two workspaces, then only the caller’s events, in position order', async () => {
    await given('campaign-acme:a', 'CampaignCreated');
    await given('campaign-other:a', 'CampaignCreated', 'other');
    await given('contact-acme:ada', 'PageViewed');
    const log = eventLog(eventStore);

    const page = await log.events(parseEventFilter(workspaceId, {}), { first: 10 });

    expect(page.events.map((event) => event.streamId)).toEqual([
      'campaign-acme:a',
      'contact-acme:ada',
    ]);
    expect(page.hasNextPage).toBe(false);
  });

  it('given appends between pages, then no event is skipped or repeated', async () => {
    for (let i = 0; i < 5; i += 1) await given(`contact-acme:u${i}`, 'PageViewed');
    const log = eventLog(eventStore, { readPage: 3, maxScanned: 100 });
    let appended = 0;

    const { events, pages } = await allPages(
      log,
      parseEventFilter(workspaceId, {}),
      2,
      async () => {
        appended += 1;
        await given('contact-acme:late', 'EventTracked');
        await given('campaign-other:x', 'CampaignCreated', 'other');
      },
    );

    const everything = await eventStore.readAll();
    const ours = everything.filter((event) => event.metadata.workspaceId === workspaceId);
    expect(appended).toBe(pages - 1);
    expect(events.map((event) => event.position)).toEqual(ours.map((event) => event.position));
    expect(numbers(events)).toHaveLength(5 + appended);
  });

  it('given a rare filter past the scan bound, then short pages that go on after the last read', async () => {
    const positions: bigint[] = [];
    for (let i = 0; i < 9; i += 1) positions.push(await given(`contact-acme:u${i}`, 'PageViewed'));
    const log = eventLog(eventStore, { readPage: 2, maxScanned: 4 });
    // Event time is matched in memory: the store hands every event over.
    const never = {
      ...parseEventFilter(workspaceId, {}),
      occurred: { from: Date.parse('2999-01-01') },
    };

    const first = await log.events(never, { first: 5 });
    const { events, pages } = await allPages(log, never, 5);

    expect(first).toEqual({ events: [], hasNextPage: true, endPosition: positions[3] });
    expect(events).toEqual([]);
    expect(pages).toBe(3);
  });

  it('given `until`, then nothing after that position', async () => {
    await given('campaign-acme:a', 'CampaignCreated');
    const head = await given('campaign-acme:a', 'CampaignLaunched');
    await given('campaign-acme:a', 'CampaignPaused');
    const log = eventLog(eventStore, { readPage: 1, maxScanned: 100 });

    const page = await log.events(parseEventFilter(workspaceId, {}), { first: 10, until: head });

    expect(numbers(page.events)).toHaveLength(2);
    expect(page).toMatchObject({ hasNextPage: false, endPosition: head });
  });

  it('given types and a category, then the store filters them and the rest is matched here', async () => {
    await given('campaign-acme:a', 'CampaignCreated');
    await given('segment-acme:vip', 'SegmentCreated');
    await given('segmentclock-acme', 'SegmentClockTicked');
    await given('segment-acme:vip', 'SegmentUpdated');
    const log = eventLog(eventStore);

    const segments = await log.events(parseEventFilter(workspaceId, { category: 'segment' }), {
      first: 10,
    });
    const created = await log.events(
      parseEventFilter(workspaceId, { types: ['SegmentCreated', 'CampaignCreated'] }),
      { first: 1 },
    );

    expect(segments.events.map((event) => event.type)).toEqual([
      'SegmentCreated',
      'SegmentUpdated',
    ]);
    expect(created.events.map((event) => event.type)).toEqual(['CampaignCreated']);
    expect(created.hasNextPage).toBe(true);
  });
});
