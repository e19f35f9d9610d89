/**
 * The funnel definitions read model: each funnel's latest version, for lists, detail pages
 * and for pinning the definitions a funnel-results generation computes.
 */
import {
  funnelEventTypes,
  type FunnelDefinition,
  type FunnelEvent,
} from '../../domain/funnel/funnel.events';
import { documentProjection } from '../projection';

export const funnelDefinitionsProjectionName = 'funnel-definitions';
export const funnelDefinitionsCollection = 'funnels';

export type FunnelDefinitionDocument = {
  /** `${workspaceId}:${funnelId}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly funnelId: string;
  readonly version: number;
  readonly status: 'ACTIVE' | 'ARCHIVED';
  readonly definition: FunnelDefinition;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Log position of the last event applied (decimal), so a repeat changes nothing. */
  readonly position: string;
};

export function funnelDocumentId(workspaceId: string, funnelId: string): string {
  return `${workspaceId}:${funnelId}`;
}

export const funnelDefinitionsProjection = documentProjection<FunnelDefinitionDocument>({
  name: funnelDefinitionsProjectionName,
  live: true,
  version: 1,
  collection: funnelDefinitionsCollection,
  eventTypes: funnelEventTypes,
  indexes: [['workspaceId', 'status']],
  documentId: (event) =>
    funnelDocumentId(event.metadata.workspaceId, (event.data as FunnelEvent['data']).funnelId),
  evolve: (document, recorded) => {
    if (document !== null && recorded.position <= BigInt(document.position)) return document;
    const event = { type: recorded.type, data: recorded.data } as FunnelEvent;
    const position = recorded.position.toString();
    switch (event.type) {
      case 'FunnelCreated':
        return {
          _id: funnelDocumentId(recorded.metadata.workspaceId, event.data.funnelId),
          workspaceId: recorded.metadata.workspaceId,
          funnelId: event.data.funnelId,
          version: event.data.version,
          status: 'ACTIVE',
          definition: event.data.definition,
          createdAt: event.data.createdAt,
          updatedAt: event.data.createdAt,
          position,
        };
      case 'FunnelUpdated':
        if (document === null) return null;
        return {
          ...document,
          version: event.data.version,
          definition: event.data.definition,
          updatedAt: event.data.updatedAt,
          position,
        };
      case 'FunnelArchived':
        if (document === null) return null;
        return { ...document, status: 'ARCHIVED', updatedAt: event.data.archivedAt, position };
      default:
        return document;
    }
  },
});
