import { Arg, Args, Ctx, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import type { AttributionSettingsCommand } from '../../domain/attribution';
import {
  type AttributionModelName,
  type AttributionQuery,
  conversionJourneys,
} from '../../projections/attribution/attribution-query';
import {
  attributionSettingsCollection,
  attributionSettingsProjectionName,
  type AttributionSettingsDocument,
} from '../../projections/attribution/attribution-settings.projection';
import {
  attributionProjectionName,
  projectedSettings,
  type AttributionPinDocument,
  type Grouping,
} from '../../projections/attribution/attribution.projection';
import {
  defaultAttributionSettings,
  maxLookbackMs,
  type AttributionSettings,
} from '../../projections/attribution/journeys';
import { MarkovChainTooLargeError, type MarkovOrder } from '../../projections/attribution/markov';
import { DAY_MS } from '../../projections/attribution/models';
import type { ChannelRule } from '../../projections/touchpoints/channels';
import type { AttributionReadModel, TouchlineContext } from '../context';
import { badInput } from '../errors';
import { runCommand } from '../shared/commands';
import { assertOrdered } from '../shared/arguments';
import { asOfDescription, awaitPosition, readingContext } from '../shared/consistency';
import { batchTicks } from '../shared/live';
import {
  AttributionArgs,
  AttributionComparison,
  AttributionReport,
  AttributionSettingValues,
  AttributionSettings as AttributionSettingsView,
  AttributionSettingsResult,
  AttributionUpdatedArgs,
  ConfigureAttributionArgs,
  AttributionWindowArgs,
  ConversionJourney,
  ConversionPathsArgs,
  ConversionPathsReport,
  type ReportSettings,
} from './attribution.types';
import { channelRulesInput, type ChannelRuleInput } from './channel-rules.types';

const PROJECTIONS = [attributionProjectionName];
const SETTINGS_PROJECTIONS = [attributionSettingsProjectionName];
const ALL_PROJECTIONS = [...PROJECTIONS, ...SETTINGS_PROJECTIONS];
const MAX_PATH_ROWS = 100;

@Resolver()
export class AttributionResolver {
  @Query(() => AttributionReport, {
    description:
      "One model's attribution of the conversions in [from, to]. With the workspace's projected lookback and half-life (the default) it reads the live read model; with others it is recomputed from the event log (recomputed: true).",
  })
  async attribution(
    @Args(() => AttributionArgs) args: AttributionArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<AttributionReport> {
    const reading = await readingContext(context, args, ALL_PROJECTIONS);
    const question = parseQuestion(reading, args, await servedSettings(reading));
    const source = await readModel(reading, question, args);
    const report = await withinLimits(
      source.reports.report(args.model, question.query, { order: question.order }),
    );
    return AttributionReport.of(report, question.settings);
  }

  @Query(() => AttributionComparison, {
    description:
      'Every model over the same conversions, side by side. Defaults and recomputation as for `attribution`.',
  })
  async compareAttributionModels(
    @Args(() => AttributionWindowArgs) args: AttributionWindowArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<AttributionComparison> {
    const reading = await readingContext(context, args, ALL_PROJECTIONS);
    const question = parseQuestion(reading, args, await servedSettings(reading));
    const source = await readModel(reading, question, args);
    const reports = await withinLimits(
      source.reports.compare(question.query, { order: question.order }),
    );
    return AttributionComparison.of(reports, question.settings);
  }

  @Query(() => ConversionPathsReport, {
    description:
      'The most common converting and non-converting paths of a range, with path length and time to conversion. Converting journeys count by conversion time, non-converting ones by the instant they expire (once expired).',
  })
  async conversionPaths(
    @Args(() => ConversionPathsArgs) args: ConversionPathsArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<ConversionPathsReport> {
    if (!Number.isInteger(args.limit) || args.limit < 1 || args.limit > MAX_PATH_ROWS) {
      throw badInput('limit', `limit must be from 1 to ${MAX_PATH_ROWS}`, 'INVALID_LIMIT');
    }
    const reading = await readingContext(context, args, ALL_PROJECTIONS);
    const question = parseQuestion(
      reading,
      { ...args, halfLifeDays: null, markovOrder: 1 },
      await servedSettings(reading),
    );
    const source = await readModel(reading, question, args);
    const report = await source.reports.paths(question.query, args.limit);
    return ConversionPathsReport.of(report, question.settings);
  }

  @Query(() => ConversionJourney, {
    nullable: true,
    description:
      "A conversion (by order id, else message id) with its journey in the live read model and each touch's share under every rule-based model; null when unknown.",
  })
  async conversionJourney(
    @Arg('conversionId', () => String, { description: 'The order id, else the message id.' })
    conversionId: string,
    @Arg('minPosition', () => String, {
      nullable: true,
      description: 'A log position a write returned: awaited (bounded) before reading.',
    })
    minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ConversionJourney | null> {
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const journeys = await conversionJourneys(
      reading.services.attribution.collection,
      context.workspaceId,
      conversionId,
    );
    // Normally one; an order id sent by two people is two conversions: the earliest is shown.
    const [first] = journeys.sort((a, b) => a.at - b.at || (a._id < b._id ? -1 : 1));
    return first === undefined ? null : ConversionJourney.from(first);
  }

  @Query(() => AttributionSettingsView, {
    description:
      "The workspace's attribution settings, and those its live read model was computed with (a change is recomputed from the log while the previous settings keep serving).",
  })
  async attributionSettings(
    @Arg('minPosition', () => String, {
      nullable: true,
      description: 'A log position a write returned: awaited (bounded) before reading.',
    })
    minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<AttributionSettingsView> {
    await awaitPosition(context, minPosition, SETTINGS_PROJECTIONS);
    const configured = await configuredSettings(context);
    const projected = await servedSettings(context, configured);
    const projectedDays = {
      lookbackDays: projected.lookbackMs / DAY_MS,
      halfLifeDays: projected.halfLifeMs / DAY_MS,
    };
    return Object.assign(new AttributionSettingsView(), {
      lookbackDays: configured.lookbackMs / DAY_MS,
      halfLifeDays: configured.halfLifeMs / DAY_MS,
      projected: AttributionSettingValues.of(projectedDays),
      recomputing: !sameSettings(configured, projected),
    });
  }

  @Mutation(() => AttributionSettingsResult, {
    description:
      "Sets the workspace's lookback window and half-life: the live read model is recomputed from the log with them while the previous settings keep serving. The same values again record nothing.",
  })
  async configureAttribution(
    @Args(() => ConfigureAttributionArgs)
    { lookbackDays, halfLifeDays, expectedRevision, commandId }: ConfigureAttributionArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<AttributionSettingsResult> {
    const { command: _command, ...outcome } = await runCommand(
      context,
      { commandId, expectedRevision },
      (metadata): AttributionSettingsCommand => ({
        type: 'ConfigureAttribution',
        metadata,
        data: { lookbackDays, halfLifeDays },
      }),
      (command, options) => context.services.attributionSettings.execute(command, options),
    );
    return Object.assign(new AttributionSettingsResult(), outcome);
  }

  @Subscription(() => AttributionReport, {
    description:
      "Pushes the model's report from the live read model after each projector batch that changed the caller's workspace's attribution.",
    subscribe: ({ args, context }) =>
      attributionUpdates(context as TouchlineContext, args as AttributionUpdatedArgs),
  })
  attributionUpdated(
    @Args(() => AttributionUpdatedArgs) _args: AttributionUpdatedArgs,
    @Root() report: AttributionReport,
  ): AttributionReport {
    return report;
  }
}

interface Question {
  readonly query: AttributionQuery;
  readonly order: MarkovOrder;
  readonly attribution: AttributionSettings;
  /** A what-if channel table; null: the live one. */
  readonly channelRules: readonly ChannelRule<string>[] | null;
  readonly settings: ReportSettings;
}

interface QuestionArgs {
  readonly from: Date;
  readonly to: Date;
  readonly groupBy: Grouping;
  readonly lookbackDays?: number | null;
  readonly halfLifeDays?: number | null;
  readonly markovOrder: number;
  readonly channelRules?: readonly ChannelRuleInput[] | null;
}

/** The workspace's configured settings (the defaults when it never configured any). */
async function configuredSettings(context: TouchlineContext): Promise<AttributionSettings> {
  const document = await context.services.readModels
    .collection<AttributionSettingsDocument>(attributionSettingsCollection)
    .findOne({ _id: context.workspaceId });
  return document === null
    ? defaultAttributionSettings
    : { lookbackMs: document.lookbackDays * DAY_MS, halfLifeMs: document.halfLifeDays * DAY_MS };
}

/**
 * The settings the serving read model computes the workspace with: its pin. A read model
 * that has not pinned yet holds no event, and pins the configured settings at its first.
 */
async function servedSettings(
  context: TouchlineContext,
  configured?: AttributionSettings,
): Promise<AttributionSettings> {
  const pinned = await projectedSettings(
    (logical) => context.services.readModels.collection<AttributionPinDocument>(logical),
    context.workspaceId,
  );
  return pinned ?? configured ?? (await configuredSettings(context));
}

function sameSettings(a: AttributionSettings, b: AttributionSettings): boolean {
  return a.lookbackMs === b.lookbackMs && a.halfLifeMs === b.halfLifeMs;
}

/**
 * The arguments checked, each failure on its own field; a setting left out is the projected
 * one, and the answer is recomputed from the log only when the settings differ from it or a
 * channel table is given.
 */
function parseQuestion(
  context: TouchlineContext,
  args: QuestionArgs,
  projected: AttributionSettings,
): Question {
  const { from, to, groupBy, lookbackDays, halfLifeDays, markovOrder } = args;
  if (!Number.isInteger(markovOrder) || markovOrder < 1 || markovOrder > 3) {
    throw badInput('markovOrder', 'markovOrder must be 1, 2 or 3', 'INVALID_ORDER');
  }
  const maxLookbackDays = maxLookbackMs / DAY_MS;
  if (lookbackDays != null && !(lookbackDays > 0 && lookbackDays <= maxLookbackDays)) {
    throw badInput(
      'lookbackDays',
      `lookbackDays must be from 1 to ${maxLookbackDays}`,
      'INVALID_LOOKBACK',
    );
  }
  if (halfLifeDays != null && !(halfLifeDays > 0 && Number.isFinite(halfLifeDays))) {
    throw badInput('halfLifeDays', 'halfLifeDays must be positive', 'INVALID_HALF_LIFE');
  }
  assertOrdered(from, to);
  const channelRules = args.channelRules == null ? null : channelRulesInput(args.channelRules);
  const attribution: AttributionSettings = {
    lookbackMs: lookbackDays != null ? lookbackDays * DAY_MS : projected.lookbackMs,
    halfLifeMs: halfLifeDays != null ? halfLifeDays * DAY_MS : projected.halfLifeMs,
  };
  const recomputed = !sameSettings(attribution, projected) || channelRules !== null;
  return {
    query: {
      workspaceId: context.workspaceId,
      range: { from: from.getTime(), to: to.getTime() },
      grouping: groupBy,
      now: context.services.clock().getTime(),
    },
    order: markovOrder as MarkovOrder,
    attribution,
    channelRules,
    settings: {
      grouping: groupBy,
      from,
      to,
      lookbackDays: attribution.lookbackMs / DAY_MS,
      halfLifeDays: attribution.halfLifeMs / DAY_MS,
      recomputed,
    },
  };
}

/** A Markov chain too large to solve exactly is the question's fault: a lower order answers. */
async function withinLimits<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof MarkovChainTooLargeError) {
      throw badInput('markovOrder', error.message, 'MODEL_TOO_LARGE');
    }
    throw error;
  }
}

/**
 * The reading context's attribution read model (live, already awaited to `minPosition` by
 * `readingContext`, or replayed to `asOf`), or one recomputed from the log.
 */
async function readModel(
  context: TouchlineContext,
  question: Question,
  { asOf }: { asOf?: Date | null },
): Promise<AttributionReadModel> {
  if (question.settings.recomputed) {
    const { attribution, channelRules } = question;
    return context.services.analyses.attribution(context.workspaceId, attribution, {
      ...(channelRules && { channelRules }),
      ...(asOf != null && { asOf }),
    });
  }
  return context.services.attribution;
}

/** One report per batch of the attribution projection that touched the caller's workspace. */
function attributionUpdates(
  context: TouchlineContext,
  args: AttributionUpdatedArgs,
): AsyncIterableIterator<AttributionReport> {
  const { workspaceId } = context;
  const model: AttributionModelName = args.model;
  const noSettings = { ...args, lookbackDays: null, halfLifeDays: null };
  // Bad arguments fail the subscription at once rather than at its first push.
  parseQuestion(context, noSettings, defaultAttributionSettings);
  const ticks = batchTicks(
    context.services.live.commits(),
    (batch) =>
      batch.projection === attributionProjectionName &&
      // A rebuilt generation taking over is announced without events.
      (batch.events === 0 || batch.changes.some((change) => change.workspaceId === workspaceId)),
  );
  return {
    async next() {
      const tick = await ticks.next();
      if (tick.done) return { done: true, value: undefined };
      // Asked afresh each time: null journeys expire as the clock moves.
      const { query, order, settings } = parseQuestion(
        context,
        noSettings,
        await servedSettings(context),
      );
      const report = await withinLimits(
        context.services.attribution.reports.report(model, query, { order }),
      );
      return { done: false, value: AttributionReport.of(report, settings) };
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
