/**
 * The `touchline` program in a child process: a command that runs to its exit code
 * (`runTouchline`), or a long-running one, such as `serve`, whose JSON log lines a test or a
 * benchmark waits on (`startTouchline`). From TypeScript sources (tests) it is compiled on
 * the fly with @swc/core, as the worker threads are; compiled (benchmarks), the compiled
 * program beside this module runs as is.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Run } from './cli-run';

const runningFromSources = path.extname(__filename) === '.ts';
/** The repository, or the folder the benchmarks are compiled to. */
const repositoryRoot = path.resolve(__dirname, '../..');
const program = path.join(repositoryRoot, 'src/infra/cli/touchline.js');

const bootstrap = `
  const fs = require('node:fs');
  const { transformSync } = require('@swc/core');
  require.extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
      filename,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    });
    module._compile(code, filename);
  };
  require(${JSON.stringify(path.join(repositoryRoot, 'src/infra/cli/touchline.ts'))});
`;

type TouchlineChild = ChildProcessByStdio<null, Readable, Readable>;

function spawnTouchline(args: readonly string[], env: Record<string, string>): TouchlineChild {
  const entry = runningFromSources ? ['-e', bootstrap] : [program];
  return spawn(process.execPath, [...entry, ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a `touchline` command to its end, with its output captured. */
export function runTouchline(args: readonly string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnTouchline(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** One JSON line of a process's log (pino). */
export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string };

/** A `touchline` process that runs until stopped, with its log read line by line. */
export class TouchlineProcess {
  readonly pid: number;
  /** The JSON lines of standard output so far, in order. */
  readonly logLines: LogLine[] = [];
  private stdout = '';
  private stderr = '';
  private partialLine = '';
  private exitCode: number | null | undefined = undefined;
  private readonly listeners = new Set<() => void>();
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    private readonly child: TouchlineChild,
  ) {
    if (child.pid === undefined) throw new Error(`${name} did not start`);
    this.pid = child.pid;
    child.stdout.on('data', (chunk: Buffer) => this.read(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        this.tell();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Everything the process wrote, for failure messages. */
  output(): string {
    return `--- ${this.name} (pid ${this.pid}) stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /**
   * The first log line (from the start) that `matches`, once it is written; fails with the
   * output when the process exits first or the bound passes.
   */
  waitForLog(
    matches: (line: LogLine) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.logLines.find(matches);
        if (line) settle(() => resolve(line));
        else if (!this.running) settle(() => reject(this.failure(`exited before ${what}`)));
      };
      const timer = setTimeout(
        () => settle(() => reject(this.failure(`no ${what} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        done();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** SIGKILL, as a crash: no shutdown at all. Resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const tooLate = await Promise.race([this.exited.then(() => false), late]);
    clearTimeout(timer);
    if (tooLate) await this.kill();
  }

  private failure(problem: string): Error {
    return new Error(`${this.name} ${problem}\n${this.output()}`);
  }

  private read(text: string): void {
    this.stdout += text;
    const lines = (this.partialLine + text).split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        this.logLines.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line (the program's own output may start with a brace): kept in stdout.
      }
    }
    this.tell();
  }

  private tell(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Starts a long-running `touchline` command, e.g. `serve --role api`. */
export function startTouchline(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
): TouchlineProcess {
  return new TouchlineProcess(name, spawnTouchline(args, env));
}
