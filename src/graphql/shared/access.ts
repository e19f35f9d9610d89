/**
 * What a request needs of its key, decided from the operation before anything runs, on HTTP
 * and WebSocket alike: each root field's capability (queries and subscriptions read,
 * mutations command, with the exceptions below), and whether it is expensive (rate-limited
 * per key). Every root field of the schema falls under one rule: a new field is covered by
 * its operation's default until it is listed here.
 */
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getOperationAST,
} from 'graphql';
import { type Capability, roleMay } from '../../domain/workspace';
import type { ApiKeyRole } from '../../domain/workspace';
import { FIELD_COSTS } from './query-limits';

export type OperationKind = 'query' | 'mutation' | 'subscription';

const DEFAULT_CAPABILITY: Readonly<Record<OperationKind, Capability>> = {
  query: 'read',
  mutation: 'command',
  subscription: 'read',
};

/** Root fields whose capability is not their operation's default. */
export const FIELD_CAPABILITIES: Readonly<Record<string, Capability>> = {
  'Mutation.trackEvents': 'ingest',
  'Mutation.createApiKey': 'administer',
  'Mutation.revokeApiKey': 'administer',
  'Mutation.rebuildProjection': 'administer',
  'Query.apiKeys': 'administer',
};

/** Arguments that make a field recompute from the log instead of reading a read model. */
const RECOMPUTING_ARGUMENTS = ['asOf', 'settings', 'channelRules'];
/** Fields costed this much or more (query-limits.ts) are expensive. */
const EXPENSIVE_FIELD_COST = 50;
const EXPENSIVE_FIELDS = new Set([
  'Mutation.rebuildProjection',
  ...Object.entries(FIELD_COSTS)
    .filter(([, cost]) => cost >= EXPENSIVE_FIELD_COST)
    .map(([field]) => field),
]);

export function capabilityOf(kind: OperationKind, field: string): Capability {
  return FIELD_CAPABILITIES[`${rootTypeName(kind)}.${field}`] ?? DEFAULT_CAPABILITY[kind];
}

export interface OperationAccess {
  readonly kind: OperationKind;
  /** The root fields the operation selects (fragments followed), meta fields left out. */
  readonly fields: readonly FieldNode[];
}

/** The operation a request runs and its root fields; null when it names none that exists. */
export function operationAccess(
  document: DocumentNode,
  operationName: string | null | undefined,
): OperationAccess | null {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  return { kind: operation.operation, fields: rootFields(operation, fragments) };
}

/** The first root field the role may not use, with the capability it needs; null when none. */
export function forbiddenField(
  role: ApiKeyRole,
  access: OperationAccess,
): { field: string; capability: Capability } | null {
  for (const node of access.fields) {
    const capability = capabilityOf(access.kind, node.name.value);
    if (!roleMay(role, capability)) return { field: node.name.value, capability };
  }
  return null;
}

/**
 * The first expensive root field of the operation: an ad-hoc analysis, a rebuild, or a field
 * asked `asOf` a past instant or under other settings (a replay or recompute of the log).
 */
export function expensiveField(
  access: OperationAccess,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): string | null {
  for (const node of access.fields) {
    const name = node.name.value;
    if (EXPENSIVE_FIELDS.has(`${rootTypeName(access.kind)}.${name}`)) return name;
    const recomputes = node.arguments?.some(
      (argument) =>
        RECOMPUTING_ARGUMENTS.includes(argument.name.value) &&
        argument.value.kind !== Kind.NULL &&
        (argument.value.kind !== Kind.VARIABLE ||
          (variables?.[argument.value.name.value] ?? null) !== null),
    );
    if (recomputes) return name;
  }
  return null;
}

function rootTypeName(kind: OperationKind): string {
  return kind === 'query' ? 'Query' : kind === 'mutation' ? 'Mutation' : 'Subscription';
}

function rootFields(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FieldNode[] {
  const fields: FieldNode[] = [];
  const seen = new Set<string>();
  const visit = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          visit(fragment.selectionSet);
        }
      }
    }
  };
  visit(operation.selectionSet);
  return fields;
}
