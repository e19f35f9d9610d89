import {
  Arg,
  Args,
  Ctx,
  Float,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { assertValidCampaignId, type CampaignState } from '../../domain/campaign';
import {
  assertValidExperimentKey,
  assignVariant as assignedIndex,
  currentPhase,
  type ExperimentCommand,
  type ExperimentPhase,
  type ExperimentState,
} from '../../domain/experiment';
import {
  conversionPower,
  conversionSampleSize,
  DEFAULT_ALPHA,
  DEFAULT_POWER,
  meanPower,
  meanSampleSize,
} from '../../domain/experiment/statistics';
import { autoStopDecision, phaseResults } from '../../projections/experiments/experiment-results';
import {
  experimentDocumentId,
  experimentsCollection,
  experimentsProjectionName,
  experimentStatsCollection,
  statsDocumentId,
  type ExperimentDocument,
  type ExperimentStatsDocument,
} from '../../projections/experiments/experiments.projection';
import type { Filter } from '../../projections/read-store';
import type { TouchlineContext } from '../context';
import { runCommand } from '../shared/commands';
import { badInput, userError } from '../errors';
import { awaitPosition } from '../shared/consistency';
import { batchTicks } from '../shared/live';
import { newestFirst } from '../shared/pages';
import {
  Experiment,
  ExperimentChangeArgs,
  ExperimentCommandResult,
  ExperimentConnection,
  ExperimentInput,
  ExperimentPlan,
  ExperimentResults,
  ExperimentStatus,
  VariantAssignment,
  definitionInput,
} from './experiment.types';

const PROJECTIONS = [experimentsProjectionName];
/** Contact ids are opaque (not trimmed), as in tracking calls. */
const MAX_CONTACT_ID_LENGTH = 200;

@Resolver()
export class ExperimentResolver {
  @Query(() => Experiment, {
    nullable: true,
    description: 'One experiment, or null when it does not exist.',
  })
  async experiment(
    @Arg('key', () => ID) key: string,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<Experiment | null> {
    await awaitPosition(context, minPosition, PROJECTIONS);
    const document = await experiments(context).findOne({
      _id: experimentDocumentId(context.workspaceId, key),
    });
    return document && Experiment.from(document);
  }

  @Query(() => ExperimentConnection, { description: 'Experiments, newest first.' })
  async experiments(
    @Arg('status', () => ExperimentStatus, { nullable: true }) status: string | null,
    @Arg('campaignId', () => ID, { nullable: true, description: 'Only those of this campaign.' })
    campaignId: string | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentConnection> {
    await awaitPosition(context, minPosition, PROJECTIONS);
    const matching: Filter = {
      workspaceId: context.workspaceId,
      ...(status && { status }),
      ...(campaignId && { 'definition.campaignId': campaignId }),
    };
    const { documents, pageInfo, totalCount } = await newestFirst(
      experiments(context),
      matching,
      first,
      after,
    );
    return { nodes: documents.map((document) => Experiment.from(document)), pageInfo, totalCount };
  }

  @Query(() => ExperimentResults, {
    description:
      "A phase's results: units per variant, the sample-ratio check, per metric and variant the numbers and the comparison with the control by every method, and what the auto-stop policy would decide.",
  })
  async experimentResults(
    @Arg('key', () => ID) key: string,
    @Arg('phase', () => Int, {
      nullable: true,
      description: 'Default: the phase in progress (or the last one, once stopped).',
    })
    phase: number | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentResults> {
    await awaitPosition(context, minPosition, PROJECTIONS);
    const document = await startedExperiment(context, key);
    const last = document.phases.at(-1) as ExperimentPhase;
    const selected = phase == null ? last : document.phases.find((p) => p.phase === phase);
    if (selected === undefined) {
      throw badInput(
        'phase',
        `experiment ${key} has phases 1 to ${last.phase}, not ${phase}`,
        'INVALID_PHASE',
      );
    }
    return resultsOf(context, document, selected);
  }

  @Query(() => ExperimentPlan, {
    description:
      'Planning: the units per variant to detect a relative lift, and the power a given number of units has. Give baselineRate for a conversion metric, or baselineMean and variance for a value metric.',
  })
  experimentPlan(
    @Arg('baselineRate', () => Float, {
      nullable: true,
      description: "The control's conversion rate, in (0, 1).",
    })
    baselineRate: number | null,
    @Arg('baselineMean', () => Float, { nullable: true, description: "The control's mean." })
    baselineMean: number | null,
    @Arg('variance', () => Float, {
      nullable: true,
      description: 'Per-unit variance of the value, assumed equal in both arms.',
    })
    variance: number | null,
    @Arg('relativeLift', () => Float, { description: 'The lift to detect, e.g. 0.1 for +10 %.' })
    relativeLift: number,
    @Arg('alpha', () => Float, { defaultValue: DEFAULT_ALPHA, description: 'Two-sided level.' })
    alpha: number,
    @Arg('power', () => Float, { defaultValue: DEFAULT_POWER }) power: number,
    @Arg('unitsPerVariant', () => Int, {
      nullable: true,
      description: 'Units per variant to give the power of.',
    })
    unitsPerVariant: number | null,
  ): ExperimentPlan {
    const valueGiven = baselineMean != null || variance != null;
    if (baselineRate != null && valueGiven) {
      throw badInput(
        'baselineRate',
        'give baselineRate (a conversion metric) or baselineMean and variance (a value metric), not both',
        'AMBIGUOUS_BASELINE',
      );
    }
    if (baselineRate == null && !valueGiven) {
      throw badInput(
        'baselineRate',
        'give baselineRate (a conversion metric) or baselineMean and variance (a value metric)',
        'REQUIRED',
      );
    }
    if (valueGiven && (baselineMean == null || variance == null)) {
      const missing = baselineMean == null ? 'baselineMean' : 'variance';
      throw badInput(missing, `a value metric needs baselineMean and variance`, 'REQUIRED');
    }
    const conversion = baselineRate != null;
    const sampleSizePerVariant = conversion
      ? conversionSampleSize({ baselineRate, relativeLift }, { alpha, power })
      : meanSampleSize(
          { baselineMean: baselineMean as number, variance: variance as number, relativeLift },
          { alpha, power },
        );
    const powerAtUnits =
      unitsPerVariant == null
        ? null
        : conversion
          ? conversionPower({ baselineRate, relativeLift }, unitsPerVariant, { alpha })
          : meanPower(
              { baselineMean: baselineMean as number, variance: variance as number, relativeLift },
              unitsPerVariant,
              { alpha },
            );
    return Object.assign(new ExperimentPlan(), {
      kind: conversion ? 'conversion' : 'value',
      relativeLift,
      alpha,
      power,
      sampleSizePerVariant,
      unitsPerVariant,
      powerAtUnits,
    });
  }

  @Mutation(() => ExperimentCommandResult, { description: 'Creates an experiment as a draft.' })
  async createExperiment(
    @Arg('key', () => ID, {
      description:
        'A slug (1 to 64 of a-z 0-9 _ -) that never changes: it seeds the assignment hash.',
    })
    key: string,
    @Arg('input', () => ExperimentInput) input: ExperimentInput,
    @Arg('commandId', () => String, { nullable: true }) commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    await existingCampaign(context, input.campaignId);
    return execute(context, commandId, null, (metadata) => ({
      type: 'CreateExperiment',
      metadata,
      data: { experimentId: key, definition: definitionInput(input) },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description: 'States the whole definition again; a draft only.',
  })
  async updateExperiment(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Arg('input', () => ExperimentInput) input: ExperimentInput,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    await existingCampaign(context, input.campaignId);
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'UpdateExperiment',
      metadata,
      data: { experimentId: key, definition: definitionInput(input) },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description: "Starts a draft: phase 1, with the definition's weights.",
  })
  startExperiment(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'StartExperiment',
      metadata,
      data: { experimentId: key },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description:
      'New weights for a running experiment start a new phase, analysed apart; the same weights again change nothing.',
  })
  changeExperimentWeights(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Arg('weights', () => [Float], {
      description: "Percent per variant, in the definition's order, summing to 100.",
    })
    weights: number[],
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'ChangeWeights',
      metadata,
      data: { experimentId: key, weights },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description: 'Stops a running experiment, with a winner or without one.',
  })
  stopExperiment(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Arg('winner', () => String, { nullable: true, description: "A variant's key." })
    winner: string | null,
    @Arg('note', () => String, { nullable: true }) note: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'StopExperiment',
      metadata,
      data: { experimentId: key, winner: winner ?? null, note: note ?? '' },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description:
      'Stops a running experiment with this winner, or names the winner of one stopped without; a winner once named is final.',
  })
  declareWinner(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Arg('variant', () => String, { description: "The winning variant's key." }) variant: string,
    @Arg('note', () => String, { nullable: true }) note: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'DeclareWinner',
      metadata,
      data: { experimentId: key, winner: variant, note: note ?? '' },
    }));
  }

  @Mutation(() => ExperimentCommandResult, {
    description:
      "Puts the winner's content on the campaign (Campaign.content, under the experiment's surface), shortly after.",
  })
  async applyWinner(
    @Args(() => ExperimentChangeArgs) { key, expectedRevision, commandId }: ExperimentChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<ExperimentCommandResult> {
    await campaignStillShowing(context, key);
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'ApplyWinner',
      metadata,
      data: { experimentId: key },
    }));
  }

  @Mutation(() => VariantAssignment, {
    description:
      "The variant a contact sees: by a hash of (experiment key, contact id) on the current phase's weights while the experiment runs, recording the contact's exposure once per phase; once stopped, the winner for everyone (the control without one), with no exposure.",
  })
  async assignVariant(
    @Arg('experimentKey', () => ID) experimentKey: string,
    @Arg('contactId', () => String, {
      description: 'The unit: a userId or anonymousId as tracking calls send it (1 to 200).',
    })
    contactId: string,
    @Ctx() context: TouchlineContext,
  ): Promise<VariantAssignment> {
    if (contactId.length < 1 || contactId.length > MAX_CONTACT_ID_LENGTH) {
      throw badInput(
        'contactId',
        `contactId must be 1 to ${MAX_CONTACT_ID_LENGTH} characters`,
        'INVALID_CONTACT_ID',
      );
    }
    assertValidExperimentKey(experimentKey, 'experimentKey');
    const { services, workspaceId } = context;
    const state = await services.experiments.load(workspaceId, experimentKey);
    const phase = currentPhase(state);
    if (state.status === 'Nonexistent') {
      throw userError('NOT_FOUND', `experiment ${experimentKey} does not exist`, {
        field: 'experimentKey',
        reason: 'NOT_FOUND',
      });
    }
    if (state.status === 'Draft' || phase === null) {
      throw userError('CONFLICT', `experiment ${experimentKey} is a draft: it is not running`, {
        field: 'experimentKey',
        reason: 'NOT_RUNNING',
      });
    }
    if (state.status !== 'Running') {
      return assignment(state, experimentKey, phase, servedAfterStop(state), null);
    }
    const index = assignedIndex(experimentKey, contactId, phase.weights);
    const position = await services.experiments.recordExposure(workspaceId, {
      experimentKey,
      phase: phase.phase,
      variant: variantAt(state, index).key,
      contactId,
      exposedAt: services.clock().toISOString(),
    });
    return assignment(state, experimentKey, phase, index, position);
  }

  @Subscription(() => ExperimentResults, {
    description:
      "Pushes the current phase's results after each projector batch that changed the experiment or its statistics (nothing while it is a draft).",
    subscribe: ({ args, context }) =>
      resultsUpdates(context as TouchlineContext, args.experimentKey as string),
  })
  experimentResultsUpdated(
    @Arg('experimentKey', () => ID) _experimentKey: string,
    @Root() results: ExperimentResults,
  ): ExperimentResults {
    return results;
  }
}

