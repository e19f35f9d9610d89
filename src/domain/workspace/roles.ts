/**
 * What each role may do. A capability names a kind of request, so every entry point (GraphQL
 * fields, the tracking endpoints, the export) asks the same question of the same table.
 */
import type { ApiKeyRole } from './workspace.events';

export type Capability =
  /** Queries, subscriptions, the event export. */
  | 'read'
  /** Every domain command (campaigns, funnels, segments, experiments, settings). */
  | 'command'
  /** The tracking endpoints and `trackEvents`. */
  | 'ingest'
  /** Issue and revoke keys, see the workspace's keys, rebuild read models. */
  | 'administer';

const capabilities: Readonly<Record<ApiKeyRole, readonly Capability[]>> = {
  owner: ['read', 'command', 'ingest', 'administer'],
  editor: ['read', 'command', 'ingest'],
  viewer: ['read'],
  ingest: ['ingest'],
};

export function roleMay(role: ApiKeyRole, capability: Capability): boolean {
  return capabilities[role].includes(capability);
}
