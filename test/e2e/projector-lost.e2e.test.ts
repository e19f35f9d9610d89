/**
 * A projector thread that dies (a crash, its heap exhausted) is not hidden: the server hears of
 * it, so that `serve` can stop the process with a failure code for a supervisor to restart.
 */
import type { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';
import { startServer } from '../../src/infra/server';
import { temporaryDataDir } from './harness';

describe('a projector thread that dies', () => {
  it('is reported to the server, and the server still stops cleanly', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      TOUCHLINE_DATA_DIR: temporaryDataDir(),
      TOUCHLINE_PORT: '0',
      TOUCHLINE_HOST: '127.0.0.1',
    });
    let lost: () => void = () => undefined;
    const reported = new Promise<void>((resolve) => {
      lost = resolve;
    });
    const server = await startServer(config, createLogger('silent'), {
      onProjectionsLost: () => lost(),
    });
    try {
      // As if it crashed: the thread ends without having been asked to close.
      const { worker } = server.projectorThread as unknown as { worker: Worker };
      await worker.terminate();
      await reported;
    } finally {
      await server.stop();
    }
  });
});
