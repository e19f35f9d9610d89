import { BSON, MongoServerError } from 'mongodb';
import {
  CHECKPOINTS_COLLECTION,
  MAX_POSITION,
  ascendingIndexKeys,
  assertReadOnlyPipeline,
  assertReadModelCollectionName,
  assertSupportsTransactions,
  decodePosition,
  encodePosition,
  fixesIdByEquality,
  groupIntoBulkWrites,
  isNamespaceNotFound,
  readModelCollectionNames,
  toBulkOperation,
} from '../../src/infra/read-store/mongo-mapping';
import type { WriteOperation } from '../../src/projections/read-store';

/** Ids handed out in order, so a test can say which write got which id. */
function sequentialIds(): () => string {
  let next = 0;
  return () => `id-${++next}`;
}

function noIdExpected(): string {
  throw new Error('no id should be generated here');
}

/** Boundaries of every width the encoding could get wrong: 32 bits, 53 bits, 63 bits. */
const positions: bigint[] = [
  0n,
  1n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 32n + 1n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 62n,
  MAX_POSITION - 1n,
  MAX_POSITION,
];

describe('position encoding', () => {
  it('round-trips every position through BSON, however the driver hands Int64 back', () => {
    for (const position of positions) {
      const bytes = BSON.serialize({ position: encodePosition(position) });
      expect(decodePosition(BSON.deserialize(bytes, { useBigInt64: true }).position)).toBe(
        position,
      );
      expect(decodePosition(BSON.deserialize(bytes, { promoteLongs: false }).position)).toBe(
        position,
      );
      expect(decodePosition(BSON.deserialize(bytes).position)).toBe(position);
    }
  });

  it('is stored as a BSON Int64, which the server compares numerically', () => {
    const bytes = BSON.serialize({ position: encodePosition(2n ** 40n) });
    const int64Type = 0x12;
    // document length (4 bytes), then the first element's type byte
    expect(bytes[4]).toBe(int64Type);
  });

  it('keeps the order of positions', () => {
    for (const a of positions) {
      for (const b of positions) {
        const expected = a < b ? -1 : a > b ? 1 : 0;
        expect(encodePosition(a).compare(encodePosition(b))).toBe(expected);
      }
    }
  });

  it('refuses positions a signed 64-bit integer cannot hold instead of wrapping them', () => {
    expect(() => encodePosition(-1n)).toThrow(RangeError);
    expect(() => encodePosition(MAX_POSITION + 1n)).toThrow(RangeError);
  });

  it('refuses stored values that are not 64-bit integers', () => {
    expect(() => decodePosition('42')).toThrow(TypeError);
    expect(() => decodePosition(1.5)).toThrow(TypeError);
    expect(() => decodePosition(2 ** 60)).toThrow(TypeError);
    expect(() => decodePosition(null)).toThrow(TypeError);
  });
});

