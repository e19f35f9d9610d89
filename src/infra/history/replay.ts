/**
 * The read models as they were at a past position of the log: the live projections' own code
 * replayed over the log up to that position into a throw-away read store held in memory
 * (the embedded store without a file), so an answer "as of" an instant has no second
 * implementation. Used by the `asOf` queries and by `touchline replay --until`.
 *
 * A projection that pins inputs (the funnel definitions, the attribution settings) reads
 * them from the same throw-away store, replayed first to the same position: the definitions
 * and settings in force then, as the live generation serving at that instant had pinned.
 */
import type { Projection } from '../../projections/projection';
import type { Document, ReadCollection } from '../../projections/read-store';
import type { EventStore } from '../event-store/event-store';
import { projectBatch } from '../projections/batch-session';
import { projectionInputs, projectionsReading } from '../projections/catalog';
import { UnknownProjectionError } from '../projections/projection-manager';
import { EmbeddedReadStore } from '../read-store/embedded-read-store';

export interface ReplayProgress {
  readonly projection: string;
  /** Position of the last event applied by this projection. */
  readonly position: bigint;
  readonly until: bigint;
  /** Events applied so far, over every projection of the replay. */
  readonly eventsProcessed: number;
}

export interface ReplayedReadModels {
  /** The log position replayed up to (inclusive). */
  readonly position: bigint;
  /** Names of the projections replayed, inputs included, in the order they ran. */
  readonly projections: readonly string[];
  /** Logical names of the collections replayed. */
  readonly collections: readonly string[];
  /** Events applied, over every projection. */
  readonly eventsProcessed: number;
  collection<T extends Document>(logical: string): ReadCollection<T>;
  /** Every document of a logical collection, in `_id` order. */
  documents(logical: string): AsyncIterable<Document>;
  close(): Promise<void>;
}

export interface ReplayOptions {
  readonly eventStore: EventStore;
  /** Projection names; the projections they read as inputs are replayed too, first. */
  readonly projections: readonly string[];
  /** The last position applied (inclusive); `-1n` replays nothing. */
  readonly until: bigint;
  /** Events read from the log per batch. */
  readonly batchSize?: number;
  /** Called after each batch; awaited, so a server can let requests in between batches. */
  readonly onProgress?: (progress: ReplayProgress) => Promise<void> | void;
}

export async function replayProjections(options: ReplayOptions): Promise<ReplayedReadModels> {
  const { eventStore, until } = options;
  const batchSize = options.batchSize ?? 2_000;
  const readStore = EmbeddedReadStore.open({ path: ':memory:' });
  try {
    const chosen = withInputs(projectionsReading(readStore, identity), options.projections);
    let eventsProcessed = 0;
    for (const projection of chosen) {
      let after = -1n;
      while (after < until) {
        const page = await eventStore.readAll({
          after,
          maxCount: batchSize,
          filter: { eventTypes: projection.eventTypes },
        });
        const events = page.filter((event) => event.position <= until);
        if (events.length === 0) break;
        const { position } = await projectBatch(
          readStore,
          projection,
          events,
          { name: projection.name, after },
          identity,
        );
        after = position;
        eventsProcessed += events.length;
        await options.onProgress?.({
          projection: projection.name,
          position,
          until,
          eventsProcessed,
        });
        if (page.length < batchSize || events.length < page.length) break;
      }
    }
    const collections = chosen.flatMap((projection) => projection.collections);
    return {
      position: until,
      projections: chosen.map(({ name }) => name),
      collections,
      eventsProcessed,
      collection: <T extends Document>(logical: string) => readStore.collection<T>(logical),
      async *documents(logical) {
        yield* await readStore.collection(logical).find({}, { sort: { _id: 1 } });
      },
      close: () => readStore.close(),
    };
  } catch (error) {
    await readStore.close();
    throw error;
  }
}

/** The named projections and their inputs, in catalog order (inputs come first there). */
function withInputs(catalog: readonly Projection[], names: readonly string[]): Projection[] {
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    if (!catalog.some((projection) => projection.name === name)) {
      throw new UnknownProjectionError(name);
    }
    wanted.add(name);
    for (const input of projectionInputs[name] ?? []) add(input);
  };
  for (const name of names) add(name);
  return catalog.filter(({ name }) => wanted.has(name));
}

function identity(logical: string): string {
  return logical;
}
