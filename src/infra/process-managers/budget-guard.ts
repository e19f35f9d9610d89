/**
 * The budget guard as a running process manager: the pure policy from
 * src/projections/budget, run by the generic runner, its commands sent through the normal
 * campaign command path (the command handler, with its idempotency by command id).
 */
import type { CampaignCommand } from '../../domain/campaign';
import type { ReadStore, WriteBatch } from '../../projections/read-store';
import {
  budgetGuard,
  type BudgetGuardCommand,
  type BudgetWatch,
} from '../../projections/budget/budget-guard';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import {
  type CommittedReaction,
  type ProcessManager,
  ProcessManagerRunner,
} from './process-manager-runner';

export interface BudgetGuardDependencies {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  /** Runs a campaign command as a client's would run (e.g. `services.campaigns.execute`). */
  readonly executeCampaignCommand: (command: CampaignCommand) => Promise<unknown>;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly onCommitted?: (batch: CommittedReaction<BudgetGuardCommand>) => void;
  readonly clock?: () => Date;
  readonly retryDelayMs?: number;
  readonly fence?: () => WriteBatch['fence'];
}

export type BudgetGuardRunner = ProcessManagerRunner<BudgetWatch, BudgetGuardCommand>;

export function createBudgetGuardRunner(deps: BudgetGuardDependencies): BudgetGuardRunner {
  const processManager: ProcessManager<BudgetWatch, BudgetGuardCommand> = budgetGuard;
  return new ProcessManagerRunner({
    processManager,
    eventStore: deps.eventStore,
    readStore: deps.readStore,
    batchSize: deps.batchSize,
    logger: deps.logger,
    execute: (command, metadata) => deps.executeCampaignCommand({ ...command, metadata }),
    onCommitted: (batch) => {
      for (const { command } of batch.executed) {
        if (command.type === 'PauseCampaign') {
          deps.logger.info(
            { processManager: batch.processManager, campaignId: command.data.campaignId },
            'budget exhausted: pause issued',
          );
        }
      }
      deps.onCommitted?.(batch);
    },
    ...(deps.clock && { clock: deps.clock }),
    ...(deps.retryDelayMs !== undefined && { retryDelayMs: deps.retryDelayMs }),
    ...(deps.fence && { fence: deps.fence }),
  });
}
