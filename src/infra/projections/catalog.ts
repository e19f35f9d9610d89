/** Every projection the server runs, in one place (the projector thread loads it too). */
import {
  attributionSettingsProjection,
  attributionSettingsProjectionName,
} from '../../projections/attribution/attribution-settings.projection';
import {
  attributionProjectionName,
  createAttributionProjection,
  type AttributionSettingsSource,
} from '../../projections/attribution/attribution.projection';
import { campaignMetricsProjection } from '../../projections/campaign-metrics/campaign-metrics.projection';
import { campaignsProjection } from '../../projections/campaigns/campaigns.projection';
import { contactsProjection } from '../../projections/contacts/contacts.projection';
import { experimentsProjection } from '../../projections/experiments/experiments.projection';
import {
  funnelDefinitionsProjection,
  funnelDefinitionsProjectionName,
} from '../../projections/funnels/funnel-definitions.projection';
import {
  createFunnelResultsProjection,
  funnelResultsProjectionName,
  type FunnelDefinitionsSource,
} from '../../projections/funnels/funnels.projection';
import type { Projection } from '../../projections/projection';
import type { ReadStore } from '../../projections/read-store';
import { segmentsProjection } from '../../projections/segments/segments.projection';
import { experimentDecider, experimentStreamId } from '../../domain/experiment';
import { CommandHandler } from '../commands/command-handler';
import { watchAutoStop } from '../experiments/auto-stop';
import { watchSegmentClock } from '../segments/segment-clock';
import { attributionSettingsSource, watchAttributionSettings } from './attribution-settings';
import { funnelDefinitionsSource, watchFunnelDefinitions } from './funnels';
import { ProjectionManager, type ProjectionManagerOptions } from './projection-manager';

export interface ProjectionInputs {
  /** The active funnels' latest definitions, pinned by each new funnel-results generation. */
  readonly funnelDefinitions: FunnelDefinitionsSource;
  /**
   * Each workspace's configured attribution settings, pinned by each new attribution
   * generation; without it every workspace is computed with the defaults.
   */
  readonly attributionSettings?: AttributionSettingsSource;
}

export function createProjections(inputs: ProjectionInputs): readonly Projection[] {
  return [
    campaignsProjection,
    contactsProjection,
    campaignMetricsProjection,
    funnelDefinitionsProjection,
    createFunnelResultsProjection(inputs.funnelDefinitions),
    experimentsProjection,
    attributionSettingsProjection,
    // The live attribution runs with each workspace's pinned settings (the defaults of
    // ANALYTICS.md, 30-day lookback and 7-day half-life, unless configured); other settings
    // are analyses over the log.
    createAttributionProjection(
      inputs.attributionSettings && { settingsSource: inputs.attributionSettings },
    ),
    segmentsProjection,
  ];
}

/**
 * The projections reading their pinned inputs (funnel definitions, attribution settings)
 * from `readStore`, under the physical names `physical` gives their logical collections.
 */
export function projectionsReading(
  readStore: ReadStore,
  physical: (logical: string) => string,
): readonly Projection[] {
  return createProjections({
    funnelDefinitions: funnelDefinitionsSource(readStore, physical),
    attributionSettings: attributionSettingsSource(readStore, physical),
  });
}

/**
 * The projections whose read models a projection reads while it runs (the inputs it pins):
 * a replay of one runs these first.
 */
export const projectionInputs: Readonly<Record<string, readonly string[]>> = {
  [funnelResultsProjectionName]: [funnelDefinitionsProjectionName],
  [attributionProjectionName]: [attributionSettingsProjectionName],
};

/**
 * The projections as declarations (names, versions, collections), for a thread that reads
 * their read models but does not run them.
 */
export const projectionDeclarations: readonly Projection[] = createProjections({
  funnelDefinitions: () =>
    Promise.reject(new Error('funnel definitions are read where the projections run')),
  attributionSettings: () =>
    Promise.reject(new Error('attribution settings are read where the projections run')),
});

/**
 * The projection manager of every projection, with what they need from where they run: the
 * funnel definitions and attribution settings read from the serving read models, a fresh
 * funnel-results or attribution generation whenever those change, the experiments'
 * auto-stop policy after their batches, and the segment scheduler's clock ticks.
 */
export function createProjectionManager(
  options: Omit<ProjectionManagerOptions, 'projections' | 'watchers'>,
): ProjectionManager {
  const { eventStore, readStore, changeFeed, logger } = options;
  const commands = new CommandHandler(eventStore);
  const manager: ProjectionManager = new ProjectionManager({
    ...options,
    projections: projectionsReading(readStore, (logical) => manager.collection(logical)),
    watchers: [
      {
        projection: funnelResultsProjectionName,
        watch: (running) =>
          watchFunnelDefinitions({ manager: running, readStore, changeFeed, logger }),
      },
      {
        projection: attributionProjectionName,
        watch: (running) =>
          watchAttributionSettings({ manager: running, readStore, changeFeed, logger }),
      },
      {
        projection: segmentsProjection.name,
        watch: (running) =>
          watchSegmentClock({
            manager: running,
            readStore,
            eventStore,
            changeFeed,
            logger,
            ...(options.now && { now: options.now }),
          }),
      },
      {
        projection: experimentsProjection.name,
        watch: (running) =>
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
      },
    ],
  });
  return manager;
}
