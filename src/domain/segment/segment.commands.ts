import type { CommandMetadata } from '../shared/events';
import type { ConditionNode } from './condition-tree';

/** The definition as a client sends it; `parseSegmentDefinition` checks and completes it. */
export interface SegmentDefinitionInput {
  readonly name: string;
  readonly description?: string | null;
  /** Default `dynamic` on create; on update, the segment's kind (which cannot change). */
  readonly kind?: string | null;
  /** The raw condition tree (JSON): required for a dynamic segment, absent for a static one. */
  readonly conditions?: unknown;
}

/** Another segment of the workspace as the read model knows it. */
export type KnownSegment =
  | { readonly kind: 'dynamic'; readonly conditions: ConditionNode }
  | { readonly kind: 'static' };

/**
 * The workspace's other active segments by id, filled in by the caller from the read model, so
 * that `memberOf` references can be checked (unknown segments, cycles) without I/O here.
 */
export type KnownSegments = Readonly<Record<string, KnownSegment>>;

export type CreateSegment = {
  readonly type: 'CreateSegment';
  readonly data: {
    readonly segmentId: string;
    readonly definition: SegmentDefinitionInput;
    readonly knownSegments: KnownSegments;
  };
  readonly metadata: CommandMetadata;
};

export type UpdateSegment = {
  readonly type: 'UpdateSegment';
  readonly data: {
    readonly segmentId: string;
    readonly definition: SegmentDefinitionInput;
    readonly knownSegments: KnownSegments;
  };
  readonly metadata: CommandMetadata;
};

export type ArchiveSegment = {
  readonly type: 'ArchiveSegment';
  readonly data: {
    readonly segmentId: string;
    /** Ids of the active segments whose conditions reference this one (from the read model). */
    readonly referencedBy: readonly string[];
  };
  readonly metadata: CommandMetadata;
};

export type AddSegmentMembers = {
  readonly type: 'AddSegmentMembers';
  readonly data: {
    readonly segmentId: string;
    readonly contactIds: readonly string[];
    readonly source: 'manual' | 'import';
  };
  readonly metadata: CommandMetadata;
};

export type RemoveSegmentMembers = {
  readonly type: 'RemoveSegmentMembers';
  readonly data: { readonly segmentId: string; readonly contactIds: readonly string[] };
  readonly metadata: CommandMetadata;
};

export type SegmentCommand =
  | CreateSegment
  | UpdateSegment
  | ArchiveSegment
  | AddSegmentMembers
  | RemoveSegmentMembers;
