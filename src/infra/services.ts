/**
 * Builds the services the GraphQL context declares from the stores, the command handler
 * and the projection manager.
 */
import { randomUUID } from 'node:crypto';
import { campaignDecider, campaignStreamId } from '../domain/campaign';
import type { Services } from '../graphql/context';
import type { DocumentChange } from '../projections/projection';
import type { Document, ReadStore } from '../projections/read-store';
import { CommandHandler } from './commands/command-handler';
import type { TrackingIngestor } from './ingestion/tracking-service';
import type { Config } from './config';
import type { EventStore } from './event-store/event-store';
import type { Logger } from './logger';
import type { ChangeFeed } from './projections/change-feed';
import type { ProjectionManager } from './projections/projection-manager';
import { AsyncQueue } from './shared/async-queue';

export interface ServiceDependencies {
  readonly config: Config;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly manager: ProjectionManager;
  readonly changeFeed: ChangeFeed;
  readonly tracking: TrackingIngestor;
  readonly logger: Logger;
}

export function createServices(deps: ServiceDependencies): Services {
  const { config, readStore, manager, changeFeed, logger } = deps;
  const commands = new CommandHandler(deps.eventStore);
  return {
    campaigns: {
      async execute(command, { expectedRevision }) {
        const streamId = campaignStreamId(command.metadata.workspaceId, command.data.campaignId);
        const result = await commands.handle(campaignDecider, streamId, command, {
          expectedRevision,
        });
        return { revision: result.revision, position: result.position, replayed: result.replayed };
      },
      async load(workspaceId, campaignId) {
        const { state } = await commands.load(
          campaignDecider,
          campaignStreamId(workspaceId, campaignId),
        );
        return state;
      },
    },
    tracking: deps.tracking,
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
        const queue: AsyncQueue<{ projection: string; position: bigint }> = new AsyncQueue(() =>
          stop(),
        );
        const stop = changeFeed.listen((batch) =>
          queue.push({ projection: batch.projection, position: batch.position }),
        );
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
