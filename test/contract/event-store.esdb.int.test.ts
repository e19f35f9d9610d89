/**
 * The event store contract against a real EventStoreDB / KurrentDB node, e.g.
 * TOUCHLINE_TEST_ESDB_URL='esdb://localhost:2113?tls=false'. Every test names its own
 * streams and event types, so the node may be shared and need not be empty.
 */
import { EsdbEventStore } from '../../src/infra/event-store/esdb-event-store';
import { describeEventStoreContract } from './event-store.contract';

const connectionString = process.env.TOUCHLINE_TEST_ESDB_URL;

if (connectionString) {
  describeEventStoreContract('EventStoreDB', async () => ({
    store: EsdbEventStore.connect({
      connectionString,
      resubscribe: { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 5 },
    }),
  }));
} else {
  process.stdout.write(
    'EventStoreDB contract suite skipped: set TOUCHLINE_TEST_ESDB_URL (e.g. esdb://localhost:2113?tls=false) to run it.\n',
  );
  describe.skip('EventStore contract: EventStoreDB (TOUCHLINE_TEST_ESDB_URL is not set)', () => {
    it('runs only against a live EventStoreDB node', () => undefined);
  });
}