/**
 * An experiment's campaign must exist: its winner's content goes there. (The experiment's
 * decider cannot see other aggregates, so the API checks the campaign's write-side state.)
 */
async function existingCampaign(
  context: TouchlineContext,
  campaignId: string,
): Promise<CampaignState> {
  assertValidCampaignId(campaignId, 'campaignId');
  const campaign = await context.services.campaigns.load(context.workspaceId, campaignId);
  if (campaign.status === 'Nonexistent') {
    throw userError('NOT_FOUND', `campaign ${campaignId} does not exist`, {
      field: 'campaignId',
      reason: 'NOT_FOUND',
    });
  }
  return campaign;
}

/**
 * A completed or archived campaign refuses new content, and the process manager that carries
 * a winner there can only log the refusal: the experiment would say WINNER_APPLIED while the
 * campaign never shows it. So the winner is not applied to such a campaign.
 */
async function campaignStillShowing(context: TouchlineContext, key: string): Promise<void> {
  assertValidExperimentKey(key, 'key');
  const experiment = await context.services.experiments.load(context.workspaceId, key);
  // Only a stopped experiment can have its winner applied; the decider explains the rest.
  if (experiment.status !== 'Stopped') return;
  const { campaignId } = experiment.definition;
  const campaign = await existingCampaign(context, campaignId);
  if (campaign.status === 'Completed' || campaign.status === 'Archived') {
    throw userError(
      'CONFLICT',
      `campaign ${campaignId} is ${campaign.status.toLowerCase()}: it shows no new content`,
      { field: 'key', reason: 'CAMPAIGN_CLOSED' },
    );
  }
}

