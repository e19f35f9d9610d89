import type { CommandMetadata } from '../shared/events';
import type { ApiKeyRole } from './workspace.events';

/** A key as its issuer describes it; the id and the hash are made outside the domain. */
export interface NewApiKey {
  readonly keyId: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly secretHash: string;
  readonly expiresAt: Date | null;
}

export type CreateWorkspace = {
  readonly type: 'CreateWorkspace';
  /** The workspace is `metadata.workspaceId`; its first key is an owner key. */
  readonly data: { readonly name: string; readonly ownerKey: Omit<NewApiKey, 'role'> };
  readonly metadata: CommandMetadata;
};

export type IssueApiKey = {
  readonly type: 'IssueApiKey';
  readonly data: NewApiKey;
  readonly metadata: CommandMetadata;
};

export type RevokeApiKey = {
  readonly type: 'RevokeApiKey';
  readonly data: { readonly keyId: string };
  readonly metadata: CommandMetadata;
};

export type WorkspaceCommand = CreateWorkspace | IssueApiKey | RevokeApiKey;
