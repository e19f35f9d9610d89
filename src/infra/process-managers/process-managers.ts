/**
 * Every process manager, each run under its lease (`process-manager:<name>`) by whichever
 * projector worker holds it, so that exactly one runs it at a time.
 */
import type { CampaignCommand } from '../../domain/campaign';
import type { ReadStore, WriteBatch } from '../../projections/read-store';
import type { EventStore } from '../event-store/event-store';
import type { Logger } from '../logger';
import type { LeaseKeeper } from '../shared/lease-keeper';
import { createBudgetGuardRunner } from './budget-guard';
import type { ProcessManagerRunner } from './process-manager-runner';
import { createWinnerApplierRunner } from './winner-applier';

export interface ProcessManagers {
  /** Resolves once their leases were tried for (each runs where its lease was taken). */
  start(): Promise<void>;
}

export interface ProcessManagerDependencies {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  /** Runs a campaign command as a client's would run. */
  readonly executeCampaignCommand: (command: CampaignCommand) => Promise<unknown>;
  readonly batchSize: number;
  readonly logger: Logger;
  /** The worker's leases; stopping the keeper stops the process managers it runs. */
  readonly leases: LeaseKeeper;
}

type Runner = ProcessManagerRunner<unknown, unknown>;

export function createProcessManagers(deps: ProcessManagerDependencies): ProcessManagers {
  const kinds: readonly {
    readonly name: string;
    readonly create: (fence: () => WriteBatch['fence']) => Runner;
  }[] = [
    {
      name: 'budgetGuard',
      create: (fence) => createBudgetGuardRunner({ ...deps, fence }) as Runner,
    },
    {
      name: 'winnerApplier',
      create: (fence) => createWinnerApplierRunner({ ...deps, fence }) as Runner,
    },
  ];
  return {
    start: async () => {
      for (const { name, create } of kinds) {
        const job = `process-manager:${name}`;
        // A stopped runner cannot start again: each lease taken gets a fresh one.
        let runner: Runner | null = null;
        await deps.leases.add({
          name: job,
          start: async () => {
            runner = create(() => deps.leases.fence(job));
            runner.start();
          },
          stop: async () => {
            await runner?.stop();
            runner = null;
          },
          report: () => ({
            state: runner?.state ?? 'stopped',
            lastError: runner?.lastError ?? null,
            position: (runner?.position ?? -1n).toString(),
          }),
        });
      }
    },
  };
}
