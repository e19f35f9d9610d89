/**
 * `touchline replay --projection NAME`: rebuilds one projection from the log in the
 * configured stores into a new generation; the old one serves until the new one has caught
 * up with the head as it was when the rebuild started, then the new one takes over and the
 * command exits 0. It refuses to run while another process (a server) has the embedded
 * stores open: that server keeps the read models in memory and would not see the switch.
 *
 * `touchline replay --projection NAME --until DATE`: the projection replayed over the log up
 * to that record-time instant into a throw-away store in memory, its documents written as
 * NDJSON (`{"collection": …, "document": …}` a line); the configured stores are only read.
 */
import { isoDate, write } from '../../export/event-export';
import { replayProjections } from '../../history/replay';
import { projectionDeclarations, projectionsReading } from '../../projections/catalog';
import { ChangeFeed } from '../../projections/change-feed';
import { ProjectionManager, type RebuildProgress } from '../../projections/projection-manager';
import {
  EXIT_FAILED,
  EXIT_OK,
  runCommand,
  UsageError,
  withStores,
  type CliContext,
} from '../cli-context';
import { embeddedStoresInUse } from '../embedded-lock';
import { openOutput } from '../output';
import { count, ProgressBar } from '../progress';
import { readRegistry, servingCollection } from '../projection-status';

export interface ReplayOptions {
  readonly projection: string;
  readonly until?: string;
  readonly out?: string;
}

/** Documents written to the output in one chunk. */
const DOCUMENTS_PER_WRITE = 500;

export function runReplay(options: ReplayOptions, context: CliContext): Promise<number> {
  return runCommand(context, 'replay', async () => {
    const names = projectionDeclarations.map(({ name }) => name);
    if (!names.includes(options.projection)) {
      throw new UsageError(
        `there is no projection named "${options.projection}"; the projections are: ${names.join(', ')}`,
      );
    }
    if (options.until === undefined) {
      if (options.out !== undefined) {
        throw new UsageError('--out goes with --until (a rebuild writes to the read store)');
      }
      return rebuild(options.projection, context);
    }
    const instant = isoDate('--until', options.until) as Date;
    return replayUntil(options.projection, instant, options.out, context);
  });
}

async function rebuild(name: string, context: CliContext): Promise<number> {
  const { config, stderr } = context;
  const busy = embeddedStoresInUse(config);
  if (busy.length > 0) {
    stderr.write(
      `touchline replay: ${busy.join(' and ')} ${busy.length > 1 ? 'are' : 'is'} open in another process (a running server?); stop it first, or rebuild through its rebuildProjection mutation\n`,
    );
    return EXIT_FAILED;
  }
  return withStores(config, async ({ eventStore, readStore }) => {
    const registry = await readRegistry(readStore);
    // Its pinned inputs (funnel definitions, attribution settings) are read from the
    // generations that serve them.
    const physical = servingCollection(registry, projectionDeclarations);
    const projection = projectionsReading(readStore, physical).find(
      (candidate) => candidate.name === name,
    );
    if (!projection) throw new Error(`the projection ${name} is not in the catalog`);
    const changeFeed = new ChangeFeed();
    const manager = new ProjectionManager({
      eventStore,
      readStore,
      projections: [projection],
      changeFeed,
      batchSize: config.projectionBatchSize,
      logger: context.logger,
      now: context.now,
    });
    await manager.start();
    let finished: RebuildProgress;
    try {
      const started = await manager.rebuild(name);
      stderr.write(
        `touchline replay: rebuilding ${name} into generation ${started.generation} up to position ${started.targetPosition.toString()}\n`,
      );
      finished = await untilTakenOver(manager, changeFeed, name, context);
    } finally {
      // Stopping waits for the switch to finish: the registry then names the new generation.
      await manager.stop();
    }
    stderr.write(
      `touchline replay: generation ${finished.generation} of ${name} serves (${count(finished.eventsProcessed)} events applied)\n`,
    );
    return EXIT_OK;
  });
}

/** Draws the rebuild's progress after each batch until the new generation has taken over. */
function untilTakenOver(
  manager: ProjectionManager,
  changeFeed: ChangeFeed,
  name: string,
  context: CliContext,
): Promise<RebuildProgress> {
  const bar = new ProgressBar({
    stream: context.stderr,
    label: name,
    unit: 'positions',
    now: context.now,
  });
  const draw = (progress: RebuildProgress) =>
    bar.update(
      Number(progress.position > 0n ? progress.position : 0n),
      Number(progress.targetPosition > 0n ? progress.targetPosition : 0n),
      `${count(progress.eventsProcessed)} events applied`,
    );
  return new Promise((resolve) => {
    const check = () => {
      const progress = manager.rebuildProgress(name);
      if (!progress) return;
      draw(progress);
      if (!progress.done) return;
      unlisten();
      clearInterval(timer);
      bar.finish();
      resolve(progress);
    };
    const unlisten = changeFeed.listen(check);
    // Redraws while a long batch runs, and sees a switch that came before listening.
    const timer = setInterval(check, 200);
    check();
  });
}

async function replayUntil(
  name: string,
  instant: Date,
  out: string | undefined,
  context: CliContext,
): Promise<number> {
  return withStores(context.config, async ({ eventStore }) => {
    const until = await eventStore.positionAt(instant);
    const bar = new ProgressBar({
      stream: context.stderr,
      label: name,
      unit: 'positions',
      now: context.now,
    });
    const total = Number(until > 0n ? until : 0n);
    const replayed = await replayProjections({
      eventStore,
      projections: [name],
      until,
      onProgress: (progress) =>
        bar.update(
          Number(progress.position),
          total,
          `${progress.projection}: ${count(progress.eventsProcessed)} events applied`,
        ),
    });
    bar.update(total, total);
    bar.finish(`up to position ${until.toString()}`);
    const output = openOutput(context.stdout, out);
    try {
      const owned = projectionDeclarations.find((projection) => projection.name === name);
      for (const collection of owned?.collections ?? []) {
        let lines: string[] = [];
        for await (const document of replayed.documents(collection)) {
          lines.push(`${JSON.stringify({ collection, document })}\n`);
          if (lines.length >= DOCUMENTS_PER_WRITE) {
            await write(output.stream, lines.join(''));
            lines = [];
          }
        }
        if (lines.length > 0) await write(output.stream, lines.join(''));
      }
    } finally {
      await replayed.close();
      await output.close();
    }
    return EXIT_OK;
  });
}
