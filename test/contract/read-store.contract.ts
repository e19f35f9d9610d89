/**
 * The read store contract: what every adapter of `ReadStore` does, written once and run
 * against each (see `read-store.*.int.test.ts`). The expectations are MongoDB's own
 * semantics, so the embedded adapter is held to what the MongoDB adapter does naturally.
 *
 * The suite opens one store for all its tests. Every test writes to collections and
 * checkpoints of its own (unique names), so a shared database works, and only asserts on
 * what it wrote. Where MongoDB leaves an order unspecified (no sort, $group output,
 * $addToSet), the tests sort before comparing.
 */
import {
  FencedWriteError,
  StaleCheckpointError,
  type Document,
  type Filter,
  type FindOptions,
  type ReadStore,
  type StoreNotice,
  type UpdateOperators,
  type WriteOperation,
} from '../../src/projections/read-store';

export interface ReadStoreUnderTest {
  readonly store: ReadStore;
  /** Called once after the suite; closes the store when given, else the suite closes it. */
  readonly cleanup?: () => Promise<void>;
  /**
   * Opens another store over the same data, as another process would; the `follow` tests
   * need it and close what it opened. Absent when no other connection can reach the data
   * (SQLite in memory): say so with `{ siblings: false }`, which skips those tests.
   */
  readonly openSibling?: () => Promise<ReadStore>;
}

export interface ReadStoreContractOptions {
  /** False when the factory cannot open a second store over the same data. Default true. */
  readonly siblings?: boolean;
}

