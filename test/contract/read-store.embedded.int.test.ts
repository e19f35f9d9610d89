/**
 * The read store contract against the embedded store on a real file, then what only the
 * embedded store promises: it survives a restart without replay, a commit that fails half
 * way through its transaction leaves file and cache alike, and values JSON would change
 * are refused.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  EmbeddedReadStore,
  InvalidUpdateError,
  UnsupportedValueError,
} from '../../src/infra/read-store/embedded-read-store';
import type { Document, ReadStore, WriteBatch } from '../../src/projections/read-store';
import { describeReadStoreContract } from './read-store.contract';

function temporaryDirectory(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'touchline-read-store-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

describeReadStoreContract('embedded (SQLite file)', async () => {
  const directory = temporaryDirectory();
  const path = join(directory.path, 'read.db');
  const store = EmbeddedReadStore.open({ path });
  return {
    store,
    cleanup: async () => {
      await store.close();
      directory.remove();
    },
    openSibling: async () => EmbeddedReadStore.open({ path }),
  };
});

describeReadStoreContract(
  'embedded (in memory)',
  async () => ({ store: EmbeddedReadStore.open({ path: ':memory:' }) }),
  { siblings: false },
);

describe('embedded read store, beyond the contract', () => {
  let directory: ReturnType<typeof temporaryDirectory>;
  let file: string;
  const opened: ReadStore[] = [];

  const open = (clock?: () => Date): EmbeddedReadStore => {
    const store = EmbeddedReadStore.open({ path: file, clock });
    opened.push(store);
    return store;
  };

  /** Everything a store holds in the given collections, plus its checkpoint. */
  const snapshot = async (store: ReadStore, collections: string[], checkpoint: string) => ({
    documents: await Promise.all(
      collections.map((name) => store.collection(name).find({}, { sort: { _id: 1 } })),
    ),
    checkpoint: await store.getCheckpoint(checkpoint),
  });

  beforeEach(() => {
    directory = temporaryDirectory();
    // A folder that does not exist yet: opening creates it.
    file = join(directory.path, 'nested', 'read.db');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    directory.remove();
  });

  const seedBatch: WriteBatch = {
    operations: [
      {
        kind: 'replaceOne',
        collection: 'campaigns',
        document: { _id: 'c1', name: 'Spring', stats: { clicks: 2 } },
      },
      {
        kind: 'replaceOne',
        collection: 'campaigns',
        document: { _id: 'c2', name: 'Summer', tags: ['x'] },
      },
      {
        kind: 'replaceOne',
        collection: 'contacts',
        document: { _id: 'k1', email: 'a@example.com' },
      },
    ],
    checkpoint: { name: 'campaigns', position: 2n ** 60n },
  };

  it('keeps documents and checkpoints across close and reopen, without any replay', async () => {
    const fixedNow = new Date('2024-05-01T12:00:00.000Z');
    const first = open(() => fixedNow);
    await first.commit(seedBatch);
    await first.commit({
      operations: [
        {
          kind: 'updateOne',
          collection: 'campaigns',
          filter: { _id: 'c1' },
          update: { $inc: { 'stats.clicks': 1 } },
        },
      ],
      checkpoint: { name: 'campaigns', position: 2n ** 60n + 1n },
    });
    const before = await snapshot(first, ['campaigns', 'contacts'], 'campaigns');
    await first.close();

    const reopened = open();

    expect(await snapshot(reopened, ['campaigns', 'contacts'], 'campaigns')).toEqual(before);
    expect(before.documents[0]).toEqual([
      { _id: 'c1', name: 'Spring', stats: { clicks: 3 } },
      { _id: 'c2', name: 'Summer', tags: ['x'] },
    ]);
    expect(before.checkpoint).toEqual({
      name: 'campaigns',
      position: 2n ** 60n + 1n,
      updatedAt: fixedNow,
    });
    expect(await reopened.listCollections()).toEqual(['campaigns', 'contacts']);
  });

  it("answers the reads of one turn from one look at other processes' commits, and sees this process's at once", async () => {
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const reader = open();
    const sameProcess = open();
    // Another process: the store counts its own process's commits per path, and a path
    // through a symbolic link is, to it, another file.
    const alias = join(directory.path, 'alias');
    symlinkSync(join(directory.path, 'nested'), alias);
    const otherProcess = EmbeddedReadStore.open({ path: join(alias, 'read.db') });
    opened.push(otherProcess);
    const put = (store: ReadStore, clicks: number) =>
      store.commit({
        operations: [
          { kind: 'replaceOne', collection: 'campaigns', document: { _id: 'c1', clicks } },
        ],
      });
    const clicks = async () =>
      (await reader.collection('campaigns').findOne({ _id: 'c1' }))?.clicks;
    await put(sameProcess, 1);
    await nextTurn();

    expect(await clicks()).toBe(1);
    await put(otherProcess, 2);
    expect(await clicks()).toBe(1);
    await put(sameProcess, 3);
    expect(await clicks()).toBe(3);
    await put(otherProcess, 4);
    await nextTurn();
    expect(await clicks()).toBe(4);
  });

  it('writes by id into a collection it has not read yet, and reads it whole afterwards', async () => {
    const first = open();
    await first.commit({
      operations: [
        { kind: 'replaceOne', collection: 'history', document: { _id: 'a', n: 1 } },
        { kind: 'replaceOne', collection: 'history', document: { _id: 'b', n: 1 } },
      ],
    });
    await first.close();
    const writer = open();
    await writer.commit({
      operations: [
        { kind: 'replaceOne', collection: 'history', document: { _id: 'b', n: 2 } },
        { kind: 'replaceOne', collection: 'history', document: { _id: 'c', n: 1 } },
        { kind: 'deleteOne', collection: 'history', id: 'a' },
        { kind: 'deleteOne', collection: 'history', id: 'never-there' },
      ],
    });
    const everything = [
      { _id: 'b', n: 2 },
      { _id: 'c', n: 1 },
    ];

    expect(await writer.collection('history').find({}, { sort: { _id: 1 } })).toEqual(everything);
    expect(
      await open()
        .collection('history')
        .find({}, { sort: { _id: 1 } }),
    ).toEqual(everything);
  });

  it('leaves file and cache as they were when the transaction fails half way, and works on afterwards', async () => {
    const store = open();
    await store.commit(seedBatch);
    const before = await snapshot(store, ['campaigns', 'contacts'], 'campaigns');
    // Another connection makes the disk refuse one row, so the failure comes from inside
    // the SQLite transaction, after earlier rows of the batch were written.
    const saboteur = new Database(file);
    saboteur.exec(`
      CREATE TRIGGER refuse_poison BEFORE INSERT ON documents WHEN NEW.id = 'poison'
      BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END;
    `);
    const batch: WriteBatch = {
      operations: [
        {
          kind: 'updateOne',
          collection: 'campaigns',
          filter: { _id: 'c1' },
          update: { $set: { name: 'Changed' } },
        },
        { kind: 'deleteOne', collection: 'campaigns', id: 'c2' },
        { kind: 'replaceOne', collection: 'contacts', document: { _id: 'k2' } },
        { kind: 'replaceOne', collection: 'contacts', document: { _id: 'poison' } },
        { kind: 'replaceOne', collection: 'contacts', document: { _id: 'k3' } },
      ],
      checkpoint: { name: 'campaigns', position: 2n ** 60n + 1n },
    };

    // Matched by message: under jest, better-sqlite3's native addon keeps the error class of
    // the first test file that loaded it, so the error may not be this realm's `Error`.
    await expect(store.commit(batch)).rejects.toMatchObject({
      message: expect.stringContaining('injected disk failure'),
    });

    expect(await snapshot(store, ['campaigns', 'contacts'], 'campaigns')).toEqual(before);
    await store.close();
    expect(await snapshot(open(), ['campaigns', 'contacts'], 'campaigns')).toEqual(before);

    saboteur.exec('DROP TRIGGER refuse_poison');
    saboteur.close();
    const afterRepair = open();
    await afterRepair.commit(batch);
    expect(await afterRepair.collection('contacts').count()).toBe(4);
    expect(await afterRepair.collection('campaigns').find({})).toEqual([
      { _id: 'c1', name: 'Changed', stats: { clicks: 2 } },
    ]);
  });

  it.each([
    ['a Date', { _id: 'a', at: new Date('2024-05-01T00:00:00.000Z') }, /ISO-8601/],
    ['a bigint', { _id: 'a', position: 12n }, /decimal strings/],
    ['a nested Date', { _id: 'a', history: [{ at: new Date() }] }, /history\.0\.at/],
    ['NaN', { _id: 'a', rate: Number.NaN }, /finite/],
    ['a Map', { _id: 'a', seen: new Map() }, /plain JSON object/],
  ])(
    'refuses %s in a document rather than storing something else',
    async (_what, document, message) => {
      const store = open();
      const refused = store.commit({
        operations: [{ kind: 'replaceOne', collection: 'values', document: document as Document }],
      });
      await expect(refused).rejects.toBeInstanceOf(UnsupportedValueError);
      await expect(refused).rejects.toThrow(message);
      expect(await store.collection('values').count()).toBe(0);
    },
  );

  it('refuses a Date set by an update operator too', async () => {
    const store = open();
    await store.commit({
      operations: [{ kind: 'replaceOne', collection: 'values', document: { _id: 'a' } }],
    });
    const refused = store.commit({
      operations: [
        {
          kind: 'updateOne',
          collection: 'values',
          filter: { _id: 'a' },
          update: { $set: { at: new Date() } },
        },
      ],
    });
    await expect(refused).rejects.toBeInstanceOf(UnsupportedValueError);
    expect(await store.collection('values').findOne({ _id: 'a' })).toEqual({ _id: 'a' });
  });

  it('drops fields whose value is undefined, as JSON does', async () => {
    const store = open();
    await store.commit({
      operations: [
        {
          kind: 'replaceOne',
          collection: 'values',
          document: { _id: 'a', missing: undefined, kept: 1 },
        },
      ],
    });
    expect(await store.collection('values').findOne({ _id: 'a' })).toEqual({ _id: 'a', kept: 1 });
  });

  it('refuses update operators outside the port, naming the supported ones', async () => {
    const store = open();
    const refused = store.commit({
      operations: [
        {
          kind: 'updateOne',
          collection: 'values',
          filter: { _id: 'a' },
          update: { $rename: { a: 'b' } } as never,
          upsert: true,
        },
      ],
    });
    await expect(refused).rejects.toBeInstanceOf(InvalidUpdateError);
    await expect(refused).rejects.toThrow(/\$setOnInsert/);
  });

  it('refuses aggregation stages that write', async () => {
    const store = open();
    await expect(store.collection('values').aggregate([{ $out: 'elsewhere' }])).rejects.toThrow(
      /commit/,
    );
  });

  it('refuses work once closed, and says so on ping', async () => {
    const store = open();
    await store.close();
    expect(await store.ping()).toBe(false);
    await expect(store.collection('values').find({})).rejects.toThrow(/closed/);
    await expect(store.commit({ operations: [] })).rejects.toThrow(/closed/);
  });

  it('keeps a throw-away in-memory store apart from any file', async () => {
    const memory = EmbeddedReadStore.open({ path: ':memory:' });
    opened.push(memory);
    await memory.commit(seedBatch);
    expect(await memory.collection('campaigns').count()).toBe(2);
    expect(await open().listCollections()).toEqual([]);
  });
});
