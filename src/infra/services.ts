/**
 * Builds the services the GraphQL context declares from the stores, the command handler
 * and the projection manager.
 */
import { randomUUID } from 'node:crypto';
import { attributionSettingsDecider, attributionSettingsStreamId } from '../domain/attribution';
import { campaignDecider, campaignStreamId } from '../domain/campaign';
import { experimentDecider, experimentStreamId } from '../domain/experiment';
import { funnelDecider, funnelStreamId } from '../domain/funnel';
import { segmentDecider, segmentStreamId } from '../domain/segment';
import type { CommandMetadata, Decider, DomainEvent, RecordedEvent } from '../domain/shared/events';
import { currentSchemaVersion } from '../domain/event-schemas';
import { contactStreamId } from '../domain/tracking/tracking.events';
import type {
  AttributionReadModel,
  CommittedBatch,
  ContactHistory,
  EventLog,
  PastReadModels,
  Services,
  TimeTravel,
} from '../graphql/context';
import { matchesEventQuery, storeFilter } from '../graphql/history/event-query';
import {
  AttributionReports,
  type AttributionCollection,
} from '../projections/attribution/attribution-query';
import { attributionWorkspacesCollection } from '../projections/attribution/attribution.projection';
import type { DocumentChange } from '../projections/projection';
import type { Document, ReadStore } from '../projections/read-store';
import { analyseAttribution } from './analyses/attribution-analysis';
import { analyseFunnel } from './analyses/funnel-analysis';
import { replayProjections } from './history/replay';
import type { AccessControl } from './access/access-control';
import { CommandHandler, deterministicEventId } from './commands/command-handler';
import { ExpectedRevision, WrongExpectedRevisionError } from './event-store/event-store';
import type { TrackingIngestor } from './ingestion/tracking-service';
import type { Config } from './config';
import type { EventStore } from './event-store/event-store';
import type { Logger } from './logger';
import type { ChangeFeed } from './projections/change-feed';
import type { Projectors } from './projections/projection-manager';
import { AsyncQueue } from './shared/async-queue';
import { RecentAnswers } from './shared/recent-answers';

export interface ServiceDependencies {
  readonly config: Config;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly manager: Projectors;
  readonly changeFeed: ChangeFeed;
  readonly tracking: TrackingIngestor;
  readonly accessControl: AccessControl;
  readonly logger: Logger;
}

/**
 * The most events a contact history reads from one identity's stream: the newest 10,000
 * (a person who did more has their latest 10,000 calls per identity shown).
 */
export const maxContactEventsPerIdentity = 10_000;

/** Events read from the log per round trip while a page of `events` is looked for. */
export const eventLogReadPage = 1_000;
/**
 * The most events one `events` page reads before it answers with what it found: a filter
 * that matches rarely cannot make a request scan the whole log.
 */
export const maxEventsScannedPerPage = 100_000;
/** The most events `stream` returns: the first 10,000 of the stream. */
export const maxStreamEvents = 10_000;

