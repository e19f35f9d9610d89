/**
 * The segment's rules: create (version 1), update (a new version, only when the definition
 * changes; the kind stays), archive (refused while other segments reference it), and for static
 * segments add / remove members. Pure: time comes from `metadata.now`.
 *
 * A static segment's member set is not kept in the state: adding a member twice or removing
 * one that is not there is harmless, since the membership projection applies both
 * idempotently, and a state that grows with every contact would make each decision load it.
 */
import { IllegalStateError, NotFoundError, ValidationError } from '../shared/errors';
import type { CommandMetadata, Decider } from '../shared/events';
import type { SegmentCommand } from './segment.commands';
import { parseSegmentDefinition, parseSegmentKind } from './segment.definition';
import {
  segmentMembersPerCommand,
  type SegmentDefinition,
  type SegmentEvent,
} from './segment.events';

/** The longest contact id a member list accepts. */
export const contactIdLength = 256;

export type SegmentState =
  | { readonly status: 'Nonexistent' }
  | {
      readonly status: 'Active' | 'Archived';
      readonly segmentId: string;
      readonly version: number;
      readonly definition: SegmentDefinition;
    };

type ExistingSegment = Extract<SegmentState, { status: 'Active' | 'Archived' }>;

export function initialState(): SegmentState {
  return { status: 'Nonexistent' };
}

export function evolve(state: SegmentState, event: SegmentEvent): SegmentState {
  switch (event.type) {
    case 'SegmentCreated':
    case 'SegmentUpdated': {
      const { segmentId, version, definition } = event.data;
      return { status: 'Active', segmentId, version, definition };
    }
    case 'SegmentArchived':
      return state.status === 'Nonexistent' ? state : { ...state, status: 'Archived' };
    case 'SegmentMembersAdded':
    case 'SegmentMembersRemoved':
      return state;
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

export function decide(command: SegmentCommand, state: SegmentState): SegmentEvent[] {
  const { segmentId } = command.data;
  switch (command.type) {
    case 'CreateSegment': {
      if (state.status !== 'Nonexistent') {
        throw new IllegalStateError(`segment ${segmentId} already exists`, 'ALREADY_EXISTS');
      }
      const { definition: input, knownSegments } = command.data;
      const definition = parseSegmentDefinition(input, { segmentId, knownSegments });
      return [
        {
          type: 'SegmentCreated',
          data: { segmentId, version: 1, definition, createdAt: timestamp(command.metadata) },
        },
      ];
    }
    case 'UpdateSegment': {
      const current = requireActive(state, segmentId, 'update');
      const { definition: input, knownSegments } = command.data;
      // Checked before the rest, so that "static → dynamic" is not reported as a missing tree;
      // an update that leaves the kind out keeps it.
      const kind = parseSegmentKind(input.kind, current.definition.kind);
      if (kind !== current.definition.kind) {
        throw new ValidationError(
          'kind',
          `segment ${segmentId} is ${current.definition.kind}: a segment's kind cannot change`,
          'KIND_CHANGE',
        );
      }
      const definition = parseSegmentDefinition({ ...input, kind }, { segmentId, knownSegments });
      if (JSON.stringify(definition) === JSON.stringify(current.definition)) return [];
      return [
        {
          type: 'SegmentUpdated',
          data: {
            segmentId,
            version: current.version + 1,
            definition,
            updatedAt: timestamp(command.metadata),
          },
        },
      ];
    }
    case 'ArchiveSegment': {
      requireActive(state, segmentId, 'archive');
      const { referencedBy } = command.data;
      if (referencedBy.length > 0) {
        throw new IllegalStateError(
          `cannot archive segment ${segmentId}: segments ${referencedBy.join(', ')} include it`,
          'SEGMENT_IN_USE',
        );
      }
      return [
        { type: 'SegmentArchived', data: { segmentId, archivedAt: timestamp(command.metadata) } },
      ];
    }
    case 'AddSegmentMembers': {
      requireStatic(state, segmentId, 'add members to');
      return [
        {
          type: 'SegmentMembersAdded',
          data: {
            segmentId,
            contactIds: parseContactIds(command.data.contactIds),
            source: command.data.source,
            addedAt: timestamp(command.metadata),
          },
        },
      ];
    }
    case 'RemoveSegmentMembers': {
      requireStatic(state, segmentId, 'remove members from');
      return [
        {
          type: 'SegmentMembersRemoved',
          data: {
            segmentId,
            contactIds: parseContactIds(command.data.contactIds),
            removedAt: timestamp(command.metadata),
          },
        },
      ];
    }
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
}

export const segmentDecider: Decider<SegmentCommand, SegmentEvent, SegmentState> = {
  initialState,
  evolve,
  decide,
};

function requireActive(state: SegmentState, segmentId: string, action: string): ExistingSegment {
  if (state.status === 'Nonexistent') throw new NotFoundError('segment', segmentId);
  if (state.status === 'Archived') {
    throw new IllegalStateError(`cannot ${action} segment ${segmentId}: it is archived`);
  }
  return state;
}

/** Only a static segment's members are listed by hand; a dynamic one's follow its conditions. */
function requireStatic(state: SegmentState, segmentId: string, action: string): ExistingSegment {
  const current = requireActive(state, segmentId, action);
  if (current.definition.kind !== 'static') {
    throw new IllegalStateError(
      `cannot ${action} segment ${segmentId}: it is dynamic, its members follow its conditions`,
      'NOT_STATIC',
    );
  }
  return current;
}

/** 1 to `segmentMembersPerCommand` non-empty ids; repeats are dropped, first order kept. */
function parseContactIds(contactIds: readonly string[]): string[] {
  if (!Array.isArray(contactIds) || contactIds.length === 0) {
    throw new ValidationError(
      'contactIds',
      'contactIds must list at least one contact',
      'REQUIRED',
    );
  }
  if (contactIds.length > segmentMembersPerCommand) {
    throw new ValidationError(
      'contactIds',
      `at most ${segmentMembersPerCommand} contacts per command, got ${contactIds.length}`,
      'TOO_MANY_CONTACTS',
    );
  }
  const unique = new Set(
    contactIds.map((contactId, index) => parseContactId(contactId, `contactIds.${index}`)),
  );
  return [...unique];
}

/** Ids are opaque (as in ingestion), so they are not trimmed: only the empty string is refused. */
function parseContactId(contactId: unknown, field: string): string {
  if (typeof contactId !== 'string') {
    throw new ValidationError(field, `${field} must be a contact id (text)`, 'INVALID_ID');
  }
  if (contactId === '') throw new ValidationError(field, `${field} must not be empty`, 'REQUIRED');
  if (contactId.length > contactIdLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${contactIdLength} characters`,
      'TOO_LONG',
    );
  }
  return contactId;
}

function timestamp(metadata: CommandMetadata): string {
  return metadata.now.toISOString();
}
