/**
 * The funnel's rules: create (version 1), update (a new version, only when the definition
 * changes), archive. Pure: time comes from `metadata.now`.
 */
import { IllegalStateError, NotFoundError } from '../shared/errors';
import type { CommandMetadata, Decider } from '../shared/events';
import type { FunnelCommand } from './funnel.commands';
import { parseFunnelDefinition } from './funnel.definition';
import type { FunnelDefinition, FunnelEvent } from './funnel.events';

export type FunnelState =
  | { readonly status: 'Nonexistent' }
  | {
      readonly status: 'Active' | 'Archived';
      readonly funnelId: string;
      readonly version: number;
      readonly definition: FunnelDefinition;
    };

export function initialState(): FunnelState {
  return { status: 'Nonexistent' };
}

export function evolve(state: FunnelState, event: FunnelEvent): FunnelState {
  switch (event.type) {
    case 'FunnelCreated':
    case 'FunnelUpdated': {
      const { funnelId, version, definition } = event.data;
      return { status: 'Active', funnelId, version, definition };
    }
    case 'FunnelArchived':
      return state.status === 'Nonexistent' ? state : { ...state, status: 'Archived' };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export function decide(command: FunnelCommand, state: FunnelState): FunnelEvent[] {
  const { funnelId } = command.data;
  switch (command.type) {
    case 'CreateFunnel': {
      if (state.status !== 'Nonexistent') {
        throw new IllegalStateError(`funnel ${funnelId} already exists`, 'ALREADY_EXISTS');
      }
      const definition = parseFunnelDefinition(command.data.definition);
      return [
        {
          type: 'FunnelCreated',
          data: { funnelId, version: 1, definition, createdAt: timestamp(command.metadata) },
        },
      ];
    }
    case 'UpdateFunnel': {
      const current = requireActive(state, funnelId, 'update');
      const definition = parseFunnelDefinition(command.data.definition);
      if (JSON.stringify(definition) === JSON.stringify(current.definition)) return [];
      return [
        {
          type: 'FunnelUpdated',
          data: {
            funnelId,
            version: current.version + 1,
            definition,
            updatedAt: timestamp(command.metadata),
          },
        },
      ];
    }
    case 'ArchiveFunnel':
      requireActive(state, funnelId, 'archive');
      return [
        { type: 'FunnelArchived', data: { funnelId, archivedAt: timestamp(command.metadata) } },
      ];
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export const funnelDecider: Decider<FunnelCommand, FunnelEvent, FunnelState> = {
  initialState,
  evolve,
  decide,
};

function requireActive(
  state: FunnelState,
  funnelId: string,
  action: string,
): Extract<FunnelState, { status: 'Active' | 'Archived' }> {
  if (state.status === 'Nonexistent') throw new NotFoundError('funnel', funnelId);
  if (state.status === 'Archived') {
    throw new IllegalStateError(`cannot ${action} funnel ${funnelId}: it is archived`);
  }
  return state;
}

function timestamp(metadata: CommandMetadata): string {
  return metadata.now.toISOString();
}
