/**
 * The configuration of a server a benchmark starts on a data directory of its own: the
 * benchmark's defaults, then any TOUCHLINE_* setting it was given (e.g. the batch size), on a
 * free loopback port.
 */
import { type Config, loadConfig } from '../../src/infra/config';

export function benchConfig(dataDir: string, defaults: Record<string, string> = {}): Config {
  return loadConfig({
    ...defaults,
    ...Object.fromEntries(
      Object.entries(process.env).filter(([name]) => name.startsWith('TOUCHLINE_')),
    ),
    NODE_ENV: 'test',
    TOUCHLINE_DATA_DIR: dataDir,
    TOUCHLINE_PORT: '0',
    TOUCHLINE_HOST: '127.0.0.1',
  });
}