describe('toBulkOperation', () => {
  it('maps updateOne with its filter, operators and upsert flag', () => {
    const operation: WriteOperation = {
      kind: 'updateOne',
      collection: 'campaigns',
      filter: { _id: 'c1' },
      update: { $inc: { clicks: 1 }, $set: { lastClickAt: '2024-05-01T10:00:00.000Z' } },
      upsert: true,
    };
    expect(toBulkOperation(operation, noIdExpected)).toEqual({
      updateOne: {
        filter: { _id: 'c1' },
        update: { $inc: { clicks: 1 }, $set: { lastClickAt: '2024-05-01T10:00:00.000Z' } },
        upsert: true,
      },
    });
  });

  it('maps updateOne without upsert to upsert false', () => {
    const operation: WriteOperation = {
      kind: 'updateOne',
      collection: 'campaigns',
      filter: { status: 'ACTIVE' },
      update: { $set: { flagged: true } },
    };
    expect(toBulkOperation(operation, noIdExpected)).toEqual({
      updateOne: {
        filter: { status: 'ACTIVE' },
        update: { $set: { flagged: true } },
        upsert: false,
      },
    });
  });

  it('gives an upsert whose filter names no _id a string id on insert', () => {
    const update = { $inc: { count: 1 }, $setOnInsert: { createdAt: '2024-05-01T00:00:00.000Z' } };
    const operation: WriteOperation = {
      kind: 'updateOne',
      collection: 'daily',
      filter: { campaignId: 'c1', day: '2024-05-01' },
      update,
      upsert: true,
    };
    expect(toBulkOperation(operation, sequentialIds())).toEqual({
      updateOne: {
        filter: { campaignId: 'c1', day: '2024-05-01' },
        update: {
          $inc: { count: 1 },
          $setOnInsert: { createdAt: '2024-05-01T00:00:00.000Z', _id: 'id-1' },
        },
        upsert: true,
      },
    });
    // the caller's operation is left as it was
    expect(update).toEqual({
      $inc: { count: 1 },
      $setOnInsert: { createdAt: '2024-05-01T00:00:00.000Z' },
    });
  });

  it('keeps an id the upsert already sets on insert', () => {
    const operation: WriteOperation = {
      kind: 'updateOne',
      collection: 'daily',
      filter: { campaignId: 'c1' },
      update: { $setOnInsert: { _id: 'chosen' } },
      upsert: true,
    };
    expect(toBulkOperation(operation, noIdExpected)).toEqual({
      updateOne: {
        filter: { campaignId: 'c1' },
        update: { $setOnInsert: { _id: 'chosen' } },
        upsert: true,
      },
    });
  });

  it('maps updateMany', () => {
    const operation: WriteOperation = {
      kind: 'updateMany',
      collection: 'contacts',
      filter: { segmentIds: 's1' },
      update: { $pull: { segmentIds: 's1' } },
    };
    expect(toBulkOperation(operation, noIdExpected)).toEqual({
      updateMany: { filter: { segmentIds: 's1' }, update: { $pull: { segmentIds: 's1' } } },
    });
  });

  it('maps replaceOne to an upsert by _id, with the id taken out of the replacement', () => {
    const operation: WriteOperation = {
      kind: 'replaceOne',
      collection: 'campaigns',
      document: { _id: 'c1', name: 'Spring', launchedAt: '2024-03-01T09:00:00.000Z' },
    };
    expect(toBulkOperation(operation, noIdExpected)).toEqual({
      replaceOne: {
        filter: { _id: 'c1' },
        replacement: { name: 'Spring', launchedAt: '2024-03-01T09:00:00.000Z' },
        upsert: true,
      },
    });
  });

  it('maps deleteOne to a delete by _id, and deleteMany with its filter', () => {
    expect(
      toBulkOperation({ kind: 'deleteOne', collection: 'campaigns', id: 'c1' }, noIdExpected),
    ).toEqual({ deleteOne: { filter: { _id: 'c1' } } });
    expect(
      toBulkOperation(
        { kind: 'deleteMany', collection: 'campaigns', filter: { workspaceId: 'w1' } },
        noIdExpected,
      ),
    ).toEqual({ deleteMany: { filter: { workspaceId: 'w1' } } });
  });
});

describe('fixesIdByEquality', () => {
  it('sees an _id fixed by a value or $eq, at the top or inside $and', () => {
    expect(fixesIdByEquality({ _id: 'c1' })).toBe(true);
    expect(fixesIdByEquality({ _id: { $eq: 'c1' }, status: 'ACTIVE' })).toBe(true);
    expect(fixesIdByEquality({ $and: [{ status: 'ACTIVE' }, { _id: 'c1' }] })).toBe(true);
  });

  it('sees no fixed _id when the filter leaves the server to choose one', () => {
    expect(fixesIdByEquality({ campaignId: 'c1' })).toBe(false);
    expect(fixesIdByEquality({ _id: { $in: ['a', 'b'] } })).toBe(false);
    expect(fixesIdByEquality({ _id: /^c/ })).toBe(false);
    expect(fixesIdByEquality({ $or: [{ _id: 'a' }, { _id: 'b' }] })).toBe(false);
  });
});

describe('groupIntoBulkWrites', () => {
  const put = (collection: string, id: string): WriteOperation => ({
    kind: 'replaceOne',
    collection,
    document: { _id: id },
  });
  const remove = (collection: string, id: string): WriteOperation => ({
    kind: 'deleteOne',
    collection,
    id,
  });

  it('sends consecutive writes to one collection as one ordered group, in batch order', () => {
    const groups = groupIntoBulkWrites(
      [put('a', '1'), remove('a', '1'), put('a', '2')],
      noIdExpected,
    );
    expect(groups).toEqual([
      {
        collection: 'a',
        operations: [
          { replaceOne: { filter: { _id: '1' }, replacement: {}, upsert: true } },
          { deleteOne: { filter: { _id: '1' } } },
          { replaceOne: { filter: { _id: '2' }, replacement: {}, upsert: true } },
        ],
      },
    ]);
  });

  it('starts a new group at every switch of collection, never merging across a switch', () => {
    const groups = groupIntoBulkWrites(
      [put('a', '1'), put('b', '2'), put('b', '3'), remove('a', '1')],
      noIdExpected,
    );
    expect(groups.map((group) => [group.collection, group.operations.length])).toEqual([
      ['a', 1],
      ['b', 2],
      ['a', 1],
    ]);
    expect(groups[2]?.operations).toEqual([{ deleteOne: { filter: { _id: '1' } } }]);
  });

  it('returns no group for an empty batch', () => {
    expect(groupIntoBulkWrites([], noIdExpected)).toEqual([]);
  });

  it('generates upsert ids in batch order', () => {
    const upsert = (collection: string): WriteOperation => ({
      kind: 'updateOne',
      collection,
      filter: { key: collection },
      update: { $inc: { n: 1 } },
      upsert: true,
    });
    const groups = groupIntoBulkWrites([upsert('a'), upsert('b')], sequentialIds());
    expect(groups.flatMap((group) => group.operations)).toEqual([
      {
        updateOne: {
          filter: { key: 'a' },
          update: { $inc: { n: 1 }, $setOnInsert: { _id: 'id-1' } },
          upsert: true,
        },
      },
      {
        updateOne: {
          filter: { key: 'b' },
          update: { $inc: { n: 1 }, $setOnInsert: { _id: 'id-2' } },
          upsert: true,
        },
      },
    ]);
  });
});

