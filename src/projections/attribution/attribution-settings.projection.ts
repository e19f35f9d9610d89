/**
 * The attribution settings read model: each workspace's configured lookback and half-life,
 * for the settings query and for pinning the settings an attribution generation computes.
 * A workspace without a document has the defaults.
 */
import {
  attributionSettingsEventTypes,
  type AttributionSettingsEvent,
} from '../../domain/attribution';
import { documentProjection } from '../projection';

export const attributionSettingsProjectionName = 'attribution-settings';
export const attributionSettingsCollection = 'attribution_settings';

export type AttributionSettingsDocument = {
  /** The workspace id. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly lookbackDays: number;
  readonly halfLifeDays: number;
  /** How many times the settings changed. */
  readonly version: number;
  readonly configuredAt: string;
  /** Log position of the last event applied (decimal), so a repeat changes nothing. */
  readonly position: string;
};

export const attributionSettingsProjection = documentProjection<AttributionSettingsDocument>({
  name: attributionSettingsProjectionName,
  live: true,
  version: 1,
  collection: attributionSettingsCollection,
  eventTypes: attributionSettingsEventTypes,
  documentId: (event) => event.metadata.workspaceId,
  evolve: (document, recorded) => {
    if (document !== null && recorded.position <= BigInt(document.position)) return document;
    const event = { type: recorded.type, data: recorded.data } as AttributionSettingsEvent;
    switch (event.type) {
      case 'AttributionConfigured':
        return {
          _id: recorded.metadata.workspaceId,
          workspaceId: recorded.metadata.workspaceId,
          lookbackDays: event.data.lookbackDays,
          halfLifeDays: event.data.halfLifeDays,
          version: (document?.version ?? 0) + 1,
          configuredAt: event.data.configuredAt,
          position: recorded.position.toString(),
        };
      default:
        return document;
    }
  },
});