function experiments(context: TouchlineContext) {
  return context.services.readModels.collection<ExperimentDocument>(experimentsCollection);
}

/** The experiment's read-model document, once it has a phase. */
async function startedExperiment(
  context: TouchlineContext,
  key: string,
): Promise<ExperimentDocument> {
  const document = await experiments(context).findOne({
    _id: experimentDocumentId(context.workspaceId, key),
  });
  if (document === null) {
    throw userError('NOT_FOUND', `experiment ${key} does not exist`, {
      field: 'key',
      reason: 'NOT_FOUND',
    });
  }
  if (document.phases.length === 0) {
    throw userError('CONFLICT', `experiment ${key} is a draft: it has no results yet`, {
      field: 'key',
      reason: 'NOT_STARTED',
    });
  }
  return document;
}

async function resultsOf(
  context: TouchlineContext,
  document: ExperimentDocument,
  phase: ExperimentPhase,
): Promise<ExperimentResults> {
  const stats = await context.services.readModels
    .collection<ExperimentStatsDocument>(experimentStatsCollection)
    .findOne({ _id: statsDocumentId(context.workspaceId, document.key, phase.phase) });
  const results = phaseResults(document.definition, phase, stats);
  // The policy only ever looks at the phase in progress of a running experiment.
  const current = document.status === 'RUNNING' && phase.phase === document.phases.at(-1)?.phase;
  const autoStop = current ? autoStopDecision(document.definition, results) : null;
  return ExperimentResults.of(document, phase, results, autoStop);
}

