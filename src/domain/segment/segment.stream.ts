/**
 * The one place a segment's stream names are built (the workspace is part of each): one stream
 * per segment, and one clock stream per workspace for the scheduler's `SegmentClockTicked`.
 */
import { assertValidCampaignId, assertValidWorkspaceId } from '../campaign/campaign.stream';

export const segmentStreamPrefix = 'segment-';

/**
 * Not `segment-clock-`: readers select streams by prefix (`EventFilter.streamPrefixes`, a
 * `startsWith` in both stores), and KurrentDB's `$by_category` takes the text before the first
 * '-' as the category, so under `segment-clock-` the clock streams would be read as segment
 * streams by both a `segment-` prefix subscription and `$ce-segment`. Neither prefix starts with
 * the other, so each filter selects exactly its own streams.
 */
export const segmentClockStreamPrefix = 'segmentclock-';

export function segmentStreamId(workspaceId: string, segmentId: string): string {
  assertValidWorkspaceId(workspaceId);
  // Segment ids follow the campaign id rules (1–100 of A-Z a-z 0-9 _ . : -).
  assertValidCampaignId(segmentId, 'id');
  return `${segmentStreamPrefix}${workspaceId}:${segmentId}`;
}

export function segmentClockStreamId(workspaceId: string): string {
  assertValidWorkspaceId(workspaceId);
  return `${segmentClockStreamPrefix}${workspaceId}`;
}
