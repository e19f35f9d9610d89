/**
 * Serves until SIGINT or SIGTERM, then shuts down gracefully: the one way `npm start` and
 * `touchline serve` run the server.
 */
import { loadConfig } from './config';
import { createLogger } from './logger';
import { startServer } from './server';

export async function serveUntilSignalled(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'signal received');
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