type LiveExperiment = Exclude<ExperimentState, { status: 'Nonexistent' | 'Draft' }>;

function variantAt(state: LiveExperiment, index: number) {
  const variant = state.definition.variants[index];
  if (variant === undefined) throw new Error(`experiment has no variant #${index}`);
  return variant;
}

/** Once stopped, everyone sees the winner; without one, the control. */
function servedAfterStop(state: LiveExperiment): number {
  const winner = state.decision?.winner ?? null;
  const index = state.definition.variants.findIndex((variant) => variant.key === winner);
  return index < 0 ? 0 : index;
}

function assignment(
  state: LiveExperiment,
  experimentKey: string,
  phase: ExperimentPhase,
  index: number,
  position: bigint | null,
): VariantAssignment {
  const variant = variantAt(state, index);
  return Object.assign(new VariantAssignment(), {
    experimentKey,
    phase: phase.phase,
    variant: variant.key,
    variantIndex: index,
    content: variant.content,
    exposed: position !== null,
    position: position === null ? null : position.toString(),
  });
}

async function execute(
  context: TouchlineContext,
  commandId: string | null | undefined,
  expectedRevision: string | null | undefined,
  build: (metadata: ExperimentCommand['metadata']) => ExperimentCommand,
): Promise<ExperimentCommandResult> {
  const { command, ...outcome } = await runCommand(
    context,
    { commandId, expectedRevision },
    build,
    (built, options) => context.services.experiments.execute(built, options),
  );
  return Object.assign(new ExperimentCommandResult(), {
    key: command.data.experimentId,
    ...outcome,
  });
}

/**
 * The current phase's results after each projector batch that changed one of the
 * experiment's documents (its own, `${workspaceId}:${key}`, and its units and statistics,
 * `${workspaceId}:${key}:…`; another experiment's key may extend this one's, hence the `:`),
 * or when a rebuilt generation takes over. Batches that leave it a draft push nothing.
 */
function resultsUpdates(
  context: TouchlineContext,
  key: string,
): AsyncIterableIterator<ExperimentResults> {
  const documentId = experimentDocumentId(context.workspaceId, key);
  const ticks = batchTicks(
    context.services.live.commits(),
    (batch) =>
      batch.projection === experimentsProjectionName &&
      (batch.events === 0 ||
        batch.changes.some(
          (change) => change.id === documentId || change.id.startsWith(`${documentId}:`),
        )),
  );
  return {
    async next() {
      for (;;) {
        const tick = await ticks.next();
        if (tick.done) return { done: true, value: undefined };
        const document = await experiments(context).findOne({ _id: documentId });
        const phase = document?.phases.at(-1);
        if (document && phase)
          return { done: false, value: await resultsOf(context, document, phase) };
      }
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