export function createServices(deps: ServiceDependencies): Services {
  const { config, readStore, manager, changeFeed, logger } = deps;
  const commands = new CommandHandler(deps.eventStore);
  // Logical names are mapped on every read, so a rebuilt generation is read once it serves.
  const attributionCollection: AttributionCollection = (logical) =>
    readStore.collection(manager.collection(logical));
  return {
    access: {
      workspace: (workspaceId) => deps.accessControl.freshWorkspace(workspaceId),
      issueKey: (metadata, key, options) => deps.accessControl.issueKey(metadata, key, options),
      revokeKey: (metadata, keyId, options) =>
        deps.accessControl.revokeKey(metadata, keyId, options),
    },
    campaigns: aggregate(commands, campaignDecider, campaignStreamId, (c) => c.data.campaignId),
    funnels: aggregate(commands, funnelDecider, funnelStreamId, (c) => c.data.funnelId),
    segments: aggregate(commands, segmentDecider, segmentStreamId, (c) => c.data.segmentId),
    experiments: {
      ...aggregate(commands, experimentDecider, experimentStreamId, (c) => c.data.experimentId),
      async recordExposure(workspaceId, exposure) {
        // One stream per contact and phase, created once: a repeat finds it and answers
        // with the first exposure's position, in one read, on either store.
        const { experimentKey, phase, contactId } = exposure;
        const streamId = `exposure-${workspaceId}:${experimentKey}:${phase}:${contactId}`;
        try {
          const result = await deps.eventStore.append(
            streamId,
            [
              {
                eventId: deterministicEventId(`exposure|${streamId}`),
                type: 'ExperimentExposed',
                data: exposure,
                metadata: { workspaceId, schemaVersion: currentSchemaVersion('ExperimentExposed') },
              },
            ],
            ExpectedRevision.noStream,
          );
          return result.position;
        } catch (error) {
          if (!(error instanceof WrongExpectedRevisionError)) throw error;
          const [first] = await deps.eventStore.readStream(streamId, { maxCount: 1 });
          if (first === undefined) throw error;
          return first.position;
        }
      },
    },
    // One settings stream per workspace: the stream is named by the workspace alone.
    attributionSettings: aggregate(
      commands,
      attributionSettingsDecider,
      attributionSettingsStreamId,
      (c) => c.metadata.workspaceId,
    ),
    analyses: {
      funnel: (workspaceId, definition, range) =>
        analyseFunnel(deps.eventStore, workspaceId, definition, range, {
          onProgress: letRequestsIn,
        }),
      attribution: recomputedAttribution(deps.eventStore),
    },
    attribution: {
      collection: attributionCollection,
      reports: new AttributionReports(attributionCollection, () =>
        manager.collection(attributionWorkspacesCollection),
      ),
    },
    tracking: deps.tracking,
    timeTravel: timeTravel(deps.eventStore),
    history: contactHistory(deps.eventStore, maxContactEventsPerIdentity),
    log: eventLog(deps.eventStore),
    readModels: {
      collection: <T extends Document>(logical: string) =>
        readStore.collection<T>(manager.collection(logical)),
      waitForPosition: (position, projections) =>
        manager.waitForPosition(position, config.maxConsistencyWaitMs, projections),
    },
    live: {
      changes(collection, workspaceId) {
        const queue: AsyncQueue<DocumentChange> = new AsyncQueue(() => stop());
        const stop = changeFeed.listen((batch) => {
          for (const change of batch.changes) {
            if (change.collection === collection && change.workspaceId === workspaceId)
              queue.push(change);
          }
        });
        return queue;
      },
      commits() {
        const queue: AsyncQueue<CommittedBatch> = new AsyncQueue(() => stop());
        const stop = changeFeed.listen((batch) => queue.push(batch));
        return queue;
      },
    },
    projections: {
      status: () => manager.status(),
      rebuild: (name) => manager.rebuild(name),
      rebuildProgress: (name) => manager.rebuildProgress(name),
    },
    clock: () => new Date(),
    newId: randomUUID,
    exposeInternalErrors: config.environment === 'development',
    reportInternalError: (error) =>
      logger.error({ err: error }, 'internal error while resolving a request'),
  };
}

/** Commands and state of one kind of aggregate, whose stream is named by workspace and id. */
function aggregate<Command extends { metadata: CommandMetadata }, Event extends DomainEvent, State>(
  commands: CommandHandler,
  decider: Decider<Command, Event, State>,
  streamOf: (workspaceId: string, id: string) => string,
  idOf: (command: Command) => string,
) {
  return {
    async execute(command: Command, { expectedRevision }: { expectedRevision?: bigint }) {
      const streamId = streamOf(command.metadata.workspaceId, idOf(command));
      const result = await commands.handle(decider, streamId, command, { expectedRevision });
      return { revision: result.revision, position: result.position, replayed: result.replayed };
    },
    async load(workspaceId: string, id: string): Promise<State> {
      const { state } = await commands.load(decider, streamOf(workspaceId, id));
      return state;
    },
  };
}

export function contactHistory(
  eventStore: EventStore,
  maxEventsPerIdentity: number,
): ContactHistory {
  return {
    async contactEvents(workspaceId, identities) {
      const streams = await Promise.all(
        [...new Set(identities)].map((identity) =>
          readNewest(eventStore, contactStreamId(workspaceId, identity), maxEventsPerIdentity),
        ),
      );
      return streams.flat();
    },
  };
}

/**
 * The log for analysts: pages of the whole log read with the store's own filter (types and
 * stream prefixes), every other condition matched here.
 */
