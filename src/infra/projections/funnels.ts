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
import { watchPinnedInputs } from './pinned-inputs';
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

/** A fresh funnel-results generation whenever the definitions change. */
export function watchFunnelDefinitions(options: {
  readonly manager: ProjectionManager;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
}): Promise<() => void> {
  const { manager, readStore } = options;
  return watchPinnedInputs({
    ...options,
    projection: funnelResultsProjectionName,
    inputs: {
      projection: funnelDefinitionsProjectionName,
      collection: funnelDefinitionsCollection,
    },
    what: 'funnel definitions',
    pinned: async () => {
      const pin = await readStore
        .collection<FunnelPinDocument>(manager.collection(funnelPinsCollection))
        .findOne({ _id: 'definitions' });
      return pin === null ? null : versionsKey(pin.funnels);
    },
    current: async () =>
      versionsKey(
        await funnelDefinitionsSource(readStore, (logical) => manager.collection(logical))(),
      ),
  });
}

function versionsKey(
  funnels: readonly { workspaceId: string; funnelId: string; version: number }[],
): string {
  return funnels
    .map(({ workspaceId, funnelId, version }) => `${workspaceId}:${funnelId}@${version}`)
    .sort()
    .join('\n');
}
