/**
 * The workspace aggregate: given these events, when this command, then these events (or this
 * error). Key ids and hashes come from the issuer, time from the metadata.
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../../src/domain/shared/errors';
import type { CommandMetadata } from '../../src/domain/shared/events';
import {
  type ApiKeyIssued,
  type ApiKeyRole,
  type Capability,
  type NewApiKey,
  type WorkspaceCommand,
  type WorkspaceEvent,
  type WorkspaceState,
  apiKeyRoles,
  isKeyActive,
  roleMay,
  workspaceDecider,
  workspaceLimits,
  workspaceStreamId,
} from '../../src/domain/workspace';

const now = new Date('2026-03-01T12:00:00.000Z');
const earlier = '2026-02-01T09:00:00.000Z';
const metadata: CommandMetadata = {
  workspaceId: 'acme',
  commandId: 'command-1',
  now,
  actor: 'key:owner0001',
};

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function newKey(keyId: string, overrides: Partial<NewApiKey> = {}): NewApiKey {
  return {
    keyId,
    name: `key ${keyId}`,
    role: 'viewer',
    secretHash: hashOf(keyId),
    expiresAt: null,
    ...overrides,
  };
}

const created: WorkspaceEvent = {
  type: 'WorkspaceCreated',
  data: { workspaceId: 'acme', name: 'Acme', createdAt: earlier },
};

function issued(
  keyId: string,
  role: ApiKeyRole,
  options: { expiresAt?: string | null; actor?: string } = {},
): ApiKeyIssued & { metadata?: { actor?: string } } {
  return {
    type: 'ApiKeyIssued',
    data: {
      keyId,
      name: `key ${keyId}`,
      role,
      secretHash: hashOf(keyId),
      issuedAt: earlier,
      expiresAt: options.expiresAt ?? null,
    },
    ...(options.actor !== undefined && { metadata: { actor: options.actor } }),
  };
}

function revoked(keyId: string): WorkspaceEvent {
  return { type: 'ApiKeyRevoked', data: { keyId, revokedAt: earlier } };
}

function stateAfter(...events: WorkspaceEvent[]): WorkspaceState {
  const { initialState, evolve } = workspaceDecider;
  return events.reduce(evolve, initialState());
}

/** Given these events, when this command: the events it decides. */
function given(...events: WorkspaceEvent[]) {
  const state = stateAfter(...events);
  return { when: (command: WorkspaceCommand) => workspaceDecider.decide(command, state) };
}

function refusal(decide: () => unknown): { kind: string; reason: string; field?: string } {
  try {
    decide();
  } catch (error) {
    if (error instanceof DomainError) {
      return { kind: error.kind, reason: error.reason, field: error.field };
    }
    throw error;
  }
  throw new Error('expected the command to be refused');
}

const createWorkspace = (ownerKeyId = 'owner0001'): WorkspaceCommand => {
  const { role: _role, ...ownerKey } = newKey(ownerKeyId);
  return { type: 'CreateWorkspace', data: { name: 'Acme', ownerKey }, metadata };
};
const issue = (key: NewApiKey): WorkspaceCommand => ({ type: 'IssueApiKey', data: key, metadata });
const revoke = (keyId: string): WorkspaceCommand => ({
  type: 'RevokeApiKey',
  data: { keyId },
  metadata,
});

/** A workspace with its first owner key. */
const workspace = [created, issued('owner0001', 'owner')] as const;

function keyOf(state: WorkspaceState, keyId: string) {
  if (state.status !== 'Active') throw new Error('no workspace');
  const key = state.keys.get(keyId);
  if (!key) throw new Error(`no key ${keyId}`);
  return key;
}

