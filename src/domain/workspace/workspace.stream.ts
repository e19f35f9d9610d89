/** The one place a workspace's stream name is built (one stream per workspace). */
import { assertValidWorkspaceId } from '../campaign/campaign.stream';

export const workspaceStreamPrefix = 'workspace-';

export function workspaceStreamId(workspaceId: string): string {
  assertValidWorkspaceId(workspaceId);
  return `${workspaceStreamPrefix}${workspaceId}`;
}
