/**
 * A progress bar for long work on the command line, on standard error so that standard
 * output stays the data. On a terminal one line is redrawn in place, at most ten times a
 * second; elsewhere (a pipe, a CI log) a plain line is written every few seconds, so a log
 * is not flooded. `finish` always writes the final state on a line of its own.
 */

/** What the bar writes to: standard error, or a stand-in in tests. */
export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  readonly stream: ProgressStream;
  /** Shown first on the line, e.g. the projection's name. */
  readonly label: string;
  /** What is counted, plural: `events`, `positions`. */
  readonly unit: string;
  readonly now?: () => number;
  /** Least time between two redraws on a terminal. */
  readonly redrawMs?: number;
  /** Least time between two plain lines elsewhere. */
  readonly plainLineMs?: number;
}

const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastDrawnAt = -Infinity;
  private current = 0;
  private total = 0;
  private detail = '';
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    // Elsewhere than on a terminal, work that ends quickly writes its final line only.
    if (options.stream.isTTY !== true) this.lastDrawnAt = this.startedAt;
  }

  /** Records where the work is; redraws when the last redraw is old enough. */
  update(current: number, total: number, detail = ''): void {
    this.current = current;
    this.total = total;
    this.detail = detail;
    const tty = this.options.stream.isTTY === true;
    const interval = tty ? (this.options.redrawMs ?? 100) : (this.options.plainLineMs ?? 2000);
    if (this.finished || this.now() - this.lastDrawnAt < interval) return;
    this.draw(false);
  }

  /** Writes the final state and ends the line; later updates write nothing. */
  finish(detail?: string): void {
    if (this.finished) return;
    if (detail !== undefined) this.detail = detail;
    this.draw(true);
    this.finished = true;
  }

  /** The line as drawn now (without terminal control characters). */
  line(done = false): string {
    const { current, total } = this;
    const fraction = total > 0 ? Math.min(1, Math.max(0, current / total)) : done ? 1 : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = Math.max((this.now() - this.startedAt) / 1000, 0.001);
    const rate = current / seconds;
    const eta = done ? '' : rate > 0 ? `  ETA ${duration((total - current) / rate)}` : '  ETA ?';
    const parts = [
      `${this.options.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
      `${Math.floor(fraction * 100)
        .toString()
        .padStart(3)}%`,
      `${count(current)}/${count(total)} ${this.options.unit}`,
      `${count(Math.round(rate))}/s${done ? ` in ${duration(seconds)}` : eta}`,
    ];
    if (this.detail) parts.push(this.detail);
    return parts.join('  ');
  }

  private draw(done: boolean): void {
    this.lastDrawnAt = this.now();
    const line = this.line(done);
    const { stream } = this.options;
    if (stream.isTTY !== true) {
      stream.write(`${line}\n`);
      return;
    }
    // Cut to the terminal's width, so a long line never wraps and leaves copies behind.
    const width = stream.columns ?? 0;
    const shown = width > 1 && line.length >= width ? line.slice(0, width - 1) : line;
    stream.write(`\r${shown}\x1b[K${done ? '\n' : ''}`);
  }
}

/** `1,234,567` */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `12s`, `3m05s`, `1h02m` */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
