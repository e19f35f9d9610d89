/**
 * A workspace and its API keys. The workspace is created with its first owner key; keys are
 * issued with a role and an optional expiry, and revoked for good. The last owner key that
 * still works cannot be revoked, so a workspace never locks its owners out. Pure: time
 * comes from `metadata.now`, key ids and hashes from the issuer.
 */
import { DomainError, IllegalStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { Decider } from '../shared/events';
import { parseOneOf, requireText } from '../shared/text';
import type { NewApiKey, WorkspaceCommand } from './workspace.commands';
import { type ApiKeyRole, type WorkspaceEvent, apiKeyRoles } from './workspace.events';

export const workspaceLimits = {
  maxNameLength: 100,
  /** Keys that still work (neither revoked nor expired) per workspace. */
  maxActiveKeys: 100,
} as const;

const keyIdPattern = /^[A-Za-z0-9]{8,32}$/;
const secretHashPattern = /^[a-f0-9]{64}$/;

export interface ApiKeyState {
  readonly keyId: string;
  readonly name: string;
  readonly role: ApiKeyRole;
  readonly secretHash: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  /**
   * Who issued it: the actor of the command (`key:<id>` for a key; `cli:init` or `bootstrap`
   * for a workspace's first key); null when the command named none.
   */
  readonly issuedBy: string | null;
}

export type WorkspaceState =
  | { readonly status: 'None' }
  | {
      readonly status: 'Active';
      readonly workspaceId: string;
      readonly name: string;
      readonly createdAt: Date;
      readonly keys: ReadonlyMap<string, ApiKeyState>;
    };

export function initialState(): WorkspaceState {
  return { status: 'None' };
}

/** Whether a key authenticates at `now`. */
export function isKeyActive(key: ApiKeyState, now: Date): boolean {
  return key.revokedAt === null && (key.expiresAt === null || key.expiresAt > now);
}

/** An event as folded: read back from the log it carries the metadata naming its actor. */
type FoldedEvent = WorkspaceEvent & { readonly metadata?: { readonly actor?: string } };

export function evolve(state: WorkspaceState, event: FoldedEvent): WorkspaceState {
  switch (event.type) {
    case 'WorkspaceCreated':
      return {
        status: 'Active',
        workspaceId: event.data.workspaceId,
        name: event.data.name,
        createdAt: new Date(event.data.createdAt),
        keys: new Map(),
      };
    case 'ApiKeyIssued': {
      if (state.status !== 'Active') return state;
      const { keyId, name, role, secretHash, issuedAt, expiresAt } = event.data;
      const keys = new Map(state.keys);
      keys.set(keyId, {
        keyId,
        name,
        role,
        secretHash,
        issuedAt: new Date(issuedAt),
        expiresAt: expiresAt === null ? null : new Date(expiresAt),
        revokedAt: null,
        issuedBy: event.metadata?.actor ?? null,
      });
      return { ...state, keys };
    }
    case 'ApiKeyRevoked': {
      if (state.status !== 'Active') return state;
      const key = state.keys.get(event.data.keyId);
      if (!key) return state;
      const keys = new Map(state.keys);
      keys.set(key.keyId, { ...key, revokedAt: new Date(event.data.revokedAt) });
      return { ...state, keys };
    }
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export function decide(command: WorkspaceCommand, state: WorkspaceState): WorkspaceEvent[] {
  const now = command.metadata.now;
  switch (command.type) {
    case 'CreateWorkspace': {
      if (state.status !== 'None') {
        throw new DomainError(
          'CONFLICT',
          'WORKSPACE_EXISTS',
          `workspace ${command.metadata.workspaceId} already exists`,
          'workspaceId',
        );
      }
      const name = requireText(command.data.name, 'name', workspaceLimits.maxNameLength);
      return [
        {
          type: 'WorkspaceCreated',
          data: { workspaceId: command.metadata.workspaceId, name, createdAt: now.toISOString() },
        },
        issued({ ...command.data.ownerKey, role: 'owner' }, now, 'ownerKey'),
      ];
    }
    case 'IssueApiKey': {
      const workspace = requireWorkspace(state, command.metadata.workspaceId);
      if (workspace.keys.has(command.data.keyId)) {
        throw new IllegalStateError(`API key ${command.data.keyId} already exists`, 'KEY_EXISTS');
      }
      const active = [...workspace.keys.values()].filter((key) => isKeyActive(key, now));
      if (active.length >= workspaceLimits.maxActiveKeys) {
        throw new IllegalStateError(
          `a workspace may have at most ${workspaceLimits.maxActiveKeys} working keys: revoke one first`,
          'TOO_MANY_KEYS',
        );
      }
      return [issued(command.data, now)];
    }
    case 'RevokeApiKey': {
      const workspace = requireWorkspace(state, command.metadata.workspaceId);
      const key = workspace.keys.get(command.data.keyId);
      if (!key) throw new NotFoundError('API key', command.data.keyId);
      if (key.revokedAt !== null) return [];
      if (key.role === 'owner' && isKeyActive(key, now)) {
        const otherOwners = [...workspace.keys.values()].filter(
          (other) => other.keyId !== key.keyId && other.role === 'owner' && isKeyActive(other, now),
        );
        if (otherOwners.length === 0) {
          throw new IllegalStateError(
            'this is the last working owner key: issue another owner key before revoking it',
            'LAST_OWNER_KEY',
          );
        }
      }
      return [{ type: 'ApiKeyRevoked', data: { keyId: key.keyId, revokedAt: now.toISOString() } }];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export const workspaceDecider: Decider<WorkspaceCommand, WorkspaceEvent, WorkspaceState> = {
  initialState,
  evolve,
  decide,
};

function requireWorkspace(
  state: WorkspaceState,
  workspaceId: string,
): Extract<WorkspaceState, { status: 'Active' }> {
  if (state.status !== 'Active') throw new NotFoundError('workspace', workspaceId);
  return state;
}

function issued(key: NewApiKey, now: Date, field = ''): WorkspaceEvent {
  const at = (name: string) => (field ? `${field}.${name}` : name);
  if (!keyIdPattern.test(key.keyId)) {
    throw new ValidationError(at('keyId'), 'a key id is 8 to 32 letters or digits', 'INVALID_ID');
  }
  if (!secretHashPattern.test(key.secretHash)) {
    throw new ValidationError(
      at('secretHash'),
      'a key is stored as the hex SHA-256 of its secret',
      'INVALID_HASH',
    );
  }
  const name = requireText(key.name, at('name'), workspaceLimits.maxNameLength);
  const role = parseOneOf(key.role, apiKeyRoles, at('role'), 'UNKNOWN_ROLE');
  if (key.expiresAt !== null) {
    if (Number.isNaN(key.expiresAt.getTime())) {
      throw new ValidationError(
        at('expiresAt'),
        'expiresAt is not a valid instant',
        'INVALID_DATE',
      );
    }
    if (key.expiresAt <= now) {
      throw new ValidationError(at('expiresAt'), 'expiresAt must be in the future', 'IN_PAST');
    }
  }
  return {
    type: 'ApiKeyIssued',
    data: {
      keyId: key.keyId,
      name,
      role,
      secretHash: key.secretHash,
      issuedAt: now.toISOString(),
      expiresAt: key.expiresAt === null ? null : key.expiresAt.toISOString(),
    },
  };
}
