/**
 * A projector worker: every projection and process manager, each run here while this worker
 * holds its lease. One process running everything has one (on a thread of its own with the
 * embedded stores); a scaled-out setup has one per projector process, and the projections are
 * spread over them.
 */
import { campaignDecider, campaignStreamId } from '../../domain/campaign';
import type { ReadStore } from '../../projections/read-store';
import { CommandHandler } from '../commands/command-handler';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import { createProcessManagers } from '../process-managers/process-managers';
import { LeaseKeeper } from '../shared/lease-keeper';
import { BatchScheduler } from './batch-scheduler';
import { createProjectionManager } from './catalog';
import type { ChangeFeed } from './change-feed';
import type { ProjectionManager } from './projection-manager';

export interface ProjectorOptions {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly leaseTtlMs: number;
  /** Orders the batches (see BatchScheduler); omitted: one of its own. */
  readonly scheduler?: BatchScheduler;
}

export interface RunningProjector {
  readonly manager: ProjectionManager;
  readonly leases: LeaseKeeper;
  /** Orders the batches: tell it when tracking ingestion is busy (see IngestionPriority). */
  readonly scheduler: BatchScheduler;
  /** Stops every job at a checkpoint and lets the leases go, for another worker to take. */
  stop(): Promise<void>;
}

export async function startProjector(options: ProjectorOptions): Promise<RunningProjector> {
  const { eventStore, readStore, changeFeed, batchSize, logger } = options;
  const leases = new LeaseKeeper({ readStore, logger, ttlMs: options.leaseTtlMs });
  const scheduler = options.scheduler ?? new BatchScheduler();
  const manager = createProjectionManager({
    eventStore,
    readStore,
    changeFeed,
    batchSize,
    logger,
    leases,
    scheduler,
  });
  const commands = new CommandHandler(eventStore);
  const processManagers = createProcessManagers({
    eventStore,
    readStore,
    executeCampaignCommand: (command) =>
      commands.handle(
        campaignDecider,
        campaignStreamId(command.metadata.workspaceId, command.data.campaignId),
        command,
      ),
    batchSize,
    logger,
    leases,
  });
  await manager.start();
  await processManagers.start();
  await leases.start();
  logger.info({ worker: leases.workerId }, 'projector worker started');
  return {
    manager,
    leases,
    scheduler,
    stop: async () => {
      await leases.stop();
      await manager.stop();
    },
  };
}
