/**
 * `touchline status [--json]`: each projection's version, serving generation, position, the
 * log's head, the events it has still to apply, its lag and state, read from the configured
 * stores. It writes nothing, so it may run beside a server on the same embedded stores
 * (SQLite in WAL mode lets a second process read while the server writes).
 */
import { projectionDeclarations } from '../../projections/catalog';
import { EXIT_OK, runCommand, withStores, type CliContext } from '../cli-context';
import { count, duration } from '../progress';
import { storedProjectionStatuses, type StoredProjectionStatus } from '../projection-status';

export interface StatusOptions {
  readonly json?: boolean;
}

export function runStatus(options: StatusOptions, context: CliContext): Promise<number> {
  return runCommand(context, 'status', async () => {
    const statuses = await withStores(context.config, (stores) =>
      storedProjectionStatuses({
        ...stores,
        projections: projectionDeclarations,
        now: context.now,
      }),
    );
    context.stdout.write(options.json ? statusJson(statuses) : statusTable(statuses));
    return EXIT_OK;
  });
}

/** One JSON document; positions as strings, `null` before the first event. */
export function statusJson(statuses: readonly StoredProjectionStatus[]): string {
  const position = (value: bigint) => (value >= 0n ? value.toString() : null);
  return `${JSON.stringify(
    {
      headPosition: position(statuses[0]?.headPosition ?? -1n),
      projections: statuses.map((status) => ({
        name: status.name,
        version: status.version,
        generation: status.generation,
        state: status.state,
        position: position(status.position),
        headPosition: position(status.headPosition),
        eventsBehind: status.eventsBehind,
        eventsBehindExact: status.eventsBehindExact,
        lagMs: status.lagMs,
        rebuild: status.rebuild && {
          generation: status.rebuild.generation,
          position: position(status.rebuild.position),
        },
        worker: status.worker,
      })),
    },
    null,
    2,
  )}\n`;
}

const columns = [
  'projection',
  'version',
  'generation',
  'position',
  'head',
  'behind',
  'lag',
  'state',
  'worker',
] as const;

export function statusTable(statuses: readonly StoredProjectionStatus[]): string {
  const rows = statuses.map((status) => [
    status.name,
    String(status.version),
    String(status.generation),
    status.position >= 0n ? status.position.toString() : '-',
    status.headPosition >= 0n ? status.headPosition.toString() : '-',
    `${count(status.eventsBehind)}${status.eventsBehindExact ? '' : '+'}`,
    status.lagMs > 0 ? duration(status.lagMs / 1000) : '0s',
    status.rebuild
      ? `${status.state} (g${status.rebuild.generation} at ${status.rebuild.position.toString()})`
      : status.state,
    status.worker ?? '-',
  ]);
  const widths = columns.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index].length)),
  );
  const numeric = new Set([1, 2, 3, 4, 5, 6]);
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) =>
        numeric.has(index) ? cell.padStart(widths[index]) : cell.padEnd(widths[index]),
      )
      .join('  ')
      .trimEnd();
  return `${[line(columns), ...rows.map(line)].join('\n')}\n`;
}
