/**
 * What the attribution projection needs from where it runs: each workspace's configured
 * settings to pin, and a new generation whenever they change (the old one serves until the
 * new one has caught up, with the rebuild's progress as any rebuild's).
 */
import {
  attributionSettingsCollection,
  attributionSettingsProjectionName,
  type AttributionSettingsDocument,
} from '../../projections/attribution/attribution-settings.projection';
import {
  attributionPinsCollection,
  attributionProjectionName,
  type AttributionPinDocument,
  type AttributionSettingsSource,
} from '../../projections/attribution/attribution.projection';
import {
  defaultAttributionSettings,
  type AttributionSettings,
} from '../../projections/attribution/journeys';
import { DAY_MS } from '../../projections/attribution/models';
import type { ReadStore } from '../../projections/read-store';
import type { Logger } from '../logger';
import type { ChangeFeed } from './change-feed';
import { watchPinnedInputs } from './pinned-inputs';
import type { ProjectionManager } from './projection-manager';

/** Reads the serving settings read model through `collection` (logical → physical). */
export function attributionSettingsSource(
  readStore: ReadStore,
  collection: (logical: string) => string,
): AttributionSettingsSource {
  return async () => {
    const documents = await readStore
      .collection<AttributionSettingsDocument>(collection(attributionSettingsCollection))
      .find({}, { sort: { _id: 1 } });
    return Object.fromEntries(
      documents.map(({ workspaceId, lookbackDays, halfLifeDays }) => [
        workspaceId,
        { lookbackMs: lookbackDays * DAY_MS, halfLifeMs: halfLifeDays * DAY_MS },
      ]),
    );
  };
}

/** A fresh attribution generation whenever a workspace's settings change. */
export function watchAttributionSettings(options: {
  readonly manager: ProjectionManager;
  readonly readStore: ReadStore;
  readonly changeFeed: ChangeFeed;
  readonly logger: Logger;
}): Promise<() => void> {
  const { manager, readStore } = options;
  return watchPinnedInputs({
    ...options,
    projection: attributionProjectionName,
    inputs: {
      projection: attributionSettingsProjectionName,
      collection: attributionSettingsCollection,
    },
    what: 'attribution settings',
    pinned: async () => {
      const pin = await readStore
        .collection<AttributionPinDocument>(manager.collection(attributionPinsCollection))
        .findOne({ _id: 'settings' });
      if (pin === null) return null;
      return settingsKey(
        Object.fromEntries(
          pin.workspaces.map(({ workspaceId, ...settings }) => [workspaceId, settings]),
        ),
      );
    },
    current: async () =>
      settingsKey(
        await attributionSettingsSource(readStore, (logical) => manager.collection(logical))(),
      ),
  });
}

/** The settings that differ from the defaults, in one comparable line per workspace. */
function settingsKey(settings: Readonly<Record<string, AttributionSettings>>): string {
  return Object.entries(settings)
    .filter(
      ([, { lookbackMs, halfLifeMs }]) =>
        lookbackMs !== defaultAttributionSettings.lookbackMs ||
        halfLifeMs !== defaultAttributionSettings.halfLifeMs,
    )
    .map(
      ([workspaceId, { lookbackMs, halfLifeMs }]) => `${workspaceId}:${lookbackMs}:${halfLifeMs}`,
    )
    .sort()
    .join('\n');
}
