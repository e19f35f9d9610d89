import { duration, ProgressBar, type ProgressStream } from '../../src/infra/cli/progress';

function stream(isTTY: boolean, columns?: number): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  return {
    chunks,
    isTTY,
    ...(columns !== undefined && { columns }),
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
  };
}

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('the progress bar', () => {
  it('shows the share done, the counts, the rate and the time left', () => {
    const time = clock();
    const bar = new ProgressBar({
      stream: stream(true),
      label: 'export',
      unit: 'positions',
      now: time.now,
    });
    time.advance(2_000);
    bar.update(500, 2_000, '120 events');
    expect(bar.line()).toBe(
      'export [######------------------]   25%  500/2,000 positions  250/s  ETA 6s  120 events',
    );
  });

  it('on a terminal, redraws one line in place at most ten times a second', () => {
    const time = clock();
    const output = stream(true);
    const bar = new ProgressBar({ stream: output, label: 'p', unit: 'events', now: time.now });
    bar.update(1, 10);
    bar.update(2, 10);
    time.advance(50);
    bar.update(3, 10);
    time.advance(60);
    bar.update(4, 10);
    expect(output.chunks).toHaveLength(2);
    expect(output.chunks.every((chunk) => chunk.startsWith('\r') && !chunk.endsWith('\n'))).toBe(
      true,
    );
    bar.finish();
    expect(output.chunks).toHaveLength(3);
    expect(output.chunks[2]).toMatch(/^\rp \[.*\]\s+40%.*in 0s/);
    expect(output.chunks[2].endsWith('\x1b[K\n')).toBe(true);
  });

  it('cuts a line to the terminal width so that it never wraps', () => {
    const output = stream(true, 20);
    const bar = new ProgressBar({
      stream: output,
      label: 'a-long-projection-name',
      unit: 'events',
    });
    bar.update(1, 2);
    expect(output.chunks[0]).toBe(`\r${'a-long-projection-name'.slice(0, 19)}\x1b[K`);
  });

  it('elsewhere, writes plain lines, a few seconds apart, and the final one', () => {
    const time = clock();
    const output = stream(false);
    const bar = new ProgressBar({ stream: output, label: 'p', unit: 'events', now: time.now });
    bar.update(1, 10);
    time.advance(1_000);
    bar.update(2, 10);
    time.advance(1_500);
    bar.update(3, 10);
    bar.update(4, 10);
    bar.finish('done');
    bar.update(5, 10);
    expect(output.chunks).toHaveLength(2);
    expect(output.chunks.every((chunk) => !chunk.includes('\r') && chunk.endsWith('\n'))).toBe(
      true,
    );
    expect(output.chunks[0]).toMatch(/30%/);
    expect(output.chunks[1]).toMatch(/40%.*done\n$/);
  });

  it('reads an empty piece of work as done once finished', () => {
    const output = stream(false);
    const bar = new ProgressBar({ stream: output, label: 'p', unit: 'events' });
    bar.finish();
    expect(output.chunks[0]).toMatch(/\[#{24}\]\s+100%\s+0\/0 events/);
  });

  it.each([
    [0.4, '0s'],
    [12, '12s'],
    [185, '3m05s'],
    [3_720, '1h02m'],
    [Infinity, '?'],
  ])('tells %s seconds as %s', (seconds, told) => {
    expect(duration(seconds)).toBe(told);
  });
});
