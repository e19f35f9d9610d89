/**
 * Static limits on what one GraphQL document may ask for, checked before anything runs: the
 * nesting depth, the number of aliases, the number of definitions, and a cost computed from
 * the selections. The same rules serve HTTP and WebSocket (src/infra/server.ts).
 *
 * The cost model, kept simple so a client can predict it:
 * - a field whose type is a scalar or an enum costs 0 (the alias limit bounds how many there are);
 * - any other field costs 1, plus its extra cost (FIELD_COSTS, and `asOf` replays);
 * - the selections under a field that takes a page size (`first`, `limit`, `sampleSize`) cost
 *   that many times over: the argument's value, else its schema default, else DEFAULT_PAGE_SIZE;
 * - every other list counts once (its length is bounded by the page it belongs to).
 * Each fragment is weighed once and reused, so nested fragment spreads cannot make this slow.
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  valueFromASTUntyped,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from './arguments';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
}

const queryLimitCodes = [
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_OPERATIONS',
] as const;
export type QueryLimitCode = (typeof queryLimitCodes)[number];

/** Bounds parse and validation work; no client needs more in one request. */
export const MAX_OPERATIONS = 10;
export const MAX_DEFINITIONS = 100;

const PAGE_SIZE_ARGUMENTS = ['first', 'limit', 'sampleSize'];
/** Reading a past state replays the log up to that instant. */
const AS_OF_COST = 50;
/** Fields that compute over raw events rather than read a projection. */
export const FIELD_COSTS: Readonly<Record<string, number>> = {
  'Query.funnelAnalysis': 100,
  'Query.previewSegment': 100,
  'Query.compareAttributionModels': 50,
  'Query.conversionPaths': 50,
  'Query.funnelTrend': 20,
  'Query.conversionJourney': 10,
  'Query.events': 10,
  'Query.stream': 10,
};

/** The rules that need nothing but the document: run with graphql's own validation. */
export function staticLimitRules(limits: QueryLimits): ValidationRule[] {
  return [definitionsRule(), shapeRule(limits)];
}

/**
 * The cost rule: it needs the request's variables (a page size is often one), so it runs
 * once they are known, after validation.
 */
export function costRule(maxCost: number, variables?: Readonly<Record<string, unknown>>) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const cost = measure(context, operation, variables).cost;
      if (cost > maxCost) {
        context.reportError(
          limitError(
            'QUERY_TOO_COMPLEX',
            `the operation costs ${cost}, more than the ${maxCost} allowed: ask for smaller pages or fewer nested lists`,
            maxCost,
            cost,
            operation,
          ),
        );
      }
      return false;
    },
  });
}

/** Every rule, for a document whose variables are known (WebSocket, tests). */
export function queryLimitRules(
  limits: QueryLimits,
  variables?: Readonly<Record<string, unknown>>,
): ValidationRule[] {
  return [...staticLimitRules(limits), costRule(limits.maxCost, variables)];
}

export function isQueryLimitError(error: GraphQLError): boolean {
  return (queryLimitCodes as readonly unknown[]).includes(error.extensions.code);
}

function definitionsRule(): ValidationRule {
  return (context) => ({
    Document(document) {
      const operations = document.definitions.filter(
        (definition) => definition.kind === Kind.OPERATION_DEFINITION,
      ).length;
      const total = document.definitions.length;
      if (operations > MAX_OPERATIONS) {
        context.reportError(
          limitError(
            'TOO_MANY_OPERATIONS',
            `a document may hold at most ${MAX_OPERATIONS} operations (it holds ${operations})`,
            MAX_OPERATIONS,
            operations,
          ),
        );
      } else if (total > MAX_DEFINITIONS) {
        context.reportError(
          limitError(
            'TOO_MANY_OPERATIONS',
            `a document may hold at most ${MAX_DEFINITIONS} operations and fragments (it holds ${total})`,
            MAX_DEFINITIONS,
            total,
          ),
        );
      }
    },
  });
}

/** Depth and aliases, from one walk of each operation. */
function shapeRule({ maxDepth, maxAliases }: QueryLimits): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const { depth, aliases } = measure(context, operation);
      if (depth > maxDepth) {
        context.reportError(
          limitError(
            'QUERY_TOO_DEEP',
            `the operation nests ${depth} fields deep, more than the ${maxDepth} allowed`,
            maxDepth,
            depth,
            operation,
          ),
        );
      }
      if (aliases > maxAliases) {
        context.reportError(
          limitError(
            'TOO_MANY_ALIASES',
            `the operation uses ${aliases} aliases, more than the ${maxAliases} allowed`,
            maxAliases,
            aliases,
            operation,
          ),
        );
      }
      return false;
    },
  });
}

