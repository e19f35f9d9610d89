/**
 * The experiment winner applier as a running process manager: the pure policy from
 * src/projections/experiments, its ApplyCampaignContent commands sent through the normal
 * campaign command path.
 */
import type { CampaignCommand } from '../../domain/campaign';
import type { ReadStore, WriteBatch } from '../../projections/read-store';
import {
  winnerApplier,
  type AppliedWinner,
  type WinnerApplierCommand,
} from '../../projections/experiments/winner-applier';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import { ProcessManagerRunner } from './process-manager-runner';

export function createWinnerApplierRunner(deps: {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly executeCampaignCommand: (command: CampaignCommand) => Promise<unknown>;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly fence?: () => WriteBatch['fence'];
}): ProcessManagerRunner<AppliedWinner, WinnerApplierCommand> {
  return new ProcessManagerRunner({
    processManager: winnerApplier,
    eventStore: deps.eventStore,
    readStore: deps.readStore,
    batchSize: deps.batchSize,
    logger: deps.logger,
    ...(deps.fence && { fence: deps.fence }),
    execute: (command, metadata) => deps.executeCampaignCommand({ ...command, metadata }),
    onCommitted: (batch) => {
      for (const { command } of batch.executed) {
        deps.logger.info(
          { processManager: batch.processManager, campaignId: command.data.campaignId },
          "experiment winner applied to the campaign's content",
        );
      }
    },
  });
}