export function describeReadStoreContract(
  adapterName: string,
  factory: () => Promise<ReadStoreUnderTest>,
  options: ReadStoreContractOptions = {},
): void {
  describe(`read store contract: ${adapterName}`, () => {
    let store: ReadStore;
    let cleanup: (() => Promise<void>) | undefined;
    let openSibling: (() => Promise<ReadStore>) | undefined;
    const unique = uniqueNames();

    beforeAll(async () => {
      ({ store, cleanup, openSibling } = await factory());
    });

    afterAll(async () => {
      if (cleanup) await cleanup();
      else await store?.close();
    });

    const insert = (collection: string, ...documents: Document[]): Promise<void> =>
      store.commit({ operations: documents.map((document) => replaceOne(collection, document)) });
    const updateOne = (
      collection: string,
      filter: Filter,
      update: UpdateOperators,
      upsert = false,
    ): Promise<void> =>
      store.commit({ operations: [{ kind: 'updateOne', collection, filter, update, upsert }] });
    const byId = (collection: string, id: string): Promise<Document | null> =>
      store.collection(collection).findOne({ _id: id });
    const everything = (collection: string): Promise<Document[]> =>
      store.collection(collection).find({}, { sort: { _id: 1 } });

    /** Given a document, when the update runs, then the document reads back as expected. */
    async function expectUpdate(
      given: Document,
      update: UpdateOperators,
      expected: Document,
    ): Promise<void> {
      const collection = unique('updates');
      await insert(collection, given);
      await updateOne(collection, { _id: given._id }, update);
      expect(await byId(collection, given._id)).toEqual(expected);
    }

    describe('update operators', () => {
      it('$set writes fields and creates the objects of dotted paths, keeping their siblings', async () => {
        await expectUpdate(
          { _id: 'a', name: 'old', profile: { name: 'Ada' } },
          { $set: { name: 'new', 'profile.city': 'London', 'stats.visits.total': 1 } },
          {
            _id: 'a',
            name: 'new',
            profile: { name: 'Ada', city: 'London' },
            stats: { visits: { total: 1 } },
          },
        );
      });

      it('$set, $inc and $unset reach array elements by index, padding with nulls past the end', async () => {
        await expectUpdate(
          { _id: 'a', list: [{ n: 1 }, { n: 2 }], short: [1], counts: [5, 6], gone: ['x', 'y'] },
          {
            $set: { 'list.1.n': 5, 'short.3': 4 },
            $inc: { 'counts.0': 1 },
            $unset: { 'gone.0': '' },
          },
          {
            _id: 'a',
            list: [{ n: 1 }, { n: 5 }],
            short: [1, null, null, 4],
            counts: [6, 6],
            gone: [null, 'y'],
          },
        );
      });

      it('$set on _id with its own value changes nothing', async () => {
        await expectUpdate({ _id: 'a', n: 1 }, { $set: { _id: 'a', n: 2 } }, { _id: 'a', n: 2 });
      });

      it('$unset removes top-level and nested fields and ignores missing ones', async () => {
        await expectUpdate(
          { _id: 'a', gone: 1, keep: 2, nested: { gone: 3, keep: 4 } },
          { $unset: { gone: '', 'nested.gone': '', missing: '', 'nothing.here': '' } },
          { _id: 'a', keep: 2, nested: { keep: 4 } },
        );
      });

      it('$inc adds to a number and starts a missing field, dotted or not, from 0', async () => {
        await expectUpdate(
          { _id: 'a', clicks: 5 },
          { $inc: { clicks: 2, views: 3, 'daily.opens': 1, refunds: -1 } },
          { _id: 'a', clicks: 7, views: 3, daily: { opens: 1 }, refunds: -1 },
        );
      });

      it('$max and $min replace a value only when the new one is greater or smaller, and set a missing one', async () => {
        await expectUpdate(
          { _id: 'a', high: 5, low: 5, high2: 5, low2: 5 },
          { $max: { high: 9, high2: 3, 'best.score': 4 }, $min: { low: 1, low2: 7 } },
          { _id: 'a', high: 9, low: 1, high2: 5, low2: 5, best: { score: 4 } },
        );
      });

      it('$max and $min compare ISO-8601 timestamps in time order', async () => {
        await expectUpdate(
          {
            _id: 'a',
            firstSeenAt: '2024-03-02T10:00:00.000Z',
            lastSeenAt: '2024-03-02T10:00:00.000Z',
          },
          {
            $min: { firstSeenAt: '2024-03-01T09:00:00.000Z' },
            $max: { lastSeenAt: '2024-03-01T09:00:00.000Z' },
          },
          {
            _id: 'a',
            firstSeenAt: '2024-03-01T09:00:00.000Z',
            lastSeenAt: '2024-03-02T10:00:00.000Z',
          },
        );
      });

      it('$push appends one value, several with $each, and creates missing arrays on dotted paths', async () => {
        await expectUpdate(
          { _id: 'a', tags: ['a'] },
          { $push: { tags: { $each: ['b', 'c'] }, 'history.events': 'opened' } },
          { _id: 'a', tags: ['a', 'b', 'c'], history: { events: ['opened'] } },
        );
        await expectUpdate(
          { _id: 'b', tags: ['a'] },
          { $push: { tags: 'a' } },
          { _id: 'b', tags: ['a', 'a'] },
        );
      });

      it('$addToSet adds values that are not there yet, one or several with $each, objects compared whole', async () => {
        await expectUpdate(
          { _id: 'a', tags: ['a'], members: [{ id: 1 }] },
          {
            $addToSet: {
              tags: { $each: ['a', 'b', 'b', 'c'] },
              members: { id: 1 },
              'segments.ids': 's1',
            },
          },
          { _id: 'a', tags: ['a', 'b', 'c'], members: [{ id: 1 }], segments: { ids: ['s1'] } },
        );
        await expectUpdate(
          { _id: 'b', members: [{ id: 1 }] },
          { $addToSet: { members: { id: 2 } } },
          { _id: 'b', members: [{ id: 1 }, { id: 2 }] },
        );
      });

      it('$pull removes every element equal to a value or matching a condition', async () => {
        await expectUpdate(
          {
            _id: 'a',
            tags: ['a', 'b', 'a', 'c'],
            scores: [1, 5, 9],
            items: [
              { sku: 'x', qty: 1 },
              { sku: 'y', qty: 2 },
            ],
          },
          { $pull: { tags: 'a', scores: { $gte: 5 }, items: { sku: 'x' }, missing: 'z' } },
          { _id: 'a', tags: ['b', 'c'], scores: [1], items: [{ sku: 'y', qty: 2 }] },
        );
      });

      it('applies several operators of one update together', async () => {
        await expectUpdate(
          { _id: 'a', n: 1, old: true, tags: [] },
          { $inc: { n: 1 }, $unset: { old: '' }, $push: { tags: 't' }, $set: { status: 'ACTIVE' } },
          { _id: 'a', n: 2, tags: ['t'], status: 'ACTIVE' },
        );
      });
    });

    describe('updates MongoDB refuses', () => {
      const refusedUpdates: [string, Document, UpdateOperators][] = [
        ['$inc on a string', { _id: 'a', n: 'five' }, { $inc: { n: 1 } }],
        ['$inc on null', { _id: 'a', n: null }, { $inc: { n: 1 } }],
        ['$push on a non-array', { _id: 'a', tags: 'x' }, { $push: { tags: 'y' } }],
        ['$addToSet on a non-array', { _id: 'a', tags: { x: 1 } }, { $addToSet: { tags: 'y' } }],
        ['$set through a scalar', { _id: 'a', profile: 5 }, { $set: { 'profile.name': 'x' } }],
        ['$set of another _id', { _id: 'a', n: 1 }, { $set: { _id: 'b' } }],
        ['the same path in two operators', { _id: 'a', n: 1 }, { $set: { n: 2 }, $inc: { n: 1 } }],
      ];

      it.each(refusedUpdates)(
        'refuses %s and leaves the document as it was',
        async (_name, given, update) => {
          const collection = unique('refused');
          await insert(collection, given);
          await expect(updateOne(collection, { _id: given._id }, update)).rejects.toThrow();
          expect(await everything(collection)).toEqual([given]);
        },
      );
    });

    describe('upsert', () => {
      it('inserts the filter equality fields, $setOnInsert and the other operators when nothing matches', async () => {
        const collection = unique('daily');
        await updateOne(
          collection,
          { _id: 'c1:2024-05-01', workspaceId: 'w1', campaignId: 'c1' },
          {
            $setOnInsert: { createdAt: '2024-05-01T08:00:00.000Z' },
            $inc: { clicks: 1 },
            $set: { 'last.at': 't1' },
          },
          true,
        );
        expect(await everything(collection)).toEqual([
          {
            _id: 'c1:2024-05-01',
            workspaceId: 'w1',
            campaignId: 'c1',
            createdAt: '2024-05-01T08:00:00.000Z',
            clicks: 1,
            last: { at: 't1' },
          },
        ]);
      });

      it('updates the match and ignores $setOnInsert when a document matches', async () => {
        const collection = unique('daily');
        const upsert = (createdAt: string, at: string) =>
          updateOne(
            collection,
            { _id: 'd1', workspaceId: 'w1' },
            { $setOnInsert: { createdAt }, $inc: { clicks: 1 }, $set: { lastAt: at } },
            true,
          );
        await upsert('first', 't1');
        await upsert('second', 't2');
        expect(await everything(collection)).toEqual([
          { _id: 'd1', workspaceId: 'w1', createdAt: 'first', clicks: 2, lastAt: 't2' },
        ]);
      });

      it('takes equalities from $eq, $and and dotted paths, but not from other conditions', async () => {
        const collection = unique('contacts');
        await updateOne(
          collection,
          {
            _id: 'k1',
            $and: [{ workspaceId: 'w1' }],
            'source.channel': { $eq: 'email' },
            score: { $gt: 3 },
            name: { $in: ['a', 'b'] },
          },
          { $set: { seen: true } },
          true,
        );
        expect(await everything(collection)).toEqual([
          { _id: 'k1', workspaceId: 'w1', source: { channel: 'email' }, seen: true },
        ]);
      });

      it('gives the inserted document a string _id when neither the filter nor $setOnInsert names one', async () => {
        const collection = unique('daily');
        await updateOne(
          collection,
          { campaignId: 'c1', day: '2024-05-01' },
          { $inc: { clicks: 1 } },
          true,
        );
        await updateOne(
          collection,
          { campaignId: 'c1', day: '2024-05-01' },
          { $inc: { clicks: 1 } },
          true,
        );
        const stored = await everything(collection);
        expect(stored).toEqual([
          { _id: expect.any(String), campaignId: 'c1', day: '2024-05-01', clicks: 2 },
        ]);
      });

      it('takes the _id from $setOnInsert', async () => {
        const collection = unique('daily');
        await updateOne(
          collection,
          { campaignId: 'c1' },
          { $setOnInsert: { _id: 'x1' }, $inc: { n: 1 } },
          true,
        );
        expect(await everything(collection)).toEqual([{ _id: 'x1', campaignId: 'c1', n: 1 }]);
      });

      it('inserts nothing without upsert when nothing matches', async () => {
        const collection = unique('daily');
        await insert(collection, { _id: 'other' });
        await updateOne(collection, { _id: 'd1' }, { $inc: { clicks: 1 } });
        expect(await everything(collection)).toEqual([{ _id: 'other' }]);
      });

      it('refuses to insert an _id that exists but failed the rest of the filter', async () => {
        const collection = unique('contacts');
        await insert(collection, { _id: 'k1', status: 'B' });
        await expect(
          updateOne(collection, { _id: 'k1', status: 'A' }, { $set: { n: 1 } }, true),
        ).rejects.toThrow();
        expect(await everything(collection)).toEqual([{ _id: 'k1', status: 'B' }]);
      });
    });

    describe('updateOne, updateMany, replaceOne, deleteOne, deleteMany', () => {
      const seedCampaigns = async (collection: string) =>
        insert(
          collection,
          { _id: 'c1', status: 'DRAFT' },
          { _id: 'c2', status: 'DRAFT' },
          { _id: 'c3', status: 'DRAFT' },
          { _id: 'c4', status: 'ACTIVE' },
        );

      it('updateOne changes one document among several matches', async () => {
        const collection = unique('campaigns');
        await seedCampaigns(collection);
        await updateOne(collection, { status: 'DRAFT' }, { $set: { status: 'ACTIVE' } });
        expect(await store.collection(collection).count({ status: 'DRAFT' })).toBe(2);
        expect(await store.collection(collection).count({ status: 'ACTIVE' })).toBe(2);
      });

      it('updateMany changes every match and nothing else', async () => {
        const collection = unique('campaigns');
        await seedCampaigns(collection);
        await store.commit({
          operations: [
            {
              kind: 'updateMany',
              collection,
              filter: { status: 'DRAFT' },
              update: { $set: { archived: true } },
            },
            {
              kind: 'updateMany',
              collection,
              filter: { status: 'PAUSED' },
              update: { $set: { archived: false } },
            },
          ],
        });
        expect(await everything(collection)).toEqual([
          { _id: 'c1', status: 'DRAFT', archived: true },
          { _id: 'c2', status: 'DRAFT', archived: true },
          { _id: 'c3', status: 'DRAFT', archived: true },
          { _id: 'c4', status: 'ACTIVE' },
        ]);
      });

      it('replaceOne inserts a missing document and replaces an existing one whole', async () => {
        const collection = unique('campaigns');
        await insert(collection, { _id: 'c1', name: 'Spring', budget: 10 });
        await insert(collection, { _id: 'c1', name: 'Summer' }, { _id: 'c2', name: 'Autumn' });
        expect(await everything(collection)).toEqual([
          { _id: 'c1', name: 'Summer' },
          { _id: 'c2', name: 'Autumn' },
        ]);
      });

      it('deleteOne removes the document with that id, and a missing id is no error', async () => {
        const collection = unique('campaigns');
        await seedCampaigns(collection);
        await store.commit({
          operations: [
            { kind: 'deleteOne', collection, id: 'c2' },
            { kind: 'deleteOne', collection, id: 'nope' },
          ],
        });
        expect((await everything(collection)).map((document) => document._id)).toEqual([
          'c1',
          'c3',
          'c4',
        ]);
      });

      it('deleteMany removes every match', async () => {
        const collection = unique('campaigns');
        await seedCampaigns(collection);
        await store.commit({
          operations: [{ kind: 'deleteMany', collection, filter: { status: 'DRAFT' } }],
        });
        expect(await everything(collection)).toEqual([{ _id: 'c4', status: 'ACTIVE' }]);
      });

      it('lets each operation of a batch see the ones before it', async () => {
        const collection = unique('campaigns');
        await insert(collection, { _id: 'gone' });
        await store.commit({
          operations: [
            replaceOne(collection, { _id: 'c1', n: 1 }),
            { kind: 'updateOne', collection, filter: { _id: 'c1' }, update: { $inc: { n: 1 } } },
            {
              kind: 'updateMany',
              collection,
              filter: { n: { $gte: 2 } },
              update: { $set: { two: true } },
            },
            { kind: 'deleteOne', collection, id: 'gone' },
            replaceOne(collection, { _id: 'gone', back: true }),
            { kind: 'deleteMany', collection, filter: { back: true } },
          ],
        });
        expect(await everything(collection)).toEqual([{ _id: 'c1', n: 2, two: true }]);
      });
    });

    describe('find and count', () => {
      const people: Document[] = [
        {
          _id: 'p1',
          name: 'Ada',
          age: 36,
          city: 'London',
          tags: ['vip', 'early'],
          address: { country: 'UK', zip: 'N1' },
          score: 10,
        },
        {
          _id: 'p2',
          name: 'Alan',
          age: 41,
          city: 'London',
          tags: ['early'],
          address: { country: 'UK' },
          score: 7,
        },
        {
          _id: 'p3',
          name: 'Grace',
          age: 85,
          city: 'New York',
          tags: [],
          address: { country: 'US' },
        },
        {
          _id: 'p4',
          name: 'Edsger',
          age: 72,
          city: 'Austin',
          tags: ['vip'],
          address: { country: 'US', zip: '78701' },
          score: 7,
        },
        {
          _id: 'p5',
          name: 'barbara',
          age: 41,
          city: 'Boston',
          address: { country: 'US' },
          score: 3,
        },
      ];
      let collection: string;

      beforeAll(async () => {
        collection = unique('people');
        await insert(collection, ...people);
      });

      const idsOf = async (filter: Filter, options: FindOptions = { sort: { _id: 1 } }) =>
        (await store.collection(collection).find(filter, options)).map((document) => document._id);

      const filters: [string, Filter, string[]][] = [
        ['everything', {}, ['p1', 'p2', 'p3', 'p4', 'p5']],
        ['an equality', { city: 'London' }, ['p1', 'p2']],
        ['$eq', { age: { $eq: 41 } }, ['p2', 'p5']],
        ['$ne, which also matches a missing field', { score: { $ne: 7 } }, ['p1', 'p3', 'p5']],
        ['$gt', { age: { $gt: 41 } }, ['p3', 'p4']],
        ['$gte', { age: { $gte: 41 } }, ['p2', 'p3', 'p4', 'p5']],
        ['$lt', { age: { $lt: 41 } }, ['p1']],
        ['$lte', { age: { $lte: 41 } }, ['p1', 'p2', 'p5']],
        ['a range on one field', { age: { $gt: 36, $lt: 80 } }, ['p2', 'p4', 'p5']],
        ['$in', { city: { $in: ['Austin', 'Boston'] } }, ['p4', 'p5']],
        ['$nin, which also matches a missing field', { score: { $nin: [7, 10] } }, ['p3', 'p5']],
        ['$exists: false', { score: { $exists: false } }, ['p3']],
        ['$exists: true on a nested field', { 'address.zip': { $exists: true } }, ['p1', 'p4']],
        [
          '$and',
          { $and: [{ age: { $gte: 40 } }, { city: { $ne: 'Boston' } }] },
          ['p2', 'p3', 'p4'],
        ],
        ['$or', { $or: [{ age: { $gt: 80 } }, { city: 'Austin' }] }, ['p3', 'p4']],
        ['$regex with options', { name: { $regex: '^a', $options: 'i' } }, ['p1', 'p2']],
        ['a regular expression', { name: /^[A-E]/ }, ['p1', 'p2', 'p4']],
        ['a nested field', { 'address.country': 'US' }, ['p3', 'p4', 'p5']],
        ['an array containing a value', { tags: 'vip' }, ['p1', 'p4']],
        ['an array containing one of several values', { tags: { $in: ['early'] } }, ['p1', 'p2']],
        ['an _id', { _id: 'p3' }, ['p3']],
        ['several _ids', { _id: { $in: ['p5', 'p1', 'nope'] } }, ['p1', 'p5']],
        ['an _id and another field', { _id: { $in: ['p1', 'p2'] }, age: 41 }, ['p2']],
        ['nothing', { city: 'Paris' }, []],
      ];

      it.each(filters)('finds by %s', async (_name, filter, expected) => {
        expect(await idsOf(filter)).toEqual(expected);
        expect(await store.collection(collection).count(filter)).toBe(expected.length);
      });

      it('finds one document, or null', async () => {
        expect(await store.collection(collection).findOne({ name: 'Grace' })).toEqual(people[2]);
        expect(await store.collection(collection).findOne({ name: 'Nobody' })).toBeNull();
      });

      it('sorts on two keys, each in its own direction', async () => {
        expect(await idsOf({}, { sort: { city: 1, age: -1 } })).toEqual([
          'p4',
          'p5',
          'p2',
          'p1',
          'p3',
        ]);
        expect(await idsOf({}, { sort: { age: 1, name: 1 } })).toEqual([
          'p1',
          'p2',
          'p5',
          'p4',
          'p3',
        ]);
      });

      it('sorts a missing field before any value', async () => {
        expect(await idsOf({}, { sort: { score: 1, _id: 1 } })).toEqual([
          'p3',
          'p5',
          'p2',
          'p4',
          'p1',
        ]);
      });

      it('skips and limits after sorting', async () => {
        expect(await idsOf({}, { sort: { age: 1, _id: 1 }, skip: 1, limit: 2 })).toEqual([
          'p2',
          'p5',
        ]);
        expect(await idsOf({ city: 'London' }, { sort: { _id: -1 }, limit: 1 })).toEqual(['p2']);
        expect(await idsOf({}, { sort: { _id: 1 }, skip: 4 })).toEqual(['p5']);
      });

      it('projects included fields, with _id unless excluded, and nested ones', async () => {
        const find = (projection: Record<string, 0 | 1>) =>
          store
            .collection(collection)
            .find({ _id: { $in: ['p1', 'p2'] } }, { sort: { _id: 1 }, projection });
        expect(await find({ name: 1 })).toEqual([
          { _id: 'p1', name: 'Ada' },
          { _id: 'p2', name: 'Alan' },
        ]);
        expect(await find({ _id: 0, name: 1, 'address.country': 1 })).toEqual([
          { name: 'Ada', address: { country: 'UK' } },
          { name: 'Alan', address: { country: 'UK' } },
        ]);
      });

      it('projects excluded fields away', async () => {
        expect(
          await store
            .collection(collection)
            .find({ _id: 'p2' }, { projection: { tags: 0, address: 0, score: 0 } }),
        ).toEqual([{ _id: 'p2', name: 'Alan', age: 41, city: 'London' }]);
      });

      it('counts every document without a filter, and none in an unknown collection', async () => {
        expect(await store.collection(collection).count()).toBe(5);
        expect(await store.collection(unique('empty')).count()).toBe(0);
        expect(await store.collection(unique('empty')).find({})).toEqual([]);
      });
    });

    describe('aggregate', () => {
      let collection: string;

      beforeAll(async () => {
        collection = unique('touches');
        await insert(
          collection,
          {
            _id: 'e1',
            campaign: 'c1',
            channel: 'email',
            amount: 10,
            tags: ['a', 'b'],
            day: '2024-01-01',
          },
          { _id: 'e2', campaign: 'c1', channel: 'ads', amount: 30, tags: ['b'], day: '2024-01-02' },
          { _id: 'e3', campaign: 'c2', channel: 'email', amount: 5, tags: [], day: '2024-01-01' },
          {
            _id: 'e4',
            campaign: 'c1',
            channel: 'email',
            amount: 20,
            tags: ['c'],
            day: '2024-01-03',
          },
          {
            _id: 'e5',
            campaign: 'c3',
            channel: 'social',
            amount: 0,
            tags: ['a'],
            day: '2024-01-02',
          },
        );
      });

      const aggregate = (pipeline: Record<string, unknown>[]) =>
        store.collection(collection).aggregate(pipeline);

      it('matches, sorts, groups with every accumulator, sorts the groups and projects them', async () => {
        const rows = await aggregate([
          { $match: { amount: { $gt: 0 } } },
          { $sort: { day: 1, _id: 1 } },
          {
            $group: {
              _id: '$campaign',
              total: { $sum: '$amount' },
              touches: { $sum: 1 },
              average: { $avg: '$amount' },
              smallest: { $min: '$amount' },
              largest: { $max: '$amount' },
              days: { $push: '$day' },
              channels: { $addToSet: '$channel' },
              firstDay: { $first: '$day' },
              lastDay: { $last: '$day' },
            },
          },
          { $sort: { _id: 1 } },
          {
            $project: {
              _id: 0,
              campaign: '$_id',
              total: 1,
              touches: 1,
              average: 1,
              smallest: 1,
              largest: 1,
              days: 1,
              channels: 1,
              firstDay: 1,
              lastDay: 1,
            },
          },
        ]);
        // $addToSet keeps no order.
        const withSortedChannels = rows.map((row) => ({
          ...row,
          channels: [...(row.channels as string[])].sort(),
        }));
        expect(withSortedChannels).toEqual([
          {
            campaign: 'c1',
            total: 60,
            touches: 3,
            average: 20,
            smallest: 10,
            largest: 30,
            days: ['2024-01-01', '2024-01-02', '2024-01-03'],
            channels: ['ads', 'email'],
            firstDay: '2024-01-01',
            lastDay: '2024-01-03',
          },
          {
            campaign: 'c2',
            total: 5,
            touches: 1,
            average: 5,
            smallest: 5,
            largest: 5,
            days: ['2024-01-01'],
            channels: ['email'],
            firstDay: '2024-01-01',
            lastDay: '2024-01-01',
          },
        ]);
      });

      it('unwinds arrays, then skips and limits sorted groups', async () => {
        const rows = await aggregate([
          { $unwind: '$tags' },
          { $group: { _id: '$tags', touches: { $sum: 1 } } },
          { $sort: { touches: -1, _id: 1 } },
          { $skip: 1 },
          { $limit: 2 },
        ]);
        expect(rows).toEqual([
          { _id: 'b', touches: 2 },
          { _id: 'c', touches: 1 },
        ]);
      });

      it('counts with $count, and yields no row when nothing is counted', async () => {
        expect(await aggregate([{ $match: { channel: 'email' } }, { $count: 'emails' }])).toEqual([
          { emails: 3 },
        ]);
        expect(await aggregate([{ $match: { channel: 'fax' } }, { $count: 'faxes' }])).toEqual([]);
      });

      it('groups everything under a null _id', async () => {
        expect(await aggregate([{ $group: { _id: null, total: { $sum: '$amount' } } }])).toEqual([
          { _id: null, total: 65 },
        ]);
      });
    });

    describe('atomic batches', () => {
      it('applies nothing, and keeps the checkpoint, when a later operation of the batch fails', async () => {
        const collection = unique('atomic');
        const checkpoint = unique('projection');
        await store.commit({
          operations: [replaceOne(collection, { _id: 'k1', n: 'text' })],
          checkpoint: { name: checkpoint, position: 5n },
        });

        const failing = store.commit({
          operations: [
            replaceOne(collection, { _id: 'k2', n: 1 }),
            { kind: 'updateOne', collection, filter: { _id: 'k2' }, update: { $inc: { n: 1 } } },
            { kind: 'deleteMany', collection, filter: {} },
            replaceOne(collection, { _id: 'k1', n: 'text' }),
            { kind: 'updateOne', collection, filter: { _id: 'k1' }, update: { $inc: { n: 1 } } },
          ],
          checkpoint: { name: checkpoint, position: 6n },
        });

        await expect(failing).rejects.toThrow();
        expect(await everything(collection)).toEqual([{ _id: 'k1', n: 'text' }]);
        expect((await store.getCheckpoint(checkpoint))?.position).toBe(5n);
      });
    });

    describe('checkpoints', () => {
      it('has no checkpoint for a name never written', async () => {
        expect(await store.getCheckpoint(unique('never'))).toBeNull();
      });

      it('stores the checkpoint with the batch, 64-bit positions exactly', async () => {
        const name = unique('projection');
        const position = 2n ** 62n + 7n;
        await store.commit({
          operations: [replaceOne(unique('docs'), { _id: 'a' })],
          checkpoint: { name, position },
        });
        const stored = await store.getCheckpoint(name);
        expect(stored).toEqual({ name, position, updatedAt: expect.any(Date) });
        expect(Number.isNaN(stored?.updatedAt.getTime())).toBe(false);
      });

      it('moves forward with each batch, also with a batch that has no operations', async () => {
        const name = unique('projection');
        await store.commit({ operations: [], checkpoint: { name, position: 1n } });
        await store.commit({ operations: [], checkpoint: { name, position: 10n } });
        expect((await store.getCheckpoint(name))?.position).toBe(10n);
      });

      it.each([
        ['at', 10n],
        ['behind', 9n],
      ])(
        'refuses a batch %s the stored checkpoint, applying nothing',
        async (_where, attempted) => {
          const name = unique('projection');
          const collection = unique('docs');
          await store.commit({
            operations: [replaceOne(collection, { _id: 'a', n: 1 })],
            checkpoint: { name, position: 10n },
          });

          const stale = store.commit({
            operations: [
              { kind: 'updateOne', collection, filter: { _id: 'a' }, update: { $inc: { n: 1 } } },
              replaceOne(collection, { _id: 'b' }),
            ],
            checkpoint: { name, position: attempted },
          });

          await expect(stale).rejects.toBeInstanceOf(StaleCheckpointError);
          await expect(stale).rejects.toMatchObject({
            checkpointName: name,
            stored: 10n,
            attempted,
          });
          expect(await everything(collection)).toEqual([{ _id: 'a', n: 1 }]);
          expect((await store.getCheckpoint(name))?.position).toBe(10n);
        },
      );

      it('refuses a batch read from a checkpoint that has moved on since (two workers, one checkpoint)', async () => {
        const name = unique('projection');
        const collection = unique('docs');
        // Both workers read events 1..3 after "no checkpoint"; the first commits 1..3.
        await store.commit({
          operations: [
            {
              kind: 'updateOne',
              collection,
              filter: { _id: 'n' },
              update: { $inc: { count: 3 } },
              upsert: true,
            },
          ],
          checkpoint: { name, position: 3n, after: -1n },
        });
        // The second read 1..5 from the same start: accepting it would count 1..3 twice.
        const overlapping = store.commit({
          operations: [
            {
              kind: 'updateOne',
              collection,
              filter: { _id: 'n' },
              update: { $inc: { count: 5 } },
              upsert: true,
            },
          ],
          checkpoint: { name, position: 5n, after: -1n },
        });
        await expect(overlapping).rejects.toBeInstanceOf(StaleCheckpointError);
        expect(await everything(collection)).toEqual([{ _id: 'n', count: 3 }]);
        // Read from the stored checkpoint, the rest goes through.
        await store.commit({
          operations: [
            { kind: 'updateOne', collection, filter: { _id: 'n' }, update: { $inc: { count: 2 } } },
          ],
          checkpoint: { name, position: 5n, after: 3n },
        });
        expect(await everything(collection)).toEqual([{ _id: 'n', count: 5 }]);
      });

      it('keeps checkpoints of different names apart, and a batch without one touches none', async () => {
        const first = unique('projection');
        const second = unique('projection');
        await store.commit({ operations: [], checkpoint: { name: first, position: 7n } });
        await store.commit({ operations: [], checkpoint: { name: second, position: 3n } });
        await store.commit({ operations: [replaceOne(unique('docs'), { _id: 'a' })] });
        expect((await store.getCheckpoint(first))?.position).toBe(7n);
        expect((await store.getCheckpoint(second))?.position).toBe(3n);
      });

      it('deletes a checkpoint, after which any position is accepted again', async () => {
        const name = unique('projection');
        await store.commit({ operations: [], checkpoint: { name, position: 50n } });
        await store.deleteCheckpoint(name);
        expect(await store.getCheckpoint(name)).toBeNull();
        await store.commit({ operations: [], checkpoint: { name, position: 1n } });
        expect((await store.getCheckpoint(name))?.position).toBe(1n);
      });
    });

    describe('documents handed out are copies', () => {
      it('does not let a caller change stored documents through what find, findOne or aggregate returned', async () => {
        const collection = unique('copies');
        await insert(collection, { _id: 'a', nested: { n: 1 }, list: [{ n: 1 }] });
        const expected = { _id: 'a', nested: { n: 1 }, list: [{ n: 1 }] };

        const [found] = await store.collection(collection).find({});
        (found.nested as { n: number }).n = 99;
        (found.list as unknown[]).push('extra');
        const one = await store.collection(collection).findOne({ _id: 'a' });
        (one?.list as { n: number }[])[0].n = 99;
        const [aggregated] = await store
          .collection(collection)
          .aggregate<Document>([{ $match: {} }]);
        (aggregated.nested as { n: number }).n = 99;

        expect(await byId(collection, 'a')).toEqual(expected);
      });

      it('does not let a caller change stored documents through what it committed', async () => {
        const collection = unique('copies');
        const document = { _id: 'a', nested: { n: 1 } };
        const pushed = { label: 'x' };
        await store.commit({
          operations: [
            replaceOne(collection, document),
            {
              kind: 'updateOne',
              collection,
              filter: { _id: 'a' },
              update: { $push: { items: pushed } },
            },
          ],
        });
        document.nested.n = 99;
        pushed.label = 'changed';
        expect(await byId(collection, 'a')).toEqual({
          _id: 'a',
          nested: { n: 1 },
          items: [{ label: 'x' }],
        });
      });
    });

    describe('collections', () => {
      it('lists the collections written to, and forgets a dropped one with its documents', async () => {
        const kept = unique('kept');
        const dropped = unique('dropped');
        await store.commit({
          operations: [replaceOne(kept, { _id: 'a' }), replaceOne(dropped, { _id: 'b' })],
        });
        expect(await store.listCollections()).toEqual(expect.arrayContaining([kept, dropped]));

        await store.dropCollection(dropped);

        const names = await store.listCollections();
        expect(names).toContain(kept);
        expect(names).not.toContain(dropped);
        expect(await store.collection(dropped).count()).toBe(0);
        expect(await everything(kept)).toEqual([{ _id: 'a' }]);
      });

      it('answers a ping', async () => {
        expect(await store.ping()).toBe(true);
      });
    });

    describe('leases and fencing', () => {
      const running = 60_000;

      it('gives a free lease to the first holder, to no one else while it runs, and lets the holder extend it under the same token', async () => {
        const name = unique('lease');

        const first = await store.acquireLease(name, 'worker-a', running);
        const other = await store.acquireLease(name, 'worker-b', running);
        const again = await store.acquireLease(name, 'worker-a', running);

        expect(first).toEqual({
          name,
          holder: 'worker-a',
          token: expect.any(Number),
          expiresAt: expect.any(Date),
          report: null,
        });
        expect(first?.token).toBeGreaterThanOrEqual(1);
        expect(other).toBeNull();
        expect(again?.token).toBe(first?.token);
        expect(again?.expiresAt.getTime()).toBeGreaterThanOrEqual(first?.expiresAt.getTime() ?? 0);
      });

      it('hands an expired lease to another holder under a larger token, after which the old holder cannot renew it', async () => {
        const name = unique('lease');
        const first = await store.acquireLease(name, 'worker-a', 50);

        const taken = await eventually(
          () => store.acquireLease(name, 'worker-b', running),
          'worker-b takes the expired lease',
        );

        expect(taken.holder).toBe('worker-b');
        expect(taken.token).toBeGreaterThan(first?.token ?? Infinity);
        expect(await store.renewLease(name, 'worker-a', first?.token ?? 0, running)).toBe(false);
        expect(await store.acquireLease(name, 'worker-a', running)).toBeNull();
      });

      it('lets another holder take a released lease at once, under a larger token', async () => {
        const name = unique('lease');
        const first = await store.acquireLease(name, 'worker-a', running);

        await store.releaseLease(name, 'worker-a', first?.token ?? 0);
        const taken = await store.acquireLease(name, 'worker-b', running);

        expect(taken?.holder).toBe('worker-b');
        expect(taken?.token).toBeGreaterThan(first?.token ?? Infinity);
      });

      it('commits a batch fenced with the current token, and refuses one fenced with an old token, changing nothing', async () => {
        const name = unique('lease');
        const collection = unique('fenced');
        const checkpoint = unique('projection');
        const first = await store.acquireLease(name, 'worker-a', running);
        const oldToken = first?.token ?? 0;
        await store.commit({
          operations: [replaceOne(collection, { _id: 'a', n: 1 })],
          checkpoint: { name: checkpoint, position: 1n },
          fence: { lease: name, token: oldToken },
        });
        await store.releaseLease(name, 'worker-a', oldToken);
        const taken = await store.acquireLease(name, 'worker-b', running);

        const fenced = store.commit({
          operations: [
            { kind: 'updateOne', collection, filter: { _id: 'a' }, update: { $inc: { n: 1 } } },
          ],
          checkpoint: { name: checkpoint, position: 2n, after: 1n },
          fence: { lease: name, token: oldToken },
          notice: { from: 'worker-a' },
        });

        await expect(fenced).rejects.toBeInstanceOf(FencedWriteError);
        await expect(fenced).rejects.toMatchObject({ lease: name, token: oldToken });
        expect(await everything(collection)).toEqual([{ _id: 'a', n: 1 }]);
        expect((await store.getCheckpoint(checkpoint))?.position).toBe(1n);

        await store.commit({
          operations: [
            { kind: 'updateOne', collection, filter: { _id: 'a' }, update: { $inc: { n: 10 } } },
          ],
          checkpoint: { name: checkpoint, position: 2n, after: 1n },
          fence: { lease: name, token: taken?.token ?? 0 },
        });
        expect(await everything(collection)).toEqual([{ _id: 'a', n: 11 }]);
        expect((await store.getCheckpoint(checkpoint))?.position).toBe(2n);
      });

      it('refuses a batch fenced by a lease never taken', async () => {
        const collection = unique('fenced');
        const fenced = store.commit({
          operations: [replaceOne(collection, { _id: 'a' })],
          fence: { lease: unique('lease'), token: 1 },
        });
        await expect(fenced).rejects.toBeInstanceOf(FencedWriteError);
        expect(await everything(collection)).toEqual([]);
      });

      it('lists every lease with what its holder last reported', async () => {
        const name = unique('lease');
        const first = await store.acquireLease(name, 'worker-a', running);
        const report = { state: 'running', position: '42', lastError: null };

        expect(await store.renewLease(name, 'worker-a', first?.token ?? 0, running, report)).toBe(
          true,
        );

        const listed = (await store.leases()).find((lease) => lease.name === name);
        expect(listed).toEqual({
          name,
          holder: 'worker-a',
          token: first?.token,
          expiresAt: expect.any(Date),
          report,
        });
        expect(listed?.expiresAt.getTime()).toBeGreaterThanOrEqual(
          first?.expiresAt.getTime() ?? Infinity,
        );
      });
    });

    (options.siblings === false ? describe.skip : describe)('follow', () => {
      let sibling: ReadStore;

      beforeAll(async () => {
        if (openSibling === undefined)
          throw new Error(`${adapterName}: the factory gives no openSibling`);
        sibling = await openSibling();
      });

      afterAll(async () => {
        await sibling?.close();
      });

      /**
       * Follows `follower` until stopped, keeping what it hears of this test's notices (tagged
       * with `tag`) and passing each to `onHeard`. A store may start listening a moment after
       * `follow` returns (MongoDB opens a change stream), so `writer` commits probes until one
       * is heard; probes are not kept.
       */
      async function listen(
        follower: ReadStore,
        writer: ReadStore,
        tag: string,
        onHeard: (notice: StoreNotice) => void = () => {},
      ) {
        const heard: StoreNotice[] = [];
        let probesHeard = 0;
        const stop = follower.follow((notice) => {
          if (notice.tag !== tag) return;
          if (notice.probe === true) {
            probesHeard += 1;
          } else {
            heard.push(notice);
            onHeard(notice);
          }
        });
        await eventually(async () => {
          if (probesHeard > 0) return true;
          await writer.commit({ operations: [], notice: { tag, probe: true } });
          return null;
        }, 'the follower hears a probe');
        return { heard, stop };
      }

      it("delivers another connection's notices in commit order", async () => {
        const tag = unique('notices');
        const collection = unique('followed');
        const follower = await listen(sibling, store, tag);

        for (let n = 1; n <= 5; n += 1) {
          await store.commit({
            // Every other batch carries only its notice.
            operations: n % 2 === 0 ? [] : [replaceOne(collection, { _id: `d${n}` })],
            notice: { tag, n },
          });
        }

        await eventually(() => follower.heard.length >= 5 || null, 'five notices arrive');
        follower.stop();
        expect(follower.heard).toEqual([1, 2, 3, 4, 5].map((n) => ({ tag, n })));
      });

      it('does not deliver a store its own notices', async () => {
        const tag = unique('notices');
        const follower = await listen(store, sibling, tag);

        await store.commit({ operations: [], notice: { tag, from: 'self' } });
        await sibling.commit({ operations: [], notice: { tag, from: 'sibling' } });

        // In commit order, a notice of its own would have come before the sibling's.
        await eventually(() => follower.heard.length > 0 || null, "the sibling's notice arrives");
        follower.stop();
        expect(follower.heard).toEqual([{ tag, from: 'sibling' }]);
      });

      it('delivers nothing more once stopped', async () => {
        const tag = unique('notices');
        const stopped = await listen(sibling, store, tag);
        const control = await listen(sibling, store, tag);

        stopped.stop();
        await store.commit({ operations: [], notice: { tag, n: 1 } });

        await eventually(() => control.heard.length > 0 || null, 'the control hears the notice');
        control.stop();
        expect(control.heard).toEqual([{ tag, n: 1 }]);
        expect(stopped.heard).toEqual([]);
      });

      it('lets a follower read what a batch wrote as soon as it hears the batch', async () => {
        const tag = unique('notices');
        const collection = unique('followed');
        await store.commit({ operations: [replaceOne(collection, { _id: 'a', n: 1 })] });
        // The sibling reads the document first, so a store that caches it holds the old copy.
        expect(await sibling.collection(collection).findOne({ _id: 'a' })).toEqual({
          _id: 'a',
          n: 1,
        });
        const readsOnHearing: Promise<Document | null>[] = [];
        const follower = await listen(sibling, store, tag, () => {
          readsOnHearing.push(sibling.collection(collection).findOne({ _id: 'a' }));
        });

        await store.commit({
          operations: [
            { kind: 'updateOne', collection, filter: { _id: 'a' }, update: { $inc: { n: 1 } } },
          ],
          notice: { tag, updated: 'a' },
        });

        await eventually(() => readsOnHearing.length > 0 || null, 'the follower hears the batch');
        follower.stop();
        expect(await readsOnHearing[0]).toEqual({ _id: 'a', n: 2 });
      });
    });
  });
}

/**
 * Polls `attempt` every 10 ms until it answers something other than null, for at most five
 * seconds: for what a store does in its own time (a lease running out, a notice arriving).
 */
async function eventually<T>(
  attempt: () => T | null | Promise<T | null>,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const answer = await attempt();
    if (answer !== null) return answer;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function replaceOne(collection: string, document: Document): WriteOperation {
  return { kind: 'replaceOne', collection, document };
}

/** Names no other test, run or suite sharing the database will use. */
function uniqueNames(): (base: string) => string {
  const run = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  return (base) => `${base}_${run}_${++counter}`;
}