/** The field a selection names, the introspection fields `__schema` and `__type` included. */
function fieldDefinition(
  schema: GraphQLSchema,
  parent: GraphQLNamedType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (parent && parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

function limitError(
  code: QueryLimitCode,
  message: string,
  limit: number,
  actual: number,
  node?: OperationDefinitionNode,
): GraphQLError {
  return new GraphQLError(message, {
    nodes: node ? [node] : undefined,
    extensions: { code, reason: code, limit, actual, http: { status: 400 } },
  });
}

interface Measure {
  readonly depth: number;
  readonly aliases: number;
  readonly cost: number;
}

const NOTHING: Measure = { depth: 0, aliases: 0, cost: 0 };

/** Depth, aliases and cost of one operation, fragments followed (each weighed once). */
export function measure(
  context: Pick<ValidationContext, 'getSchema' | 'getDocument'>,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): Measure {
  return new Measurer(context.getSchema(), context.getDocument(), operation, variables).operation();
}

class Measurer {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly weighed = new Map<string, Measure>();
  private readonly visiting = new Set<string>();
  private readonly variables: Record<string, unknown>;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly operationNode: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        this.fragments.set(definition.name.value, definition);
      }
    }
    // A variable left out takes the default the operation declares for it.
    this.variables = { ...variables };
    for (const declared of operationNode.variableDefinitions ?? []) {
      const name = declared.variable.name.value;
      if (this.variables[name] === undefined && declared.defaultValue) {
        this.variables[name] = valueFromASTUntyped(declared.defaultValue);
      }
    }
  }

  operation(): Measure {
    const root = this.schema.getRootType(this.operationNode.operation);
    return root ? this.selections(this.operationNode.selectionSet, root) : NOTHING;
  }

  private selections(
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
  ): Measure {
    let depth = 0;
    let aliases = 0;
    let cost = 0;
    for (const selection of selectionSet.selections) {
      let measured: Measure;
      if (selection.kind === Kind.FIELD) {
        measured = this.field(selection, parent);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? this.schema.getType(selection.typeCondition.name.value)
          : parent;
        measured = this.selections(selection.selectionSet, type ?? undefined);
      } else {
        measured = this.fragment(selection.name.value);
      }
      depth = Math.max(depth, measured.depth);
      aliases += measured.aliases;
      cost += measured.cost;
    }
    return { depth, aliases, cost };
  }

  private fragment(name: string): Measure {
    const known = this.weighed.get(name);
    if (known) return known;
    const fragment = this.fragments.get(name);
    // Unknown fragments and cycles are other rules' errors; they add nothing here.
    if (!fragment || this.visiting.has(name)) return NOTHING;
    this.visiting.add(name);
    const type = this.schema.getType(fragment.typeCondition.name.value);
    const measured = this.selections(fragment.selectionSet, type ?? undefined);
    this.visiting.delete(name);
    this.weighed.set(name, measured);
    return measured;
  }

  private field(node: FieldNode, parent: GraphQLNamedType | undefined): Measure {
    const alias = node.alias ? 1 : 0;
    const definition = fieldDefinition(this.schema, parent, node.name.value);
    if (!node.selectionSet) return { depth: 1, aliases: alias, cost: 0 };
    const type = definition ? getNamedType(definition.type) : undefined;
    // Under a field the schema does not know, depth and aliases still count (validation fails anyway).
    const below = this.selections(
      node.selectionSet,
      type && isCompositeType(type) ? type : undefined,
    );
    const own =
      1 + (parent ? (FIELD_COSTS[`${parent.name}.${node.name.value}`] ?? 0) : 0) + this.asOf(node);
    return {
      depth: 1 + below.depth,
      aliases: alias + below.aliases,
      cost: own + (definition ? this.pageSize(node, definition) : 1) * below.cost,
    };
  }

  private asOf(node: FieldNode): number {
    const argument = node.arguments?.find((a) => a.name.value === 'asOf');
    const value = argument ? valueFromASTUntyped(argument.value, this.variables) : undefined;
    return value === undefined || value === null ? 0 : AS_OF_COST;
  }

  private pageSize(node: FieldNode, definition: GraphQLField<unknown, unknown>): number {
    const accepted = definition.args.find((a) => PAGE_SIZE_ARGUMENTS.includes(a.name));
    if (!accepted) return 1;
    const argument = node.arguments?.find((a) => a.name.value === accepted.name);
    let value = argument ? valueFromASTUntyped(argument.value, this.variables) : undefined;
    if (value === undefined || value === null) value = accepted.defaultValue;
    return typeof value === 'number' && Number.isFinite(value) && value > 0
      ? Math.ceil(value)
      : DEFAULT_PAGE_SIZE;
  }
}
