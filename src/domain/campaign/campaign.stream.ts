/**
 * The one place a campaign's stream name is built. The name carries the workspace, so two
 * tenants can never share a stream, and its prefix lets a reader filter campaign streams.
 */
import { ValidationError } from '../shared/errors';

export const campaignStreamPrefix = 'campaign-';

const idPattern = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * A workspace id may not contain ':' because ':' separates it from the campaign id: with
 * it, workspace "a:b" + campaign "c" and workspace "a" + campaign "b:c" would name the
 * same stream and one tenant could reach another's campaign.
 */
const workspaceIdPattern = /^[A-Za-z0-9_.-]{1,100}$/;

export function assertValidCampaignId(campaignId: string, field = 'id'): void {
  if (!idPattern.test(campaignId)) {
    throw new ValidationError(
      field,
      `"${campaignId}" is not a valid id: use 1 to 100 characters of A-Z a-z 0-9 _ . : -`,
      'INVALID_ID',
    );
  }
}

export function assertValidWorkspaceId(workspaceId: string, field = 'workspaceId'): void {
  if (!workspaceIdPattern.test(workspaceId)) {
    throw new ValidationError(
      field,
      `"${workspaceId}" is not a valid workspace id: use 1 to 100 characters of A-Z a-z 0-9 _ . -`,
      'INVALID_ID',
    );
  }
}

export function campaignStreamId(workspaceId: string, campaignId: string): string {
  assertValidWorkspaceId(workspaceId);
  assertValidCampaignId(campaignId);
  return `${campaignStreamPrefix}${workspaceId}:${campaignId}`;
}
