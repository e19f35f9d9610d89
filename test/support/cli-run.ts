/** Running a command-line command in process, with its output captured. */
import { Writable } from 'node:stream';
import type { CliContext } from '../../src/infra/cli/cli-context';
import type { Config } from '../../src/infra/config';
import { createLogger } from '../../src/infra/logger';

/** A non-TTY stream that keeps what is written (the progress bar then writes plain lines). */
export class Capture extends Writable {
  text = '';
  readonly isTTY = false;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with this configuration and captured standard output and error. */
export async function runCli(
  config: Config,
  command: (context: CliContext) => Promise<number>,
  now: () => number = Date.now,
): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await command({ config, stdout, stderr, logger: createLogger('silent'), now });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
