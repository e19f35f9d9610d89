/**
 * The read store contract against a real MongoDB (a replica set: the adapter commits in
 * transactions). Runs when TOUCHLINE_TEST_MONGO_URL is set, e.g.
 *   TOUCHLINE_TEST_MONGO_URL='mongodb://localhost:27017/?replicaSet=rs0' npx jest test/contract/read-store.mongo.int.test.ts
 * Each run gets its own database, dropped at the end; each store the contract opens gets its
 * own collection prefix inside it, so no test sees another's documents or checkpoints.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoReadStore } from '../../src/infra/read-store/mongo-read-store';
import { describeReadStoreContract } from './read-store.contract';

const mongoUrl = process.env.TOUCHLINE_TEST_MONGO_URL;

if (mongoUrl === undefined || mongoUrl === '') {
  // Straight to stdout: Jest hides console output of a file whose tests are all skipped.
  process.stdout.write(
    'MongoDB read store contract suite skipped: TOUCHLINE_TEST_MONGO_URL is not set.\n',
  );
  it.skip('MongoDB read store contract (set TOUCHLINE_TEST_MONGO_URL to run it)', () => {});
} else {
  const url = mongoUrl;
  const database = `touchline_contract_${randomBytes(6).toString('hex')}`;
  let storesOpened = 0;

  const nextPrefix = (): string => `s${++storesOpened}_`;

  afterAll(async () => {
    const client = new MongoClient(url);
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  describeReadStoreContract('MongoDB', async () => {
    const collectionPrefix = nextPrefix();
    const store = await MongoReadStore.connect({ url, database, collectionPrefix });
    return {
      store,
      cleanup: () => store.close(),
      // A client of its own, as another process would have.
      openSibling: () => MongoReadStore.connect({ url, database, collectionPrefix }),
    };
  });

  describe('MongoDB read store, beyond the contract', () => {
    let prefix: string;
    let store: MongoReadStore;
    let client: MongoClient;

    beforeEach(async () => {
      prefix = nextPrefix();
      store = await MongoReadStore.connect({ url, database, collectionPrefix: prefix });
      client = new MongoClient(url);
    });

    afterEach(async () => {
      await store.close();
      await client.close();
    });

    it('creates compound ascending indexes, and creating them again changes nothing', async () => {
      const indexes = [['workspaceId', 'status'], ['workspaceId']];
      await store.ensureIndexes('campaigns', indexes);
      await store.ensureIndexes('campaigns', indexes);

      const physicalName = `${prefix}campaigns`;
      const keys = (await client.db(database).collection(physicalName).listIndexes().toArray()).map(
        (index) => index.key as Record<string, number>,
      );
      expect(keys).toEqual([{ _id: 1 }, { workspaceId: 1, status: 1 }, { workspaceId: 1 }]);
    });

    it('gives a document upserted by a filter without _id a string id', async () => {
      await store.commit({
        operations: [
          {
            kind: 'updateOne',
            collection: 'daily',
            filter: { campaignId: 'c1', day: '2024-05-01' },
            update: { $inc: { clicks: 1 } },
            upsert: true,
          },
        ],
      });

      const stored = await store.collection('daily').findOne({ campaignId: 'c1' });
      expect(typeof stored?._id).toBe('string');
      expect(stored).toMatchObject({ campaignId: 'c1', day: '2024-05-01', clicks: 1 });
    });

    it('stores the checkpoint position as an Int64 and reads it back exactly', async () => {
      const position = 2n ** 62n + 7n;
      await store.commit({ operations: [], checkpoint: { name: 'campaigns', position } });

      const raw = await client
        .db(database)
        .collection<{ _id: string; position: unknown }>(`${prefix}_checkpoints`)
        .findOne({ _id: 'campaigns' }, { useBigInt64: true });
      expect(raw?.position).toBe(position);
      expect((await store.getCheckpoint('campaigns'))?.position).toBe(position);
    });

    it('keeps its checkpoints out of listCollections', async () => {
      await store.commit({
        operations: [{ kind: 'replaceOne', collection: 'contacts', document: { _id: 'k1' } }],
        checkpoint: { name: 'contacts', position: 1n },
      });
      expect(await store.listCollections()).toEqual(['contacts']);
    });
  });
}
