/**
 * The experiment's rules: given its state and a command, which events happen, or which typed
 * error explains why not. Pure: time comes from `metadata.now`, the key from the command.
 *
 *   Draft ──start──▶ Running ──stop / declare winner──▶ Stopped ──apply winner──▶ WinnerApplied
 *   (update)         (change weights: a new phase)      (declare winner, when there was none)
 */
import { IllegalStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { CommandMetadata, Decider } from '../shared/events';
import type {
  ApplyWinner,
  ChangeWeights,
  CreateExperiment,
  DeclareWinner,
  ExperimentCommand,
  StartExperiment,
  StopExperiment,
  UpdateExperiment,
} from './experiment.commands';
import { experimentLimits, parseExperimentDefinition, parseWeights } from './experiment.definition';
import type {
  ExperimentCreated,
  ExperimentDecision,
  ExperimentDefinition,
  ExperimentEvent,
  ExperimentStarted,
  ExperimentStopped,
  ExperimentUpdated,
  ExperimentWeightsChanged,
  ExperimentWinnerApplied,
  ExperimentWinnerDeclared,
} from './experiment.events';
import {
  currentPhase,
  evolve,
  initialState,
  type ExperimentState,
  type ExperimentStatus,
} from './experiment.state';
import { assertValidExperimentKey } from './experiment.stream';

export function decide(command: ExperimentCommand, state: ExperimentState): ExperimentEvent[] {
  switch (command.type) {
    case 'CreateExperiment':
      return [create(command, state)];
    case 'UpdateExperiment':
      return update(command, state);
    case 'StartExperiment':
      return [start(command, state)];
    case 'ChangeWeights':
      return changeWeights(command, state);
    case 'StopExperiment':
      return [stop(command, state)];
    case 'DeclareWinner':
      return [declareWinner(command, state)];
    case 'ApplyWinner':
      return [applyWinner(command, state)];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export const experimentDecider: Decider<ExperimentCommand, ExperimentEvent, ExperimentState> = {
  initialState,
  evolve,
  decide,
};

function create({ data, metadata }: CreateExperiment, state: ExperimentState): ExperimentCreated {
  if (state.status !== 'Nonexistent') {
    throw new IllegalStateError(`experiment ${data.experimentId} already exists`, 'ALREADY_EXISTS');
  }
  assertValidExperimentKey(data.experimentId);
  return {
    type: 'ExperimentCreated',
    data: {
      experimentId: data.experimentId,
      definition: parseExperimentDefinition(data.definition),
      createdAt: timestamp(metadata),
    },
  };
}

/** Results depend on the definition, so it can change only before the experiment starts. */
function update({ data, metadata }: UpdateExperiment, state: ExperimentState): ExperimentUpdated[] {
  const draft = requirePhase(state, ['Draft'], 'update', data.experimentId);
  const definition = parseExperimentDefinition(data.definition);
  if (JSON.stringify(definition) === JSON.stringify(draft.definition)) return [];
  return [
    {
      type: 'ExperimentUpdated',
      data: { experimentId: data.experimentId, definition, updatedAt: timestamp(metadata) },
    },
  ];
}

function start({ data, metadata }: StartExperiment, state: ExperimentState): ExperimentStarted {
  const { definition } = requirePhase(state, ['Draft'], 'start', data.experimentId);
  return {
    type: 'ExperimentStarted',
    data: {
      experimentId: data.experimentId,
      phase: {
        phase: 1,
        weights: definition.variants.map((variant) => variant.weight),
        startedAt: timestamp(metadata),
      },
    },
  };
}

/**
 * New weights start a new phase: units that entered under the old weights are analysed apart,
 * since mixing them would bias the comparison. The same weights again are no event.
 */
function changeWeights(
  { data, metadata }: ChangeWeights,
  state: ExperimentState,
): ExperimentWeightsChanged[] {
  const running = requirePhase(state, ['Running'], 'change the weights of', data.experimentId);
  const weights = parseWeights(data.weights, running.definition.variants.length);
  const previous = currentPhase(running);
  if (previous !== null && weights.every((weight, index) => weight === previous.weights[index])) {
    return [];
  }
  return [
    {
      type: 'ExperimentWeightsChanged',
      data: {
        experimentId: data.experimentId,
        phase: { phase: (previous?.phase ?? 0) + 1, weights, startedAt: timestamp(metadata) },
      },
    },
  ];
}

function stop({ data, metadata }: StopExperiment, state: ExperimentState): ExperimentStopped {
  const { definition } = requirePhase(state, ['Running'], 'stop', data.experimentId);
  return {
    type: 'ExperimentStopped',
    data: {
      experimentId: data.experimentId,
      decision: {
        winner: data.winner == null ? null : parseWinner(data.winner, definition),
        note: parseNote(data.note),
        decidedBy: parseDecidedBy(data.decidedBy),
        reason: parseReason(data.reason),
      },
      stoppedAt: timestamp(metadata),
    },
  };
}

/**
 * Running: stops the experiment with this winner. Stopped without a winner: names it now.
 * A winner once named is final, so any other phase is a conflict.
 */
function declareWinner(
  { data, metadata }: DeclareWinner,
  state: ExperimentState,
): ExperimentStopped | ExperimentWinnerDeclared {
  const current = requirePhase(
    state,
    ['Running', 'Stopped'],
    'declare a winner of',
    data.experimentId,
  );
  if (current.status === 'Stopped' && current.decision.winner !== null) {
    throw new IllegalStateError(
      `experiment ${data.experimentId} already has a winner: ${current.decision.winner}`,
      'WINNER_ALREADY_DECLARED',
    );
  }
  const decision: ExperimentDecision = {
    winner: parseWinner(data.winner, current.definition),
    note: parseNote(data.note),
    decidedBy: 'manual',
    reason: null,
  };
  const at = timestamp(metadata);
  return current.status === 'Running'
    ? {
        type: 'ExperimentStopped',
        data: { experimentId: data.experimentId, decision, stoppedAt: at },
      }
    : {
        type: 'ExperimentWinnerDeclared',
        data: { experimentId: data.experimentId, decision, declaredAt: at },
      };
}

/** The winner's content goes to the campaign surface the experiment varies, once. */
function applyWinner(
  { data, metadata }: ApplyWinner,
  state: ExperimentState,
): ExperimentWinnerApplied {
  if (state.status === 'Nonexistent') throw new NotFoundError('experiment', data.experimentId);
  if (state.status === 'WinnerApplied') {
    throw new IllegalStateError(
      `the winner of experiment ${data.experimentId} was already applied at ${state.appliedAt}`,
    );
  }
  const winnerKey = state.decision?.winner ?? null;
  const winner = state.definition.variants.find((variant) => variant.key === winnerKey);
  if (state.status !== 'Stopped' || winner === undefined) {
    throw new IllegalStateError(
      state.status === 'Stopped'
        ? `experiment ${data.experimentId} stopped without a winner; declare one first`
        : `experiment ${data.experimentId} is ${phaseName(state.status)}: stop it with a winner first`,
      'NO_WINNER',
    );
  }
  const { campaignId, surface } = state.definition;
  return {
    type: 'ExperimentWinnerApplied',
    data: {
      experimentId: data.experimentId,
      variant: winner.key,
      campaignId,
      surface,
      content: winner.content,
      appliedAt: timestamp(metadata),
    },
  };
}

function parseWinner(winner: string, definition: ExperimentDefinition): string {
  if (!definition.variants.some((variant) => variant.key === winner)) {
    throw new ValidationError(
      'winner',
      `"${winner}" is not a variant of this experiment; expected one of ${definition.variants.map((variant) => variant.key).join(', ')}`,
      'UNKNOWN_VARIANT',
    );
  }
  return winner;
}

/** A note may be empty; it is trimmed and bounded. */
function parseNote(note: string | null | undefined): string {
  const text = typeof note === 'string' ? note.trim() : '';
  if (text.length > experimentLimits.noteLength) {
    throw new ValidationError(
      'note',
      `note must be at most ${experimentLimits.noteLength} characters`,
      'TOO_LONG',
    );
  }
  return text;
}

function parseReason(reason: string | null | undefined): string | null {
  const text = typeof reason === 'string' ? reason.trim() : '';
  if (text.length > experimentLimits.reasonLength) {
    throw new ValidationError(
      'reason',
      `reason must be at most ${experimentLimits.reasonLength} characters`,
      'TOO_LONG',
    );
  }
  return text === '' ? null : text;
}

function parseDecidedBy(decidedBy: string | undefined): ExperimentDecision['decidedBy'] {
  if (decidedBy === undefined || decidedBy === 'manual' || decidedBy === 'auto') {
    return decidedBy ?? 'manual';
  }
  throw new ValidationError(
    'decidedBy',
    `decidedBy must be manual or auto, got "${decidedBy}"`,
    'INVALID_DECIDED_BY',
  );
}

/** A phase in which a command may run. */
type ExistingStatus = Exclude<ExperimentStatus, 'Nonexistent'>;

/**
 * Narrows the state to the phases a command is allowed in, or throws the error that tells
 * the client the experiment's true state (no silent, "idempotent" success).
 */
function requirePhase<S extends ExistingStatus>(
  state: ExperimentState,
  allowed: readonly S[],
  action: string,
  experimentId: string,
): Extract<ExperimentState, { status: S }> {
  if (state.status === 'Nonexistent') throw new NotFoundError('experiment', experimentId);
  if (!isAllowed(allowed, state)) {
    throw new IllegalStateError(
      `cannot ${action} experiment ${experimentId}: it is ${phaseName(state.status)}`,
    );
  }
  return state;
}

function isAllowed<S extends ExistingStatus>(
  allowed: readonly S[],
  state: ExperimentState,
): state is Extract<ExperimentState, { status: S }> {
  return (allowed as readonly ExperimentStatus[]).includes(state.status);
}

function phaseName(status: ExistingStatus): string {
  switch (status) {
    case 'Draft':
      return 'a draft';
    case 'Running':
      return 'running';
    case 'Stopped':
      return 'stopped';
    case 'WinnerApplied':
      return 'stopped and its winner applied';
    default: {
      const _exhaustive: never = status;
      return _exhaustive;
    }
  }
}

function timestamp(metadata: CommandMetadata): string {
  return metadata.now.toISOString();
}
