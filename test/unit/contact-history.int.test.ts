import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import { ExpectedRevision } from '../../src/infra/event-store/event-store';
import { SqliteEventStore } from '../../src/infra/event-store/sqlite-event-store';
import { contactHistory } from '../../src/infra/services';

const workspaceId = 'acme';

let eventStore: SqliteEventStore;

beforeEach(() => {
  eventStore = SqliteEventStore.open({ path: ':memory:' });
});

afterEach(async () => {
  await eventStore.close();
});

/** Appends `count` events to an identity's stream, named `<identity>-<revision>`. */
async function given(identity: string, count: number, workspace = workspaceId): Promise<void> {
  await eventStore.append(
    contactStreamId(workspace, identity),
    Array.from({ length: count }, (_, revision) => ({
      eventId: `${workspace}-${identity}-${revision}`,
      type: 'EventTracked',
      data: { messageId: `${identity}-${revision}` },
      metadata: { workspaceId: workspace, schemaVersion: 1 },
    })),
    ExpectedRevision.any,
  );
}

const messageIds = (events: readonly { data: object }[]) =>
  events.map((event) => (event.data as { messageId: string }).messageId);

describe('contact history from the log', () => {
  it('given several identities, then the events of each stream in revision order', async () => {
    await given('u1', 2);
    await given('a1', 1);
    await given('u1', 1, 'other-workspace');

    const events = await contactHistory(eventStore, 10).contactEvents(workspaceId, [
      'u1',
      'a1',
      'u1',
      'unknown',
    ]);

    expect(messageIds(events)).toEqual(['u1-0', 'u1-1', 'a1-0']);
  });

  it.each([5, 6, 7, 12, 33])(
    'given a stream of %i events over a bound of 5, then its newest 5',
    async (length) => {
      await given('u1', length);

      const events = await contactHistory(eventStore, 5).contactEvents(workspaceId, ['u1']);

      expect(events.map((event) => event.revision)).toEqual(
        [5, 4, 3, 2, 1].map((back) => BigInt(length - back)),
      );
    },
  );
});
