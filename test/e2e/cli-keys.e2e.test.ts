/**
 * How a workspace gets its first key: `touchline init` writes it into the data directory and
 * prints its owner key, `touchline key` prints a key for TOUCHLINE_OWNER_KEY that the server
 * makes an owner key at start. The commands run in this process with captured output, against
 * the data directory of a real server.
 */
import { workspaceStreamId } from '../../src/domain/workspace';
import { parseToken } from '../../src/infra/access/api-key-token';
import { type CliContext, EXIT_OK, EXIT_USAGE } from '../../src/infra/cli/cli-context';
import { type InitOptions, runInit, runKey } from '../../src/infra/cli/commands/init';
import { loadConfig } from '../../src/infra/config';
import { type Run, runCli } from '../support/cli-run';
import { graphQLError, startTestServer, temporaryDataDir, type TestServer } from './harness';

function run(dataDir: string, command: (context: CliContext) => Promise<number>): Promise<Run> {
  return runCli(loadConfig({ NODE_ENV: 'test', TOUCHLINE_DATA_DIR: dataDir }), command);
}

const init = (dataDir: string, options: InitOptions = {}) =>
  run(dataDir, (context) => runInit(options, context));
const key = (dataDir: string, workspace?: string) =>
  run(dataDir, (context) => runKey({ workspace }, context));

/** The one line a command printed on standard output: a key. */
function printedKey(output: Run): string {
  expect(output.stdout).toMatch(/^tl\.[^\n]+\n$/);
  return output.stdout.trim();
}

const ME = 'query { me { workspaceId keyId role } workspace { id name } }';
interface Me {
  me: { workspaceId: string; keyId: string; role: string };
  workspace: { id: string; name: string };
}