describe('collection names', () => {
  it('refuses the checkpoint collection and the server namespaces', () => {
    expect(() => assertReadModelCollectionName(CHECKPOINTS_COLLECTION)).toThrow(RangeError);
    expect(() => assertReadModelCollectionName('system.views')).toThrow(RangeError);
    expect(() => assertReadModelCollectionName('')).toThrow(RangeError);
    expect(() => assertReadModelCollectionName('a$b')).toThrow(RangeError);
    expect(() => assertReadModelCollectionName('campaign_metrics.v2')).not.toThrow();
  });

  it('lists the read models under the prefix, without checkpoints, views or system collections', () => {
    const collections = [
      { name: 't1_campaigns', type: 'collection' },
      { name: 't1__checkpoints', type: 'collection' },
      { name: 't1_funnel_view', type: 'view' },
      { name: 't2_campaigns', type: 'collection' },
      { name: 't1_contacts', type: 'collection' },
      { name: 'system.views', type: 'collection' },
    ];
    expect(readModelCollectionNames(collections, 't1_')).toEqual(['campaigns', 'contacts']);
  });

  it('lists every read model when there is no prefix', () => {
    const collections = [
      { name: 'contacts' },
      { name: '_checkpoints' },
      { name: 'campaigns' },
      { name: 'system.profile' },
    ];
    expect(readModelCollectionNames(collections, '')).toEqual(['campaigns', 'contacts']);
  });
});

describe('ascendingIndexKeys', () => {
  it('builds a compound ascending key in the order of the fields', () => {
    const keys = ascendingIndexKeys(['workspaceId', 'status', 'launchedAt']);
    expect(keys).toEqual({ workspaceId: 1, status: 1, launchedAt: 1 });
    expect(Object.keys(keys)).toEqual(['workspaceId', 'status', 'launchedAt']);
  });

  it('refuses an index without fields', () => {
    expect(() => ascendingIndexKeys([])).toThrow(RangeError);
  });
});

describe('assertSupportsTransactions', () => {
  it('accepts a replica set member and a mongos', () => {
    expect(() =>
      assertSupportsTransactions({ isWritablePrimary: true, setName: 'rs0' }),
    ).not.toThrow();
    expect(() =>
      assertSupportsTransactions({ isWritablePrimary: true, msg: 'isdbgrid' }),
    ).not.toThrow();
  });

  it('refuses a standalone server with a message that says what to do', () => {
    expect(() => assertSupportsTransactions({ isWritablePrimary: true })).toThrow(/--replSet/);
  });
});

describe('isNamespaceNotFound', () => {
  it('recognises "ns not found" and nothing else', () => {
    const notFound = new MongoServerError({
      message: 'ns not found',
      code: 26,
      codeName: 'NamespaceNotFound',
    });
    const unauthorized = new MongoServerError({
      message: 'not authorized',
      code: 13,
      codeName: 'Unauthorized',
    });
    expect(isNamespaceNotFound(notFound)).toBe(true);
    expect(isNamespaceNotFound(unauthorized)).toBe(false);
    expect(isNamespaceNotFound(new Error('ns not found'))).toBe(false);
  });
});

describe('assertReadOnlyPipeline', () => {
  it('lets reading stages through and refuses stages that write', () => {
    expect(() =>
      assertReadOnlyPipeline([{ $match: { status: 'ACTIVE' } }, { $group: { _id: '$channel' } }]),
    ).not.toThrow();
    expect(() => assertReadOnlyPipeline([{ $match: {} }, { $out: 'copy' }])).toThrow(/\$out/);
    expect(() => assertReadOnlyPipeline([{ $merge: { into: 'copy' } }])).toThrow(/\$merge/);
  });
});
