/**
 * A workspace (tenant) and the API keys that act in it. A key's secret never enters the log:
 * only its SHA-256 hash, from which the secret cannot be recovered.
 */
import type { DomainEvent } from '../shared/events';

/** owner: keys and everything; editor: every domain command; viewer: queries and
 * subscriptions; ingest: the tracking endpoints only (a Segment-style write key). */
export const apiKeyRoles = ['owner', 'editor', 'viewer', 'ingest'] as const;
export type ApiKeyRole = (typeof apiKeyRoles)[number];

export type WorkspaceCreated = DomainEvent<
  'WorkspaceCreated',
  { readonly workspaceId: string; readonly name: string; readonly createdAt: string }
>;

export type ApiKeyIssued = DomainEvent<
  'ApiKeyIssued',
  {
    readonly keyId: string;
    readonly name: string;
    readonly role: ApiKeyRole;
    /** Hex SHA-256 of the key's secret part. */
    readonly secretHash: string;
    readonly issuedAt: string;
    readonly expiresAt: string | null;
  }
>;

export type ApiKeyRevoked = DomainEvent<
  'ApiKeyRevoked',
  { readonly keyId: string; readonly revokedAt: string }
>;

export type WorkspaceEvent = WorkspaceCreated | ApiKeyIssued | ApiKeyRevoked;

export const workspaceEventTypes = [
  'WorkspaceCreated',
  'ApiKeyIssued',
  'ApiKeyRevoked',
] as const satisfies readonly WorkspaceEvent['type'][];
