/**
 * Who is calling: API keys checked against their workspace's stream, and the keys' life
 * (issue, revoke) through the workspace aggregate. Workspace states are cached for a short
 * time (`cacheMs`) so authentication costs no read per request; a key revoked through this
 * process stops working at once, and one revoked through another process within `cacheMs`.
 */
import { DomainError } from '../../domain/shared/errors';
import type { CommandMetadata } from '../../domain/shared/events';
import {
  type ApiKeyRole,
  type ApiKeyState,
  type WorkspaceCommand,
  type WorkspaceState,
  isKeyActive,
  workspaceDecider,
  workspaceStreamId,
} from '../../domain/workspace';
import { CommandHandler } from '../commands/command-handler';
import type { EventStore } from '../event-store/event-store';
import { generateToken, hashSecret, parseToken, secretMatches } from './api-key-token';

/** The caller a valid key stands for. */
export interface Principal {
  readonly workspaceId: string;
  readonly keyId: string;
  readonly role: ApiKeyRole;
  /** `key:<id>`: what command metadata records as the actor. */
  readonly actor: string;
}

export type AuthenticationFailure = 'MISSING_KEY' | 'INVALID_KEY' | 'REVOKED_KEY' | 'EXPIRED_KEY';

export class AuthenticationError extends Error {
  readonly code = 'UNAUTHENTICATED';
  constructor(
    readonly reason: AuthenticationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

export interface IssuedKey {
  readonly key: ApiKeyState;
  /** The whole key: shown once, never stored. */
  readonly token: string;
  readonly position: bigint;
  readonly revision: bigint;
}

interface CachedWorkspace {
  readonly state: WorkspaceState;
  readonly loadedAt: number;
}

export class AccessControl {
  private readonly commands: CommandHandler;
  private readonly cache = new Map<string, CachedWorkspace>();
  private readonly loading = new Map<string, Promise<WorkspaceState>>();
  private readonly revokedListeners = new Set<(workspaceId: string, keyId: string) => void>();

  constructor(
    eventStore: EventStore,
    private readonly options: { readonly cacheMs: number; readonly clock?: () => Date },
  ) {
    this.commands = new CommandHandler(eventStore);
  }

  /**
   * The principal of a key; throws AuthenticationError when it does not authenticate:
   * MISSING_KEY for none (undefined), INVALID_KEY for anything that is not a working key.
   */
  async authenticate(key: string | undefined): Promise<Principal> {
    if (key === undefined) {
      throw new AuthenticationError(
        'MISSING_KEY',
        'an API key is required: send it as `Authorization: Bearer <key>`',
      );
    }
    const parsed = parseToken(key.trim());
    const invalid = new AuthenticationError('INVALID_KEY', 'the API key is not valid');
    if (!parsed) throw invalid;
    const state = await this.workspace(parsed.workspaceId);
    const stored = state.status === 'Active' ? state.keys.get(parsed.keyId) : undefined;
    if (!stored || !secretMatches(parsed.secret, stored.secretHash)) throw invalid;
    if (stored.revokedAt !== null) {
      throw new AuthenticationError('REVOKED_KEY', 'the API key has been revoked');
    }
    if (!isKeyActive(stored, this.now())) {
      throw new AuthenticationError('EXPIRED_KEY', 'the API key has expired');
    }
    return {
      workspaceId: parsed.workspaceId,
      keyId: stored.keyId,
      role: stored.role,
      actor: actorOf(stored.keyId),
    };
  }

  /** Whether a principal's key still works (re-checked for long-lived connections). */
  async stillValid(principal: Principal): Promise<boolean> {
    const state = await this.workspace(principal.workspaceId);
    const key = state.status === 'Active' ? state.keys.get(principal.keyId) : undefined;
    return key !== undefined && isKeyActive(key, this.now());
  }

  /** The workspace's state, from the cache while it is fresh. */
  async workspace(workspaceId: string): Promise<WorkspaceState> {
    const cached = this.cache.get(workspaceId);
    if (cached && Date.now() - cached.loadedAt < this.options.cacheMs) return cached.state;
    const inFlight = this.loading.get(workspaceId);
    if (inFlight) return inFlight;
    const load = this.load(workspaceId).finally(() => this.loading.delete(workspaceId));
    this.loading.set(workspaceId, load);
    return load;
  }

  /** The workspace's state read from its stream now (for listings after a change). */
  async freshWorkspace(workspaceId: string): Promise<WorkspaceState> {
    return this.load(workspaceId);
  }

  async createWorkspace(
    metadata: CommandMetadata,
    name: string,
    ownerKeyName = 'owner',
  ): Promise<IssuedKey> {
    const fresh = generateToken(metadata.workspaceId);
    const { keyId, secretHash } = fresh;
    const result = await this.execute({
      type: 'CreateWorkspace',
      data: { name, ownerKey: { keyId, name: ownerKeyName, secretHash, expiresAt: null } },
      metadata,
    });
    return this.issuedKey(result, keyId, fresh.token);
  }

  async issueKey(
    metadata: CommandMetadata,
    key: { readonly name: string; readonly role: ApiKeyRole; readonly expiresAt: Date | null },
    options: { readonly expectedRevision?: bigint } = {},
  ): Promise<IssuedKey> {
    const fresh = generateToken(metadata.workspaceId);
    const { keyId, secretHash } = fresh;
    const result = await this.execute(
      { type: 'IssueApiKey', data: { ...key, keyId, secretHash }, metadata },
      options,
    );
    return this.issuedKey(result, keyId, fresh.token);
  }

  async revokeKey(
    metadata: CommandMetadata,
    keyId: string,
    options: { readonly expectedRevision?: bigint } = {},
  ): Promise<{ key: ApiKeyState; position: bigint; revision: bigint; replayed: boolean }> {
    const result = await this.execute({ type: 'RevokeApiKey', data: { keyId }, metadata }, options);
    const key = result.state.status === 'Active' ? result.state.keys.get(keyId) : undefined;
    if (!key) throw new Error(`key ${keyId} missing after its revocation`);
    if (result.events.length > 0) {
      for (const listener of this.revokedListeners) listener(metadata.workspaceId, keyId);
    }
    return { key, position: result.position, revision: result.revision, replayed: result.replayed };
  }

  /**
   * Makes sure the key given in configuration (`TOUCHLINE_OWNER_KEY`) is an owner key of its
   * workspace, creating the workspace when it does not exist. A key that was revoked is
   * not brought back.
   */
  async ensureOwnerKey(token: string): Promise<'created' | 'issued' | 'present' | 'revoked'> {
    const parsed = parseToken(token);
    if (!parsed) throw new Error('the owner key is not a Touchline API key (tl.…)');
    const metadata = {
      workspaceId: parsed.workspaceId,
      commandId: `bootstrap-owner-key-${parsed.keyId}`,
      now: this.now(),
      actor: 'bootstrap',
    };
    const state = await this.freshWorkspace(parsed.workspaceId);
    const ownerKey = {
      keyId: parsed.keyId,
      name: 'owner (configured)',
      secretHash: hashSecret(parsed.secret),
      expiresAt: null,
    };
    if (state.status === 'None') {
      await this.execute({
        type: 'CreateWorkspace',
        data: { name: parsed.workspaceId, ownerKey },
        metadata,
      });
      return 'created';
    }
    const existing = state.keys.get(parsed.keyId);
    if (existing) {
      if (!secretMatches(parsed.secret, existing.secretHash)) {
        throw new Error('the configured owner key has the id of another key of its workspace');
      }
      return existing.revokedAt === null ? 'present' : 'revoked';
    }
    await this.execute({ type: 'IssueApiKey', data: { ...ownerKey, role: 'owner' }, metadata });
    return 'issued';
  }

  /** Called with (workspace, key) whenever this process revokes a key. */
  onRevoked(listener: (workspaceId: string, keyId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private async execute(
    command: WorkspaceCommand,
    options: { readonly expectedRevision?: bigint } = {},
  ) {
    const streamId = workspaceStreamId(command.metadata.workspaceId);
    const result = await this.commands.handle(workspaceDecider, streamId, command, options);
    this.cache.set(command.metadata.workspaceId, { state: result.state, loadedAt: Date.now() });
    return result;
  }

  private issuedKey(
    result: { state: WorkspaceState; position: bigint; revision: bigint; replayed: boolean },
    keyId: string,
    token: string,
  ): IssuedKey {
    // A retried command finds the key it issued the first time, whose secret was shown then.
    if (result.replayed) {
      throw new DomainError(
        'CONFLICT',
        'ALREADY_HANDLED',
        'this command was handled before, and the key it made was shown then: a secret is shown only once',
      );
    }
    const key = result.state.status === 'Active' ? result.state.keys.get(keyId) : undefined;
    if (!key) throw new Error(`key ${keyId} missing after it was issued`);
    return { key, token, position: result.position, revision: result.revision };
  }

  private async load(workspaceId: string): Promise<WorkspaceState> {
    const { state } = await this.commands.load(workspaceDecider, workspaceStreamId(workspaceId));
    this.cache.set(workspaceId, { state, loadedAt: Date.now() });
    return state;
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }
}

export function actorOf(keyId: string): string {
  return `key:${keyId}`;
}
