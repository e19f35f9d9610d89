import { deterministicEventId } from '../commands/command-handler';

/**
 * The event id of a tracked message: a name-based UUID of the workspace and the message's
 * `messageId`, so a message sent twice (an SDK retry, a replayed archive) carries the same
 * id both times and the store keeps it once. Workspace ids hold no `|`, so two different
 * (workspace, messageId) pairs never name the same UUID.
 */
export function trackingEventId(workspaceId: string, messageId: string): string {
  return deterministicEventId(`tracking|${workspaceId}|${messageId}`);
}
