/** The one place a workspace's attribution-settings stream name is built (one per workspace). */
import { assertValidWorkspaceId } from '../campaign/campaign.stream';

export const attributionSettingsStreamPrefix = 'attribution-settings-';

export function attributionSettingsStreamId(workspaceId: string): string {
  assertValidWorkspaceId(workspaceId);
  return `${attributionSettingsStreamPrefix}${workspaceId}`;
}
