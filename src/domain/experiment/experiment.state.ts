/**
 * An experiment's state is the phase of its life it is in: a draft (editable), running (with
 * one or more weight phases), stopped (with a decision), or its winner applied. `evolve`
 * folds the stream's events into it.
 */
import type {
  ExperimentDecision,
  ExperimentDefinition,
  ExperimentEvent,
  ExperimentPhase,
} from './experiment.events';

interface Existing<Status extends string> {
  readonly status: Status;
  readonly experimentId: string;
  readonly definition: ExperimentDefinition;
  /** Every weight phase so far, in order; empty for a draft. */
  readonly phases: readonly ExperimentPhase[];
  readonly decision: ExperimentDecision | null;
}

export type NonexistentExperiment = { readonly status: 'Nonexistent' };
export type DraftExperiment = Existing<'Draft'> & { readonly decision: null };
export type RunningExperiment = Existing<'Running'> & { readonly decision: null };
export type StoppedExperiment = Existing<'Stopped'> & {
  readonly decision: ExperimentDecision;
  readonly stoppedAt: string;
};
export type WinnerAppliedExperiment = Existing<'WinnerApplied'> & {
  readonly decision: ExperimentDecision;
  readonly stoppedAt: string;
  readonly appliedAt: string;
};

export type ExperimentState =
  | NonexistentExperiment
  | DraftExperiment
  | RunningExperiment
  | StoppedExperiment
  | WinnerAppliedExperiment;

export type ExistingExperimentState = Exclude<ExperimentState, NonexistentExperiment>;
export type ExperimentStatus = ExperimentState['status'];

export const initialState = (): ExperimentState => ({ status: 'Nonexistent' });

/**
 * Events are facts the decider has already checked, so `evolve` does not re-validate
 * transitions. An event that needs an earlier phase it does not find (a truncated or foreign
 * stream) leaves the state as it is.
 */
export function evolve(state: ExperimentState, event: ExperimentEvent): ExperimentState {
  switch (event.type) {
    case 'ExperimentCreated': {
      const { experimentId, definition } = event.data;
      return { status: 'Draft', experimentId, definition, phases: [], decision: null };
    }
    case 'ExperimentUpdated':
      if (state.status !== 'Draft') return state;
      return { ...state, definition: event.data.definition };
    case 'ExperimentStarted':
      if (state.status !== 'Draft') return state;
      return { ...state, status: 'Running', phases: [event.data.phase] };
    case 'ExperimentWeightsChanged':
      if (state.status !== 'Running') return state;
      return { ...state, phases: [...state.phases, event.data.phase] };
    case 'ExperimentStopped':
      if (state.status !== 'Running') return state;
      return {
        ...state,
        status: 'Stopped',
        decision: event.data.decision,
        stoppedAt: event.data.stoppedAt,
      };
    case 'ExperimentWinnerDeclared':
      if (state.status !== 'Stopped') return state;
      return { ...state, decision: event.data.decision };
    case 'ExperimentWinnerApplied':
      if (state.status !== 'Stopped') return state;
      return { ...state, status: 'WinnerApplied', appliedAt: event.data.appliedAt };
    default: {
      const _exhaustive: never = event;
      void _exhaustive;
      return state;
    }
  }
}

/** The phase in progress (or the last one, once stopped); null before the experiment starts. */
export function currentPhase(state: ExperimentState): ExperimentPhase | null {
  if (state.status === 'Nonexistent') return null;
  return state.phases.at(-1) ?? null;
}