describe('keys from the command line', () => {
  let touchline: TestServer | null = null;

  afterEach(async () => {
    await touchline?.stop();
    touchline = null;
  });

  async function workspaceEvents(workspaceId: string): Promise<string[]> {
    if (!touchline) throw new Error('no server');
    const events = await touchline.server.eventStore.readStream(workspaceStreamId(workspaceId));
    return events.map((event) => event.type);
  }

  describe('touchline init', () => {
    it('creates the workspace and prints an owner key that a server on the same data accepts', async () => {
      const dataDir = temporaryDataDir();
      const created = await init(dataDir, { workspace: 'acme', name: 'Acme Corp' });
      expect(created.code).toBe(EXIT_OK);
      const owner = printedKey(created);
      expect(created.stderr).toContain('created workspace acme');
      expect(created.stderr).not.toContain(owner);
      const parsed = parseToken(owner);
      expect(parsed).toMatchObject({ workspaceId: 'acme' });

      touchline = await startTestServer(dataDir);
      const answer = await touchline.clientWithKey(owner).request<Me>(ME);
      expect(answer).toEqual({
        me: { workspaceId: 'acme', keyId: parsed?.keyId, role: 'OWNER' },
        workspace: { id: 'acme', name: 'Acme Corp' },
      });
      const keys = await touchline.clientWithKey(owner).request<{
        apiKeys: { id: string; createdBy: string | null }[];
      }>('query { apiKeys { id createdBy } }');
      expect(keys.apiKeys).toEqual([{ id: parsed?.keyId, createdBy: 'cli:init' }]);
    });

    it('names the default workspace when given none', async () => {
      const dataDir = temporaryDataDir();
      const created = await init(dataDir);
      expect(created.code).toBe(EXIT_OK);
      expect(parseToken(printedKey(created))).toMatchObject({ workspaceId: 'default' });
    });

    it('refuses a workspace that exists with exit code 2, beside a running server, and prints no key', async () => {
      const dataDir = temporaryDataDir();
      const first = printedKey(await init(dataDir, { workspace: 'acme' }));
      touchline = await startTestServer(dataDir);

      const again = await init(dataDir, { workspace: 'acme' });
      expect(again).toEqual({
        code: EXIT_USAGE,
        stdout: '',
        stderr: expect.stringContaining('workspace acme already exists'),
      });
      expect(await workspaceEvents('acme')).toEqual(['WorkspaceCreated', 'ApiKeyIssued']);
      expect((await touchline.clientWithKey(first).request<Me>(ME)).me.role).toBe('OWNER');

      // Another workspace made while the server runs is accepted by it at once.
      const other = printedKey(await init(dataDir, { workspace: 'globex' }));
      expect((await touchline.clientWithKey(other).request<Me>(ME)).me).toMatchObject({
        workspaceId: 'globex',
        role: 'OWNER',
      });
    });

    it('refuses a workspace id that is not one with exit code 2', async () => {
      const refused = await init(temporaryDataDir(), { workspace: 'a b' });
      expect(refused).toEqual({
        code: EXIT_USAGE,
        stdout: '',
        stderr: expect.stringContaining('--workspace'),
      });
    });
  });

  describe('touchline key and TOUCHLINE_OWNER_KEY', () => {
    it('prints a new, parseable key each time without writing anything', async () => {
      const dataDir = temporaryDataDir();
      const [one, two] = [await key(dataDir, 'acme'), await key(dataDir, 'acme')];
      expect(one.code).toBe(EXIT_OK);
      expect(parseToken(printedKey(one))).toMatchObject({ workspaceId: 'acme' });
      expect(printedKey(one)).not.toBe(printedKey(two));
      expect(parseToken(printedKey(await key(dataDir)))).toMatchObject({ workspaceId: 'default' });
      expect((await key(dataDir, 'a/b')).code).toBe(EXIT_USAGE);
    });

    it('makes the configured key an owner key of a new workspace, once across restarts', async () => {
      const dataDir = temporaryDataDir();
      const owner = printedKey(await key(dataDir, 'acme'));
      const env = { TOUCHLINE_OWNER_KEY: owner };

      touchline = await startTestServer(dataDir, env);
      expect(await touchline.clientWithKey(owner).request<Me>(ME)).toMatchObject({
        me: { workspaceId: 'acme', keyId: parseToken(owner)?.keyId, role: 'OWNER' },
        workspace: { id: 'acme' },
      });
      await touchline.stop();

      touchline = await startTestServer(dataDir, env);
      expect((await touchline.clientWithKey(owner).request<Me>(ME)).me.role).toBe('OWNER');
      expect(await workspaceEvents('acme')).toEqual(['WorkspaceCreated', 'ApiKeyIssued']);
    });

    it('adds the configured key to a workspace init made, and does not bring it back once revoked', async () => {
      const dataDir = temporaryDataDir();
      const first = printedKey(await init(dataDir, { workspace: 'acme' }));
      const configured = printedKey(await key(dataDir, 'acme'));
      const env = { TOUCHLINE_OWNER_KEY: configured };

      touchline = await startTestServer(dataDir, env);
      expect((await touchline.clientWithKey(configured).request<Me>(ME)).me.role).toBe('OWNER');
      expect((await touchline.clientWithKey(first).request<Me>(ME)).me.role).toBe('OWNER');
      await touchline.stop();

      touchline = await startTestServer(dataDir, env);
      expect(await workspaceEvents('acme')).toEqual([
        'WorkspaceCreated',
        'ApiKeyIssued',
        'ApiKeyIssued',
      ]);
      await touchline
        .clientWithKey(first)
        .request('mutation Revoke($id: ID!) { revokeApiKey(id: $id) { key { status } } }', {
          id: parseToken(configured)?.keyId,
        });
      await touchline.stop();

      touchline = await startTestServer(dataDir, env);
      expect(await graphQLError(touchline.clientWithKey(configured).request(ME))).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'REVOKED_KEY',
        status: 401,
      });
      expect(await workspaceEvents('acme')).toEqual([
        'WorkspaceCreated',
        'ApiKeyIssued',
        'ApiKeyIssued',
        'ApiKeyRevoked',
      ]);
    });

    it('refuses to start with a configured key that is not a key', () => {
      expect(() => loadConfig({ TOUCHLINE_OWNER_KEY: 'not-a-key' })).toThrow(/TOUCHLINE_OWNER_KEY/);
    });
  });
});
