/**
 * What the funnel-results projection needs from where it runs: the definitions to pin, and
 * a new generation whenever they change (the old one serves until the new one has caught
 * up, with the rebuild's progress as any rebuild's).
 */
import {
  funnelDefinitionsCollection,
  funnelDefinitionsProjectionName,
  type FunnelDefinitionDocument,
} from '../../projections/funnels/funnel-definitions.projection';
import {
  funnelPinsCollection,
  funnelResultsProjectionName,
  type FunnelDefinitionsSource,
  type FunnelPinDocument,
} from '../../projections/funnels/funnels.projection';
import type { ReadStore } from '../../projections/read-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from './change-feed';
import type { ProjectionManager } from './projection-manager';

/** Reads the serving definitions read model through `collection` (logical → physical). */
export function funnelDefinitionsSource(
  readStore: ReadStore,
  collection: (logical: string) => string,
): FunnelDefinitionsSource {
  return async () => {
    const documents = await readStore
      .collection<FunnelDefinitionDocument>(collection(funnelDefinitionsCollection))
      .find({ status: 'ACTIVE' }, { sort: { _id: 1 } });
    return documents.map(({ workspaceId, funnelId, version, definition }) => ({
      workspaceId,
      funnelId,
      version,
      definition,
    }));
  };
}

/**
 * Starts a fresh funnel-results generation when definitions change, and once at start when
 * the serving generation pinned other definitions than the current ones (a change that
 * landed while the server was down). Returns a function that stops watching.
 */
export async function watchFunnelDefinitions(options: {
  readonly manager: ProjectionManager;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
}): Promise<() => void> {
  const { manager, readStore, changeFeed, logger } = options;
  const restart = (why: string) =>
    manager.rebuild(funnelResultsProjectionName, { restart: true }).then(
      () => logger.info({ projection: funnelResultsProjectionName }, why),
      (error: unknown) => logger.error({ err: error }, 'could not start recomputing the funnels'),
    );
  const stop = changeFeed.listen((batch) => {
    if (batch.projection !== funnelDefinitionsProjectionName) return;
    if (batch.changes.some((change) => change.collection === funnelDefinitionsCollection)) {
      void restart('funnel definitions changed: recomputing the funnels from the log');
    }
  });
  const pin = await readStore
    .collection<FunnelPinDocument>(manager.collection(funnelPinsCollection))
    .findOne({ _id: 'definitions' });
  const current = await funnelDefinitionsSource(readStore, (logical) =>
    manager.collection(logical),
  )();
  if (pin !== null && versionsKey(pin.funnels) !== versionsKey(current)) {
    await restart('funnel definitions changed while stopped: recomputing the funnels');
  }
  return stop;
}

function versionsKey(
  funnels: readonly { workspaceId: string; funnelId: string; version: number }[],
): string {
  return funnels
    .map(({ workspaceId, funnelId, version }) => `${workspaceId}:${funnelId}@${version}`)
    .sort()
    .join('\n');
}
