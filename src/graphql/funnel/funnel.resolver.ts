import {
  Arg,
  Args,
  Ctx,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import {
  parseFunnelDefinition,
  type FunnelDefinition,
  type FunnelCommand,
} from '../../domain/funnel';
import {
  funnelDefinitionsCollection,
  funnelDefinitionsProjectionName,
  funnelDocumentId,
  type FunnelDefinitionDocument,
} from '../../projections/funnels/funnel-definitions.projection';
import type { StartRange } from '../../projections/funnels/funnel-events';
import {
  funnelReport,
  peopleAtStep,
  personResults,
  type PeopleStatus,
} from '../../projections/funnels/funnel-query';
import {
  funnelPeopleCollection,
  funnelPinsCollection,
  funnelResultsProjectionName,
  type FunnelPersonDocument,
  type FunnelPinDocument,
} from '../../projections/funnels/funnels.projection';
import {
  funnelTrend,
  maxTrendPeriods,
  periodStart,
  type TrendInterval,
} from '../../projections/funnels/report';
import type { Filter } from '../../projections/read-store';
import { RebuildProgress } from '../admin/projection.types';
import type { TouchlineContext } from '../context';
import { runCommand } from '../shared/commands';
import { badInput, userError } from '../errors';
import { decodeCursor, encodeCursor, pageSize } from '../shared/arguments';
import { asOfDescription, awaitPosition, readingContext } from '../shared/consistency';
import { batchTicks } from '../shared/live';
import { newestFirst } from '../shared/pages';
import {
  Funnel,
  FunnelChangeArgs,
  FunnelCommandResult,
  FunnelConnection,
  FunnelInput,
  FunnelPeoplePage,
  FunnelPeopleStatus,
  FunnelReport,
  FunnelStatus,
  FunnelTrendPoint,
  TrendInterval as TrendIntervalEnum,
  definitionInput,
} from './funnel.types';

const DEFINITIONS_PROJECTION = funnelDefinitionsProjectionName;
const RESULTS_PROJECTION = funnelResultsProjectionName;
const PROJECTIONS = [DEFINITIONS_PROJECTION, RESULTS_PROJECTION];
const DAY_MS = 24 * 60 * 60 * 1000;

@Resolver()
export class FunnelResolver {
  @Query(() => Funnel, {
    nullable: true,
    description: 'One funnel, or null when it does not exist.',
  })
  async funnel(
    @Arg('id', () => ID) id: string,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<Funnel | null> {
    await awaitPosition(context, minPosition, [DEFINITIONS_PROJECTION]);
    const document = await definitions(context).findOne({
      _id: funnelDocumentId(context.workspaceId, id),
    });
    return document && Funnel.from(document);
  }

  @Query(() => FunnelConnection, { description: 'Funnels, newest first.' })
  async funnels(
    @Arg('status', () => FunnelStatus, { nullable: true }) status: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelConnection> {
    const matching: Filter = { workspaceId: context.workspaceId, ...(status && { status }) };
    const { documents, pageInfo, totalCount } = await newestFirst(
      definitions(context),
      matching,
      first,
      after,
    );
    return { nodes: documents.map((document) => Funnel.from(document)), pageInfo, totalCount };
  }

  @Query(() => FunnelReport, {
    description:
      "A saved funnel's live report. With from / to, only attempts whose step 1 lies in the range count.",
  })
  async funnelReport(
    @Arg('funnelId', () => ID) funnelId: string,
    @Arg('from', () => Date, { nullable: true }) from: Date | null,
    @Arg('to', () => Date, { nullable: true }) to: Date | null,
    @Arg('breakdownValue', () => String, {
      nullable: true,
      description: 'Only people with this breakdown value.',
    })
    breakdownValue: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelReport> {
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    return liveReport(reading, funnelId, startRange(from, to), breakdownValue);
  }

  @Query(() => [FunnelTrendPoint], {
    description:
      'Conversion per period of step-1 time: each period lists the people with an attempt starting in it (once each) and how many of them converted.',
  })
  async funnelTrend(
    @Arg('funnelId', () => ID) funnelId: string,
    @Arg('interval', () => TrendIntervalEnum) interval: TrendInterval,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelTrendPoint[]> {
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const range = startRange(from, to) as StartRange;
    if (trendPeriodCount(interval, range.from, range.to) > maxTrendPeriods) {
      throw badInput(
        'to',
        `a trend has at most ${maxTrendPeriods} periods; narrow the range or widen the interval`,
        'RANGE_TOO_LONG',
      );
    }
    const served = await servedFunnel(reading, funnelId);
    const results = personResults(served.definition, await people(reading, funnelId, false), {
      range: null,
    }).map(({ result }) => result);
    return funnelTrend(results, interval, range.from, range.to).map((point) =>
      FunnelTrendPoint.from(point),
    );
  }

  @Query(() => FunnelPeoplePage, { description: 'The people at a step of a saved funnel.' })
  async funnelPeople(
    @Arg('funnelId', () => ID) funnelId: string,
    @Arg('step', () => Int, { description: '1-based.' }) step: number,
    @Arg('status', () => FunnelPeopleStatus) status: PeopleStatus,
    @Arg('from', () => Date, { nullable: true }) from: Date | null,
    @Arg('to', () => Date, { nullable: true }) to: Date | null,
    @Arg('breakdownValue', () => String, { nullable: true }) breakdownValue: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelPeoplePage> {
    const limit = pageSize(first);
    const afterId = after == null ? null : String(decodeCursor('after', after, 1)[0]);
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const served = await servedFunnel(reading, funnelId);
    const stepCount = served.definition.steps.length;
    if (!Number.isInteger(step) || step < 1 || step > stepCount) {
      throw badInput('step', `step must be from 1 to ${stepCount}`, 'INVALID_STEP');
    }
    const range = startRange(from, to);
    const ids = peopleAtStep(
      served.definition,
      await people(reading, funnelId, range !== null),
      { range, ...(breakdownValue != null && { breakdownValue }) },
      step,
      status,
    );
    const start = afterId === null ? 0 : ids.findIndex((id) => id > afterId);
    const rest = start < 0 ? [] : ids.slice(start);
    const contactIds = rest.slice(0, limit);
    return {
      contactIds,
      pageInfo: {
        hasNextPage: rest.length > limit,
        endCursor: contactIds.length > 0 ? encodeCursor([contactIds.at(-1) as string]) : null,
      },
      totalCount: ids.length,
    };
  }

  @Query(() => FunnelReport, {
    description:
      "An ad-hoc funnel: a definition that is not saved, computed from the event log with the live funnels' own code. With from / to, only attempts whose step 1 lies in the range count.",
  })
  async funnelAnalysis(
    @Arg('definition', () => FunnelInput) input: FunnelInput,
    @Arg('from', () => Date, { nullable: true }) from: Date | null,
    @Arg('to', () => Date, { nullable: true }) to: Date | null,
    @Arg('breakdownValue', () => String, { nullable: true }) breakdownValue: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelReport> {
    const definition = parseFunnelDefinition(definitionInput(input, 'ad hoc'));
    const range = startRange(from, to);
    const documents = await context.services.analyses.funnel(
      context.workspaceId,
      definition,
      range,
    );
    const report = funnelReport(definition, documents, {
      range: null,
      ...(breakdownValue != null && { breakdownValue }),
    });
    return FunnelReport.of(
      report,
      { funnelId: null, version: null, recomputing: false, recomputeProgress: null },
      definition.breakdown !== null,
    );
  }

  @Mutation(() => FunnelCommandResult, { description: 'Saves a funnel (version 1).' })
  createFunnel(
    @Arg('input', () => FunnelInput) input: FunnelInput,
    @Arg('id', () => ID, { nullable: true, description: 'Default: a new UUID.' }) id: string | null,
    @Arg('commandId', () => String, { nullable: true }) commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelCommandResult> {
    const funnelId = id ?? context.services.newId();
    return execute(context, commandId, null, (metadata) => ({
      type: 'CreateFunnel',
      metadata,
      data: { funnelId, definition: definitionInput(input) },
    }));
  }

  @Mutation(() => FunnelCommandResult, {
    description:
      'Records a new version of the definition; the funnel is recomputed from the log while the previous version keeps serving.',
  })
  updateFunnel(
    @Args(() => FunnelChangeArgs) { id, expectedRevision, commandId }: FunnelChangeArgs,
    @Arg('input', () => FunnelInput) input: FunnelInput,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'UpdateFunnel',
      metadata,
      data: { funnelId: id, definition: definitionInput(input) },
    }));
  }

  @Mutation(() => FunnelCommandResult, {
    description: 'Archives a funnel: it is no longer computed.',
  })
  archiveFunnel(
    @Args(() => FunnelChangeArgs) { id, expectedRevision, commandId }: FunnelChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<FunnelCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'ArchiveFunnel',
      metadata,
      data: { funnelId: id },
    }));
  }

  @Subscription(() => FunnelReport, {
    description:
      "Pushes the funnel's report after each projector batch that changed it, and when a recomputed version takes over.",
    subscribe: ({ args, context }) =>
      funnelUpdates(context as TouchlineContext, args.funnelId as string),
  })
  funnelUpdated(
    @Arg('funnelId', () => ID) _funnelId: string,
    @Root() report: FunnelReport,
  ): FunnelReport {
    return report;
  }
}

function definitions(context: TouchlineContext) {
  return context.services.readModels.collection<FunnelDefinitionDocument>(
    funnelDefinitionsCollection,
  );
}

/** The funnel's people who reached step 1; their stored events only when a range needs them. */
function people(
  context: TouchlineContext,
  funnelId: string,
  withEvents: boolean,
): Promise<FunnelPersonDocument[]> {
  return context.services.readModels
    .collection<FunnelPersonDocument>(funnelPeopleCollection)
    .find(
      { workspaceId: context.workspaceId, funnelId, reached: { $gte: 1 } },
      withEvents ? {} : { projection: { events: 0 } },
    );
}

interface ServedFunnel {
  readonly document: FunnelDefinitionDocument;
  /** The definition the serving numbers count: the pinned version, else the latest. */
  readonly definition: FunnelDefinition;
  readonly version: number | null;
  readonly recomputing: boolean;
}

async function servedFunnel(context: TouchlineContext, funnelId: string): Promise<ServedFunnel> {
  const { workspaceId } = context;
  const document = await definitions(context).findOne({
    _id: funnelDocumentId(workspaceId, funnelId),
  });
  if (document === null) {
    throw userError('NOT_FOUND', `funnel ${funnelId} does not exist`, {
      field: 'funnelId',
      reason: 'NOT_FOUND',
    });
  }
  const pin = await context.services.readModels
    .collection<FunnelPinDocument>(funnelPinsCollection)
    .findOne({ _id: 'definitions' });
  // A generation that has not applied any event yet pins at its first one, whatever the
  // definitions are then: until there is an event, every definition's report is empty.
  const served =
    pin === null
      ? { version: document.version, definition: document.definition }
      : pin.funnels.find(
          (funnel) => funnel.workspaceId === workspaceId && funnel.funnelId === funnelId,
        );
  if (served === undefined && document.status === 'ARCHIVED') {
    throw userError('CONFLICT', `funnel ${funnelId} is archived: it has no report`, {
      field: 'funnelId',
      reason: 'FUNNEL_ARCHIVED',
    });
  }
  return {
    document,
    definition: served?.definition ?? document.definition,
    version: served?.version ?? null,
    recomputing: document.status === 'ACTIVE' && served?.version !== document.version,
  };
}

async function liveReport(
  context: TouchlineContext,
  funnelId: string,
  range: StartRange | null,
  breakdownValue: string | null,
): Promise<FunnelReport> {
  const served = await servedFunnel(context, funnelId);
  const documents = served.version === null ? [] : await people(context, funnelId, range !== null);
  const report = funnelReport(served.definition, documents, {
    range,
    ...(breakdownValue != null && { breakdownValue }),
  });
  const progress = served.recomputing
    ? context.services.projections.rebuildProgress(RESULTS_PROJECTION)
    : null;
  return FunnelReport.of(
    report,
    {
      funnelId,
      version: served.version,
      recomputing: served.recomputing,
      recomputeProgress: progress && !progress.done ? RebuildProgress.from(progress) : null,
    },
    served.definition.breakdown !== null,
  );
}

/**
 * A range of step-1 times from optional ends; null when neither is given (an argument the
 * client leaves out arrives as undefined, one it sets to null as null).
 */
function startRange(from: Date | null | undefined, to: Date | null | undefined): StartRange | null {
  if (from == null && to == null) return null;
  const range = { from: from?.getTime() ?? 0, to: to?.getTime() ?? 8.64e15 };
  if (range.to < range.from) throw badInput('to', 'to must not be before from', 'REVERSED_RANGE');
  return range;
}

/**
 * How many periods a trend over [from, to] lists: from the period holding `from` through the
 * one holding `to` (a span of 1000 days from a midnight touches 1001 days).
 */
function trendPeriodCount(interval: TrendInterval, from: number, to: number): number {
  const first = new Date(periodStart(from, interval));
  const last = new Date(periodStart(to, interval));
  if (interval === 'month') {
    const years = last.getUTCFullYear() - first.getUTCFullYear();
    return years * 12 + last.getUTCMonth() - first.getUTCMonth() + 1;
  }
  const periodDays = interval === 'week' ? 7 : 1;
  return Math.round((last.getTime() - first.getTime()) / (periodDays * DAY_MS)) + 1;
}

async function execute(
  context: TouchlineContext,
  commandId: string | null | undefined,
  expectedRevision: string | null | undefined,
  build: (metadata: FunnelCommand['metadata']) => FunnelCommand,
): Promise<FunnelCommandResult> {
  const { command, ...outcome } = await runCommand(
    context,
    { commandId, expectedRevision },
    build,
    (built, options) => context.services.funnels.execute(built, options),
  );
  return Object.assign(new FunnelCommandResult(), { funnelId: command.data.funnelId, ...outcome });
}

/** One report per projector batch that changed this funnel's people or definition. */
function funnelUpdates(
  context: TouchlineContext,
  funnelId: string,
): AsyncIterableIterator<FunnelReport> {
  const { workspaceId } = context;
  const peoplePrefix = `${workspaceId}:${funnelId}|`;
  const definitionId = funnelDocumentId(workspaceId, funnelId);
  const ticks = batchTicks(context.services.live.commits(), (batch) => {
    if (batch.projection === DEFINITIONS_PROJECTION) {
      return batch.changes.some((change) => change.id === definitionId);
    }
    if (batch.projection !== RESULTS_PROJECTION) return false;
    // A rebuilt generation taking over is announced without events.
    return batch.events === 0 || batch.changes.some((change) => change.id.startsWith(peoplePrefix));
  });
  return {
    async next() {
      const tick = await ticks.next();
      if (tick.done) return { done: true, value: undefined };
      return { done: false, value: await liveReport(context, funnelId, null, null) };
    },
    async return() {
      await ticks.return();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
