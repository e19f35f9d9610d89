/** The one place a funnel's stream name is built (the workspace is part of it). */
import { assertValidCampaignId, assertValidWorkspaceId } from '../campaign/campaign.stream';

export const funnelStreamPrefix = 'funnel-';

export function funnelStreamId(workspaceId: string, funnelId: string): string {
  assertValidWorkspaceId(workspaceId);
  // Funnel ids follow the campaign id rules (1–100 of A-Z a-z 0-9 _ . : -).
  assertValidCampaignId(funnelId, 'id');
  return `${funnelStreamPrefix}${workspaceId}:${funnelId}`;
}
