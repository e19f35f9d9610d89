/** Every process manager, started and stopped together where the projections run. */
import type { CampaignCommand } from '../../domain/campaign';
import type { ReadStore } from '../../projections/read-store';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import { createBudgetGuardRunner } from './budget-guard';
import { createWinnerApplierRunner } from './winner-applier';

export interface ProcessManagers {
  start(): void;
  /** Each stops after the batch in progress is committed. */
  stop(): Promise<void>;
}

export function createProcessManagers(deps: {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  /** Runs a campaign command as a client's would run. */
  readonly executeCampaignCommand: (command: CampaignCommand) => Promise<unknown>;
  readonly batchSize: number;
  readonly logger: Logger;
}): ProcessManagers {
  const runners = [createBudgetGuardRunner(deps), createWinnerApplierRunner(deps)];
  return {
    start: () => runners.forEach((runner) => runner.start()),
    stop: async () => {
      await Promise.all(runners.map((runner) => runner.stop()));
    },
  };
}