describe('the workspace decider', () => {
  it('names one stream per workspace', () => {
    expect(workspaceStreamId('acme')).toBe('workspace-acme');
    expect(() => workspaceStreamId('a:b')).toThrow(DomainError);
  });

  describe('CreateWorkspace', () => {
    it('creates the workspace with its first key as an owner key, at the metadata’s time', () => {
      expect(given().when(createWorkspace())).toEqual([
        {
          type: 'WorkspaceCreated',
          data: { workspaceId: 'acme', name: 'Acme', createdAt: now.toISOString() },
        },
        {
          type: 'ApiKeyIssued',
          data: {
            keyId: 'owner0001',
            name: 'key owner0001',
            role: 'owner',
            secretHash: hashOf('owner0001'),
            issuedAt: now.toISOString(),
            expiresAt: null,
          },
        },
      ]);
    });

    it('refuses a workspace that exists (WORKSPACE_EXISTS)', () => {
      expect(refusal(() => given(...workspace).when(createWorkspace('owner0002')))).toEqual({
        kind: 'CONFLICT',
        reason: 'WORKSPACE_EXISTS',
        field: 'workspaceId',
      });
    });

    it('names the owner key’s field when its hash is not a SHA-256', () => {
      const command: WorkspaceCommand = {
        type: 'CreateWorkspace',
        data: {
          name: 'Acme',
          ownerKey: { keyId: 'owner0001', name: 'owner', secretHash: 'plain', expiresAt: null },
        },
        metadata,
      };
      expect(refusal(() => given().when(command))).toMatchObject({
        reason: 'INVALID_HASH',
        field: 'ownerKey.secretHash',
      });
    });
  });

  describe('IssueApiKey', () => {
    it('issues a key with its role and expiry', () => {
      const expiresAt = new Date('2026-04-01T00:00:00.000Z');
      expect(
        given(...workspace).when(issue(newKey('editor01', { role: 'editor', expiresAt }))),
      ).toEqual([
        {
          type: 'ApiKeyIssued',
          data: {
            keyId: 'editor01',
            name: 'key editor01',
            role: 'editor',
            secretHash: hashOf('editor01'),
            issuedAt: now.toISOString(),
            expiresAt: expiresAt.toISOString(),
          },
        },
      ]);
    });

    it('refuses a key when there is no workspace (NOT_FOUND)', () => {
      expect(refusal(() => given().when(issue(newKey('viewer01'))))).toMatchObject({
        kind: 'NOT_FOUND',
      });
    });

    it('refuses an unknown role (UNKNOWN_ROLE, on the role field)', () => {
      const key = newKey('viewer01', { role: 'admin' as ApiKeyRole });
      expect(refusal(() => given(...workspace).when(issue(key)))).toEqual({
        kind: 'BAD_USER_INPUT',
        reason: 'UNKNOWN_ROLE',
        field: 'role',
      });
    });

    it('refuses an expiry that is not in the future (IN_PAST), the present included', () => {
      for (const expiresAt of [new Date(now.getTime() - 1), now]) {
        expect(
          refusal(() => given(...workspace).when(issue(newKey('viewer01', { expiresAt })))),
        ).toEqual({ kind: 'BAD_USER_INPUT', reason: 'IN_PAST', field: 'expiresAt' });
      }
    });

    it('refuses an expiry that is not an instant (INVALID_DATE)', () => {
      const key = newKey('viewer01', { expiresAt: new Date('nonsense') });
      expect(refusal(() => given(...workspace).when(issue(key)))).toMatchObject({
        reason: 'INVALID_DATE',
        field: 'expiresAt',
      });
    });

    it('refuses a hash that is not the hex SHA-256 of a secret (INVALID_HASH)', () => {
      for (const secretHash of ['not-a-hash', hashOf('x').toUpperCase(), hashOf('x').slice(1)]) {
        const key = newKey('viewer01', { secretHash });
        expect(refusal(() => given(...workspace).when(issue(key)))).toEqual({
          kind: 'BAD_USER_INPUT',
          reason: 'INVALID_HASH',
          field: 'secretHash',
        });
      }
    });

    it('refuses a malformed key id (INVALID_ID)', () => {
      for (const keyId of ['short', 'has.a.dot.in.it', 'x'.repeat(33)]) {
        expect(refusal(() => given(...workspace).when(issue(newKey(keyId))))).toMatchObject({
          reason: 'INVALID_ID',
          field: 'keyId',
        });
      }
    });

    it('refuses a key id the workspace has, even a revoked one (KEY_EXISTS)', () => {
      expect(refusal(() => given(...workspace).when(issue(newKey('owner0001'))))).toEqual({
        kind: 'CONFLICT',
        reason: 'KEY_EXISTS',
        field: undefined,
      });
      const withRevoked = [...workspace, issued('viewer01', 'viewer'), revoked('viewer01')];
      expect(refusal(() => given(...withRevoked).when(issue(newKey('viewer01'))))).toMatchObject({
        reason: 'KEY_EXISTS',
      });
    });

    describe(`at ${workspaceLimits.maxActiveKeys} working keys`, () => {
      const full = [
        created,
        ...Array.from({ length: workspaceLimits.maxActiveKeys }, (_, index) =>
          issued(`key${String(index).padStart(5, '0')}`, index === 0 ? 'owner' : 'viewer'),
        ),
      ];

      it('refuses one more (TOO_MANY_KEYS)', () => {
        expect(refusal(() => given(...full).when(issue(newKey('onetoomany'))))).toEqual({
          kind: 'CONFLICT',
          reason: 'TOO_MANY_KEYS',
          field: undefined,
        });
      });

      it('issues one more once a key is revoked', () => {
        expect(given(...full, revoked('key00001')).when(issue(newKey('onemore01')))).toHaveLength(
          1,
        );
      });

      it('issues one more once a key has expired', () => {
        const withExpired = [
          ...full.slice(0, -1),
          issued('expired01', 'viewer', { expiresAt: earlier }),
        ];
        expect(given(...withExpired).when(issue(newKey('onemore01')))).toHaveLength(1);
      });
    });
  });

  describe('RevokeApiKey', () => {
    it('revokes a key at the metadata’s time', () => {
      expect(given(...workspace, issued('viewer01', 'viewer')).when(revoke('viewer01'))).toEqual([
        { type: 'ApiKeyRevoked', data: { keyId: 'viewer01', revokedAt: now.toISOString() } },
      ]);
    });

    it('refuses a key the workspace does not have (NOT_FOUND)', () => {
      expect(refusal(() => given(...workspace).when(revoke('unknown01')))).toEqual({
        kind: 'NOT_FOUND',
        reason: 'NOT_FOUND',
        field: 'id',
      });
    });

    it('decides nothing for a key revoked already', () => {
      const events = [...workspace, issued('viewer01', 'viewer'), revoked('viewer01')];
      expect(given(...events).when(revoke('viewer01'))).toEqual([]);
    });

    it('refuses the last working owner key (LAST_OWNER_KEY)', () => {
      const events = [...workspace, issued('editor01', 'editor')];
      expect(refusal(() => given(...events).when(revoke('owner0001')))).toEqual({
        kind: 'CONFLICT',
        reason: 'LAST_OWNER_KEY',
        field: undefined,
      });
    });

    it('revokes an owner key while another owner key works', () => {
      const events = [...workspace, issued('owner0002', 'owner')];
      expect(given(...events).when(revoke('owner0001'))).toEqual([
        { type: 'ApiKeyRevoked', data: { keyId: 'owner0001', revokedAt: now.toISOString() } },
      ]);
    });

    it('does not count an expired or a revoked owner key as another owner', () => {
      const expired = [...workspace, issued('owner0002', 'owner', { expiresAt: earlier })];
      expect(refusal(() => given(...expired).when(revoke('owner0001')))).toMatchObject({
        reason: 'LAST_OWNER_KEY',
      });
      const gone = [...workspace, issued('owner0002', 'owner'), revoked('owner0002')];
      expect(refusal(() => given(...gone).when(revoke('owner0001')))).toMatchObject({
        reason: 'LAST_OWNER_KEY',
      });
    });

    it('revokes an expired owner key, which no longer works anyway', () => {
      const events = [...workspace, issued('owner0002', 'owner', { expiresAt: earlier })];
      expect(given(...events).when(revoke('owner0002'))).toHaveLength(1);
    });
  });

  describe('evolve', () => {
    it('records who issued a key from the event’s metadata.actor, and null without one', () => {
      const state = stateAfter(
        created,
        issued('owner0001', 'owner'),
        issued('viewer01', 'viewer', { actor: 'key:owner0001' }),
      );
      expect(keyOf(state, 'owner0001').issuedBy).toBeNull();
      expect(keyOf(state, 'viewer01')).toMatchObject({
        keyId: 'viewer01',
        role: 'viewer',
        issuedBy: 'key:owner0001',
        issuedAt: new Date(earlier),
        expiresAt: null,
        revokedAt: null,
      });
    });

    it('marks a revoked key with its instant', () => {
      const state = stateAfter(...workspace, issued('viewer01', 'viewer'), revoked('viewer01'));
      expect(keyOf(state, 'viewer01').revokedAt).toEqual(new Date(earlier));
    });

    it('ignores key events before the workspace and revocations of unknown keys', () => {
      expect(stateAfter(issued('viewer01', 'viewer'))).toEqual({ status: 'None' });
      expect(stateAfter(...workspace, revoked('unknown01'))).toEqual(stateAfter(...workspace));
    });
  });

  describe('isKeyActive', () => {
    const expiring = keyOf(
      stateAfter(created, issued('viewer01', 'viewer', { expiresAt: now.toISOString() })),
      'viewer01',
    );

    it('holds before the expiry and not from it on', () => {
      expect(isKeyActive(expiring, new Date(now.getTime() - 1))).toBe(true);
      expect(isKeyActive(expiring, now)).toBe(false);
      expect(isKeyActive(expiring, new Date(now.getTime() + 1))).toBe(false);
    });

    it('holds forever without an expiry, and never once revoked', () => {
      const forever = keyOf(stateAfter(...workspace), 'owner0001');
      expect(isKeyActive(forever, new Date('2999-01-01T00:00:00.000Z'))).toBe(true);
      const gone = keyOf(
        stateAfter(...workspace, issued('viewer01', 'viewer'), revoked('viewer01')),
        'viewer01',
      );
      expect(isKeyActive(gone, new Date(earlier))).toBe(false);
    });
  });

  describe('roleMay', () => {
    const table: Record<ApiKeyRole, Record<Capability, boolean>> = {
      owner: { read: true, command: true, ingest: true, administer: true },
      editor: { read: true, command: true, ingest: true, administer: false },
      viewer: { read: true, command: false, ingest: false, administer: false },
      ingest: { read: false, command: false, ingest: true, administer: false },
    };

    it.each(apiKeyRoles.flatMap((role) => Object.keys(table[role]).map((c) => [role, c])))(
      'a %s key may %s: as the table says',
      (role, capability) => {
        const r = role as ApiKeyRole;
        const c = capability as Capability;
        expect(roleMay(r, c)).toBe(table[r][c]);
      },
    );
  });
});
