/** Every projection the server runs, in one place (the projector thread loads it too). */
import { createAttributionProjection } from '../../projections/attribution/attribution.projection';
import { campaignMetricsProjection } from '../../projections/campaign-metrics/campaign-metrics.projection';
import { campaignsProjection } from '../../projections/campaigns/campaigns.projection';
import { contactsProjection } from '../../projections/contacts/contacts.projection';
import { experimentsProjection } from '../../projections/experiments/experiments.projection';
import { funnelDefinitionsProjection } from '../../projections/funnels/funnel-definitions.projection';
import {
  createFunnelResultsProjection,
  type FunnelDefinitionsSource,
} from '../../projections/funnels/funnels.projection';
import type { Projection } from '../../projections/projection';
import { experimentDecider, experimentStreamId } from '../../domain/experiment';
import { CommandHandler } from '../commands/command-handler';
import { watchAutoStop } from '../experiments/auto-stop';
import { funnelDefinitionsSource, watchFunnelDefinitions } from './funnels';
import { ProjectionManager, type ProjectionManagerOptions } from './projection-manager';

export interface ProjectionInputs {
  /** The active funnels' latest definitions, pinned by each new funnel-results generation. */
  readonly funnelDefinitions: FunnelDefinitionsSource;
}

export function createProjections(inputs: ProjectionInputs): readonly Projection[] {
  return [
    campaignsProjection,
    contactsProjection,
    campaignMetricsProjection,
    funnelDefinitionsProjection,
    createFunnelResultsProjection(inputs.funnelDefinitions),
    experimentsProjection,
    // The live attribution runs with the default settings (ANALYTICS.md: 30-day lookback,
    // 7-day half-life); other settings are analyses over the log.
    createAttributionProjection(),
  ];
}

/**
 * The projections as declarations (names, versions, collections), for a thread that reads
 * their read models but does not run them.
 */
export const projectionDeclarations: readonly Projection[] = createProjections({
  funnelDefinitions: () =>
    Promise.reject(new Error('funnel definitions are read where the projections run')),
});

/**
 * The projection manager of every projection, with what they need from where they run: the
 * funnel definitions read from the serving read model, a fresh funnel-results generation
 * whenever those change, and the experiments' auto-stop policy after their batches.
 */
export function createProjectionManager(
  options: Omit<ProjectionManagerOptions, 'projections' | 'watchers'>,
): ProjectionManager {
  const { eventStore, readStore, changeFeed, logger } = options;
  const commands = new CommandHandler(eventStore);
  const manager: ProjectionManager = new ProjectionManager({
    ...options,
    projections: createProjections({
      funnelDefinitions: funnelDefinitionsSource(readStore, (logical) =>
        manager.collection(logical),
      ),
    }),
    watchers: [
      (running) => watchFunnelDefinitions({ manager: running, readStore, changeFeed, logger }),
      (running) =>
        watchAutoStop({
          manager: running,
          readStore,
          changeFeed,
          logger,
          execute: (command) =>
            commands.handle(
              experimentDecider,
              experimentStreamId(command.metadata.workspaceId, command.data.experimentId),
              command,
            ),
        }),
    ],
  });
  return manager;
}