export function eventLog(
  eventStore: EventStore,
  limits = { readPage: eventLogReadPage, maxScanned: maxEventsScannedPerPage },
): EventLog {
  return {
    async events(query, { after, first, until }) {
      const filter = storeFilter(query);
      const found: RecordedEvent[] = [];
      let last = after;
      let scanned = 0;
      for (;;) {
        const batch = await eventStore.readAll({ after: last, maxCount: limits.readPage, filter });
        for (const event of batch) {
          if (until !== undefined && event.position > until) {
            return { events: found, hasNextPage: false, endPosition: last ?? null };
          }
          scanned += 1;
          last = event.position;
          if (!matchesEventQuery(event, query)) continue;
          found.push(event);
          if (found.length > first) {
            const events = found.slice(0, first);
            return { events, hasNextPage: true, endPosition: events[first - 1]?.position ?? null };
          }
        }
        const exhausted = batch.length < limits.readPage;
        if (exhausted || scanned >= limits.maxScanned) {
          return { events: found, hasNextPage: !exhausted, endPosition: last ?? null };
        }
      }
    },
    stream: (streamId) => eventStore.readStream(streamId, { maxCount: maxStreamEvents }),
    headPosition: () => eventStore.headPosition(),
  };
}

/** The newest `max` events of a stream, in revision order. */
async function readNewest(
  eventStore: EventStore,
  streamId: string,
  max: number,
): Promise<RecordedEvent[]> {
  // Almost every stream is short: one read from the start returns all of it.
  const oldest = await eventStore.readStream(streamId, { maxCount: max });
  const known = oldest.at(-1)?.revision;
  if (oldest.length < max || known === undefined) return oldest;
  const last = await lastRevision(eventStore, streamId, known);
  if (last === known) return oldest;
  return eventStore.readStream(streamId, { fromRevision: last - BigInt(max) + 1n, maxCount: max });
}

/**
 * The last revision of a stream that has one at `known`, found with one-event reads
 * (the port reads forwards only): doubling steps past the end, then halving back to it.
 */
async function lastRevision(
  eventStore: EventStore,
  streamId: string,
  known: bigint,
): Promise<bigint> {
  const reaches = async (revision: bigint) =>
    (await eventStore.readStream(streamId, { fromRevision: revision, maxCount: 1 })).length > 0;
  let low = known;
  let step = 1n;
  while (await reaches(low + step)) {
    low += step;
    step *= 2n;
  }
  let high = low + step; // no event at or after it
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (await reaches(middle)) low = middle;
    else high = middle;
  }
  return low;
}

/**
 * Attribution under other settings, recomputed from the log; the last few answers are kept
 * by (workspace, settings, channel table, log head), so asking again while nothing was
 * appended, or asking for another model or range under the same settings, does not replay
 * the log again.
 */
function recomputedAttribution(
  eventStore: EventStore,
  kept = 2,
): Services['analyses']['attribution'] {
  const recent = new RecentAnswers<AttributionReadModel>(kept);
  return async (workspaceId, settings, { channelRules, asOf } = {}) => {
    const head =
      asOf === undefined ? await eventStore.headPosition() : await eventStore.positionAt(asOf);
    const key = JSON.stringify([
      workspaceId,
      settings.lookbackMs,
      settings.halfLifeMs,
      channelRules ?? null,
      head.toString(),
    ]);
    return recent.get(key, () =>
      analyseAttribution(eventStore, workspaceId, settings, {
        channelRules,
        until: head,
        onProgress: letRequestsIn,
      }),
    );
  };
}

/**
 * Read models as of past instants. A replay is kept by (projections, position), the last few
 * of them, so the questions an analyst asks about one instant (a series, then a breakdown, then
 * another model) replay the log once; a replay that failed is not kept.
 */
export function timeTravel(eventStore: EventStore, kept = 3): TimeTravel {
  const recent = new RecentAnswers<PastReadModels>(kept);
  return {
    async at(instant, projections) {
      const position = await eventStore.positionAt(instant);
      const names = [...new Set(projections)].sort();
      const key = JSON.stringify([names, position.toString()]);
      return recent.get(key, () => replayedAt(eventStore, names, position));
    },
  };
}

async function replayedAt(
  eventStore: EventStore,
  projections: readonly string[],
  position: bigint,
): Promise<PastReadModels> {
  const replayed = await replayProjections({
    eventStore,
    projections,
    until: position,
    onProgress: letRequestsIn,
  });
  const collection = <T extends Document>(logical: string) => replayed.collection<T>(logical);
  return {
    position,
    // The replay is the log up to the position itself: nothing to wait for.
    readModels: { collection, waitForPosition: () => Promise.resolve(true) },
    attribution: { collection, reports: new AttributionReports(collection) },
  };
}

/**
 * Awaited between the pages of an analysis over the log: requests get in between, as an
 * analysis over a long history takes seconds.
 */
function letRequestsIn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
