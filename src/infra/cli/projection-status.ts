/**
 * How far each projection has got, told from the stores alone (the registry, the
 * checkpoints and the log), so that it can be asked from another process than the one that
 * runs the projections, e.g. `touchline status` beside a running server.
 */
import type { Projection, ReadDocument } from '../../projections/projection';
import type { Document, ReadStore } from '../../projections/read-store';
import type { EventFilter, EventStore } from '../event-store/event-store';
import {
  checkpointName,
  physicalName,
  PROJECTION_REGISTRY,
  projectionJob,
  type RegistryDocument,
} from '../projections/projection-manager';

/** At most this many events behind are counted; more is reported as "at least". */
export const MAX_COUNTED_BEHIND = 10_000;
const COUNT_PAGE = 1_000;

export type RegistryEntry = Pick<RegistryDocument, 'version' | 'generation' | 'collections'>;

/**
 * What the status says of one projection's state, as far as the stores tell:
 * `not started` (never run on these stores), `outdated` (its stored version is not the
 * code's: a server rebuilds it at start), `rebuilding` (a newer generation is being built),
 * `caught up`, `behind`.
 */
export type StoredProjectionState =
  | 'not started'
  | 'outdated'
  | 'rebuilding'
  | 'caught up'
  | 'behind';

export interface StoredProjectionStatus {
  readonly name: string;
  /** The version the serving generation was built with (the code's when not started). */
  readonly version: number;
  readonly generation: number;
  /** Position of the last event applied; `-1n` before the first. */
  readonly position: bigint;
  readonly headPosition: bigint;
  /** Events it reads between its position and the head (counted up to MAX_COUNTED_BEHIND). */
  readonly eventsBehind: number;
  /** False when there are more than MAX_COUNTED_BEHIND. */
  readonly eventsBehindExact: boolean;
  /** Age of the oldest event it has still to apply; 0 when caught up. */
  readonly lagMs: number;
  readonly state: StoredProjectionState;
  /** The newer generation being built, when one is. */
  readonly rebuild: { readonly generation: number; readonly position: bigint } | null;
  /** The projector worker that runs it (holds its lease now); null while none does. */
  readonly worker: string | null;
}

export async function readRegistry(readStore: ReadStore): Promise<Map<string, RegistryEntry>> {
  const documents = await readStore
    .collection<Document & Partial<RegistryEntry>>(PROJECTION_REGISTRY)
    .find({});
  const registry = new Map<string, RegistryEntry>();
  for (const { _id, version, generation, collections } of documents) {
    if (typeof version !== 'number' || typeof generation !== 'number') continue;
    registry.set(_id, { version, generation, ...(collections && { collections }) });
  }
  return registry;
}

/**
 * The physical collection serving each logical one, by the generation the registry names
 * for the projection that owns it (the first generation for one never run).
 */
export function servingCollection(
  registry: ReadonlyMap<string, RegistryEntry>,
  projections: readonly Projection[],
): (logical: string) => string {
  return (logical) => {
    const owner = projections.find((projection) => projection.collections.includes(logical));
    if (!owner) throw new Error(`no projection owns the collection ${logical}`);
    return physicalName(logical, registry.get(owner.name)?.generation ?? 1);
  };
}

export async function storedProjectionStatuses(options: {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly projections: readonly Projection[];
  readonly now: () => number;
}): Promise<StoredProjectionStatus[]> {
  const { eventStore, readStore, projections } = options;
  const registry = await readRegistry(readStore);
  const head = await eventStore.headPosition();
  const holders = new Map(
    (await readStore.leases())
      .filter((lease) => lease.expiresAt.getTime() > options.now())
      .map((lease) => [lease.name, lease.holder]),
  );
  const statuses: StoredProjectionStatus[] = [];
  for (const projection of projections) {
    const stored = registry.get(projection.name);
    const generation = stored?.generation ?? 1;
    const position = await checkpointPosition(readStore, projection.name, generation);
    const next = await readStore.getCheckpoint(checkpointName(projection.name, generation + 1));
    const filter = await currentFilter(readStore, projection, generation);
    const behind = await eventsAfter(eventStore, filter, position, head);
    const state: StoredProjectionState = !stored
      ? 'not started'
      : stored.version !== projection.version
        ? 'outdated'
        : next
          ? 'rebuilding'
          : behind.count === 0
            ? 'caught up'
            : 'behind';
    statuses.push({
      name: projection.name,
      version: stored?.version ?? projection.version,
      generation,
      position,
      headPosition: head,
      eventsBehind: behind.count,
      eventsBehindExact: behind.exact,
      lagMs: behind.oldest === null ? 0 : Math.max(0, options.now() - behind.oldest.getTime()),
      state,
      rebuild: next ? { generation: generation + 1, position: next.position } : null,
      worker: holders.get(projectionJob(projection.name)) ?? null,
    });
  }
  return statuses;
}

async function checkpointPosition(
  readStore: ReadStore,
  projection: string,
  generation: number,
): Promise<bigint> {
  return (await readStore.getCheckpoint(checkpointName(projection, generation)))?.position ?? -1n;
}

/** The events the serving generation reads now, as its runner narrows them (see eventTypesNow). */
async function currentFilter(
  readStore: ReadStore,
  projection: Projection,
  generation: number,
): Promise<EventFilter> {
  if (!projection.eventTypesNow) return { eventTypes: projection.eventTypes };
  const read: ReadDocument = <T extends Document>(collection: string, id: string) =>
    readStore.collection<T>(physicalName(collection, generation)).findOne({ _id: id });
  return { eventTypes: await projection.eventTypesNow(read) };
}

/** The events a filter lets through after `position` up to `head`: how many, the oldest's time. */
async function eventsAfter(
  eventStore: EventStore,
  filter: EventFilter,
  position: bigint,
  head: bigint,
): Promise<{ count: number; exact: boolean; oldest: Date | null }> {
  let count = 0;
  let oldest: Date | null = null;
  let after = position;
  while (count < MAX_COUNTED_BEHIND) {
    const page = await eventStore.readAll({
      ...(after >= 0n && { after }),
      maxCount: COUNT_PAGE,
      filter,
    });
    const events = page.filter((event) => event.position <= head);
    oldest ??= events[0]?.recordedAt ?? null;
    count += events.length;
    if (page.length < COUNT_PAGE || events.length < page.length) {
      return {
        count: Math.min(count, MAX_COUNTED_BEHIND),
        exact: count <= MAX_COUNTED_BEHIND,
        oldest,
      };
    }
    after = events[events.length - 1].position;
  }
  return { count: MAX_COUNTED_BEHIND, exact: false, oldest };
}
