/**
 * Serves until SIGINT or SIGTERM, then shuts down gracefully (exit code 0); when the projections
 * stop for good (the projector thread died), shuts down with exit code 1 so that a supervisor
 * restarts the process from the checkpoints. The one way `npm start` and
 * `touchline serve` run, in any role (`TOUCHLINE_ROLE` or `--role`).
 */
import { type Config, loadConfig } from './config';
import { createLogger } from './logger';
import { startProjectorProcess } from './projector-process';
import { startServer } from './server';

export async function serveUntilSignalled(
  overrides: Partial<Pick<Config, 'role'>> = {},
): Promise<void> {
  const config: Config = { ...loadConfig(), ...overrides };
  const logger = createLogger(config.logLevel).child({ role: config.role });
  const stop = (exitCode: number) =>
    running.stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  const running =
    config.role === 'projector'
      ? await startProjectorProcess(config, logger)
      : await startServer(config, logger, {
          // Shown on the terminal once, never through the logger: logs must not hold keys.
          onOwnerKeyCreated: (workspaceId, token) => {
            process.stdout.write(
              `\nCreated workspace "${workspaceId}". Its owner key, shown this once:\n\n  ${token}\n\nSend it as \`Authorization: Bearer <key>\`; create other keys with the createApiKey mutation.\n\n`,
            );
          },
          onProjectionsLost: () => {
            logger.fatal('the projections stopped: shutting down so that the process is restarted');
            void stop(1);
          },
        });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'signal received');
    void stop(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
