/**
 * A key for a benchmark's requests: a new workspace on the server (as `touchline init` makes
 * one) and, for another role than owner, a key of that role in it.
 */
import { randomUUID } from 'node:crypto';
import type { ApiKeyRole } from '../../src/domain/workspace';
import type { RunningServer } from '../../src/infra/server';

export async function workspaceKey(
  server: RunningServer,
  workspaceId: string,
  role: ApiKeyRole,
): Promise<string> {
  const metadata = () => ({
    workspaceId,
    commandId: randomUUID(),
    now: new Date(),
    actor: 'bench',
  });
  const owner = await server.accessControl.createWorkspace(metadata(), workspaceId);
  if (role === 'owner') return owner.token;
  const issued = await server.accessControl.issueKey(metadata(), {
    name: `bench ${role}`,
    role,
    expiresAt: null,
  });
  return issued.token;
}
