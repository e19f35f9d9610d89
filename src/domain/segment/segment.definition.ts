/**
 * Turns a client's segment definition into the definition events carry, or throws a
 * ValidationError naming the offending field (`name`, `conditions.conditions.0.operator`, …)
 * with a stable reason. Create and update share it, so both enforce the same rules.
 */
import { ValidationError } from '../shared/errors';
import { parseOneOf, requireText } from '../shared/text';
import { parseConditionTree, type ConditionNode } from './condition-tree';
import type { KnownSegments, SegmentDefinitionInput } from './segment.commands';
import { segmentKinds, type SegmentDefinition, type SegmentKind } from './segment.events';

export const segmentDefinitionLimits = {
  nameLength: 200,
  descriptionLength: 2000,
} as const;

export interface SegmentDefinitionContext {
  /** The segment being defined, so that a reference to itself is a cycle. */
  readonly segmentId: string;
  readonly knownSegments: KnownSegments;
}

export function parseSegmentDefinition(
  input: SegmentDefinitionInput,
  context: SegmentDefinitionContext,
): SegmentDefinition {
  const name = requireText(input.name, 'name', segmentDefinitionLimits.nameLength);
  const description = parseDescription(input.description);
  const kind = parseSegmentKind(input.kind, 'dynamic');
  return { name, description, kind, conditions: parseConditions(input.conditions, kind, context) };
}

/** One of `segmentKinds` (INVALID_KIND), or `fallback` when absent. */
export function parseSegmentKind(
  kind: string | null | undefined,
  fallback: SegmentKind,
): SegmentKind {
  return parseOneOf(kind, segmentKinds, 'kind', 'INVALID_KIND', fallback);
}

function parseDescription(description: string | null | undefined): string | null {
  if (description == null) return null;
  if (typeof description !== 'string') {
    throw new ValidationError('description', 'description must be text', 'INVALID_VALUE');
  }
  const text = description.trim();
  if (text === '') return null;
  if (text.length > segmentDefinitionLimits.descriptionLength) {
    throw new ValidationError(
      'description',
      `description must be at most ${segmentDefinitionLimits.descriptionLength} characters`,
      'TOO_LONG',
    );
  }
  return text;
}

function parseConditions(
  conditions: unknown,
  kind: SegmentKind,
  { segmentId, knownSegments }: SegmentDefinitionContext,
): ConditionNode | null {
  if (kind === 'static') {
    if (conditions != null) {
      throw new ValidationError(
        'conditions',
        'a static segment has no conditions: its members are added and removed by hand or by import',
        'INVALID_VALUE',
      );
    }
    return null;
  }
  if (conditions == null) {
    throw new ValidationError(
      'conditions',
      'a dynamic segment needs a condition tree',
      'MISSING_CONDITIONS',
    );
  }
  return parseSegmentConditions(conditions, knownSegments, segmentId);
}

/**
 * A condition tree as a segment's `conditions` (createSegment, and a preview of an unsaved
 * tree): `memberOf` checked against the known segments (and `segmentId`, the segment being
 * defined, for cycles), errors naming fields under `conditions`.
 */
export function parseSegmentConditions(
  conditions: unknown,
  knownSegments: KnownSegments,
  segmentId?: string,
): ConditionNode {
  try {
    return parseConditionTree(conditions, {
      segmentId,
      lookupSegment: (referenced) => {
        // An own property only: an id such as `constructor` must not find Object's prototype.
        if (!Object.hasOwn(knownSegments, referenced)) return null;
        const known = knownSegments[referenced];
        return known.kind === 'static' ? 'static' : known.conditions;
      },
    });
  } catch (error) {
    // The tree names fields from its own root; the client sent it as `conditions`.
    if (error instanceof ValidationError) {
      const path = error.field ?? '';
      const field = path === '' ? 'conditions' : `conditions.${path}`;
      throw new ValidationError(field, error.message, error.reason);
    }
    throw error;
  }
}
