/**
 * The auto-stop policy at work: after each batch that moved a running experiment's
 * statistics, its results are computed and, when the policy says so (experiment-results.ts,
 * `autoStopDecision`), the experiment is stopped through the normal command path with the
 * policy's winner and reason. The command id is derived from the experiment and its phase, so
 * a decision taken twice (a restart, two batches in a row) stops it once.
 */
import type { ExperimentCommand } from '../../domain/experiment';
import { autoStopDecision, phaseResults } from '../../projections/experiments/experiment-results';
import {
  experimentDocumentId,
  experimentsCollection,
  experimentsProjectionName,
  experimentStatsCollection,
  statsDocumentId,
  statsDocumentOwner,
  type ExperimentDocument,
  type ExperimentStatsDocument,
} from '../../projections/experiments/experiments.projection';
import type { ReadStore } from '../../projections/read-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from '../projections/change-feed';
import type { ProjectionManager } from '../projections/projection-manager';

export interface AutoStopOptions {
  readonly manager: ProjectionManager;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
  readonly execute: (command: ExperimentCommand) => Promise<unknown>;
  readonly clock?: () => Date;
}

/** Starts watching; returns the function that stops it. */
export async function watchAutoStop(options: AutoStopOptions): Promise<() => void> {
  const { manager, readStore, changeFeed, logger } = options;
  const clock = options.clock ?? (() => new Date());
  let queue: Promise<void> = Promise.resolve();

  const consider = async (workspaceId: string, key: string): Promise<void> => {
    const experiment = await readStore
      .collection<ExperimentDocument>(manager.collection(experimentsCollection))
      .findOne({ _id: experimentDocumentId(workspaceId, key) });
    if (experiment === null || experiment.status !== 'RUNNING') return;
    if (!experiment.definition.autoStop) return;
    const phase = experiment.phases.at(-1);
    if (phase === undefined) return;
    const stats = await readStore
      .collection<ExperimentStatsDocument>(manager.collection(experimentStatsCollection))
      .findOne({ _id: statsDocumentId(workspaceId, key, phase.phase) });
    const decision = autoStopDecision(
      experiment.definition,
      phaseResults(experiment.definition, phase, stats),
    );
    if (decision === null) return;
    try {
      await options.execute({
        type: 'StopExperiment',
        data: {
          experimentId: key,
          winner: decision.winner,
          note: 'stopped by the auto-stop policy',
          decidedBy: 'auto',
          reason: decision.reason,
        },
        metadata: {
          workspaceId,
          commandId: `auto-stop:${key}:${phase.phase}`,
          now: clock(),
          actor: 'auto-stop',
        },
      });
      logger.info(
        { experiment: key, winner: decision.winner },
        'experiment stopped by its auto-stop policy',
      );
    } catch (error) {
      // Stopped meanwhile by hand: nothing to do.
      logger.warn({ err: error, experiment: key }, 'auto-stop could not stop the experiment');
    }
  };

  const stop = changeFeed.listen((batch) => {
    if (batch.projection !== experimentsProjectionName) return;
    const touched = new Map<string, { workspaceId: string; key: string }>();
    for (const change of batch.changes) {
      if (change.collection !== experimentStatsCollection) continue;
      const owner = statsDocumentOwner(change.id);
      if (owner) touched.set(experimentDocumentId(owner.workspaceId, owner.key), owner);
    }
    for (const { workspaceId, key } of touched.values()) {
      queue = queue
        .then(() => consider(workspaceId, key))
        .catch((error: unknown) =>
          logger.error({ err: error, experiment: key }, 'auto-stop failed'),
        );
    }
  });

  // Decisions that were due when the server stopped.
  const running = await readStore
    .collection<ExperimentDocument>(manager.collection(experimentsCollection))
    .find({ status: 'RUNNING' });
  for (const experiment of running) await consider(experiment.workspaceId, experiment.key);
  return stop;
}
