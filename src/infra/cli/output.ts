/**
 * Where a command writes its data: standard output, or a file created only once the input
 * has been accepted. `close` ends a file and waits until it is on disk; a write that failed
 * (a full disk, a file that cannot be created) is reported there.
 */
import fs from 'node:fs';
import type { ExportOutput } from '../export/event-export';

export interface CommandOutput {
  readonly stream: ExportOutput;
  /** Ends a file (standard output stays open); rejects with the first write error. */
  close(): Promise<void>;
}

export function openOutput(stdout: NodeJS.WritableStream, file: string | undefined): CommandOutput {
  let failure: Error | null = null;
  if (file === undefined) {
    // A reader that stopped early (`| head`) is not a failure: the writing just stops.
    const onError = (error: Error) => {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') failure ??= error;
    };
    stdout.on('error', onError);
    return {
      stream: stdout,
      async close() {
        stdout.off('error', onError);
        if (failure) throw failure;
      },
    };
  }
  const stream = fs.createWriteStream(file);
  stream.on('error', (error) => (failure ??= error));
  return {
    stream,
    async close() {
      if (!stream.closed) {
        await new Promise<void>((resolve) => {
          stream.once('close', resolve);
          stream.end();
        });
      }
      if (failure) throw failure;
    },
  };
}
