/**
 * Starts a worker thread from a module next to the caller. The compiled module (dist) runs
 * as is; from TypeScript sources (tests) the thread compiles its modules on the fly with
 * @swc/core, a development dependency.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The ingestion and projector threads allocate short-lived objects at a high rate (parsed
 * messages, decoded events, document copies): a young generation larger than V8's default
 * lets most of them die there instead of being copied into the old generation. Measured by
 * `npm run bench` (ingestion): about a tenth more accepted and projected events per second.
 */
const resourceLimits = { maxYoungGenerationSizeMb: 64 };

export function startThread(directory: string, moduleName: string, workerData: unknown): Worker {
  const runningFromSources = path.extname(__filename) === '.ts';
  const entry = path.join(directory, `${moduleName}${runningFromSources ? '.ts' : '.js'}`);
  if (!runningFromSources) return new Worker(entry, { workerData, resourceLimits });
  const bootstrap = `
    const fs = require('node:fs');
    const { transformSync } = require('@swc/core');
    require.extensions['.ts'] = (module, filename) => {
      const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
        filename,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      });
      module._compile(code, filename);
    };
    require(${JSON.stringify(entry)});
  `;
  return new Worker(bootstrap, { eval: true, workerData, resourceLimits });
}
