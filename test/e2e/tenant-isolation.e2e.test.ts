/**
 * Tenant isolation end to end: a key of workspace A cannot see or change anything of
 * workspace B, through any query, mutation, subscription or HTTP endpoint.
 *
 * The operations are not written by hand: every root field of the live schema gets
 * operations generated from its arguments' types (ids of B's objects chosen by the argument's
 * name, other values by name or type) and a selection of every scalar a few levels deep. A
 * field the generator cannot fill needs an entry in OVERRIDES, and the suite fails while a root
 * field has neither: a new field cannot escape.
 *
 * Given B holds data of every kind, its names, traits and amounts carrying markers (`bsecret`,
 * odd amounts), and some of its ids equal to ids of A's own objects (so that a DataLoader or a
 * read-model key without the workspace would mix them up):
 * - every query answers A exactly what it answered before B existed, with no marker;
 * - every mutation aimed at B's ids leaves B's whole view (its answers to the same queries,
 *   its event log included) unchanged, and answers A without a marker;
 * - every subscription naming B's ids, or none, hears nothing of B's changes that B's own
 *   subscriber hears;
 * - the export, tracking and ad-report endpoints read and write A's workspace only.
 */
import { randomUUID } from 'node:crypto';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { gql } from 'graphql-request';
import { campaignStreamId } from '../../src/domain/campaign';
import { contactStreamId } from '../../src/domain/tracking/tracking.events';
import { buildTouchlineSchema } from '../../src/graphql/schema';
import { basicAuthorization, postBatch, startTestServer, type TestServer, until } from './harness';

const A = 'alpha-ws';
const B = 'bsecret-ws';

/** What B's data carries and A's answers must never show (amounts as text and minor units). */
const MARKERS = ['bsecret', '9137.53', '913753', '6841.27', '684127', '3.1415'];

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date();
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS).toISOString();
const FROM = ago(30);
const TO = new Date(NOW.getTime() + DAY_MS).toISOString();
const TODAY = NOW.toISOString().slice(0, 10);

/** The kinds of B's objects an argument can name. */
type IdKind =
  | 'campaign'
  | 'funnel'
  | 'segment'
  | 'contact'
  | 'experiment'
  | 'stream'
  | 'apiKey'
  | 'conversion';

/**
 * Which of B's objects the operations name: ones only B has, or ones whose ids A's own
 * objects have too.
 */
type Target = 'b-only' | 'shared';
type TargetIds = Readonly<Record<IdKind, string>>;

function targetIds(apiKeys: { owner: string; other: string }): Record<Target, TargetIds> {
  return {
    'b-only': {
      campaign: 'bsecret-campaign',
      funnel: 'bsecret-funnel',
      segment: 'bsecret-dynamic',
      contact: 'bsecret-user',
      experiment: 'bsecret-exp',
      stream: campaignStreamId(B, 'bsecret-campaign'),
      apiKey: apiKeys.owner,
      conversion: 'bsecret-order-1',
    },
    shared: {
      campaign: 'shared-campaign',
      funnel: 'shared-funnel',
      segment: 'shared-segment',
      contact: 'shared-user',
      experiment: 'shared-exp',
      stream: contactStreamId(B, 'shared-user'),
      apiKey: apiKeys.other,
      conversion: 'bsecret-order-2',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Operations generated from the schema
// ---------------------------------------------------------------------------------------------

type OperationKind = 'query' | 'mutation' | 'subscription';

interface Operation {
  readonly kind: OperationKind;
  readonly field: string;
  /** The field and what distinguishes this operation of it, for messages. */
  readonly label: string;
  readonly target: Target | null;
  readonly document: string;
  readonly variables: Record<string, unknown>;
}

/** How the generator fills one root field's operations. */
interface FillContext {
  readonly field: string;
  readonly ids: TargetIds;
  readonly target: Target;
  /** Commands of the b-only operations reuse B's own command ids (idempotency per tenant). */
  readonly commandId: string | undefined;
}

class CannotFill extends Error {}

/** Root arguments naming one of B's objects, by name. */
const ID_ARGUMENTS: Readonly<Record<string, IdKind>> = {
  campaignId: 'campaign',
  campaignIds: 'campaign',
  newId: 'campaign',
  funnelId: 'funnel',
  segmentId: 'segment',
  segmentIds: 'segment',
  contactId: 'contact',
  contactIds: 'contact',
  experimentKey: 'experiment',
  conversionId: 'conversion',
  streamId: 'stream',
};

/** `id` and `key` name the object the field is about. */
const FIELD_SUBJECTS: readonly (readonly [string, IdKind])[] = [
  ['apikey', 'apiKey'],
  ['campaign', 'campaign'],
  ['funnel', 'funnel'],
  ['segment', 'segment'],
  ['experiment', 'experiment'],
  ['winner', 'experiment'],
  ['contact', 'contact'],
  ['stream', 'stream'],
];

function subjectOf(name: string): IdKind | undefined {
  const lower = name.toLowerCase();
  return FIELD_SUBJECTS.find(([word]) => lower.includes(word))?.[1];
}

/** Optional arguments worth giving: they name an object, or widen what is shown. */
const OPTIONAL_ARGUMENTS_FILLED = new Set([
  ...Object.keys(ID_ARGUMENTS),
  'includeRevoked',
  'includeArchived',
  'first',
  'currency',
]);

/** Enum values that make an answer show more of a tenant's data than the first value. */
const ENUM_CHOICES: Readonly<Record<string, string>> = {
  AttributionGroupBy: 'CAMPAIGN',
  MetricsGranularity: 'DAY',
  RankMetric: 'REVENUE',
  TrendInterval: 'DAY',
  FunnelPeopleStatus: 'REACHED',
  ApiKeyRole: 'VIEWER',
  TrackType: 'TRACK',
  CampaignChannel: 'PAID_SEARCH',
  MetricKind: 'CONVERSION',
  ConditionOperator: 'EXISTS',
  TraitOperator: 'exists',
};

/** Values by argument or input-field name, when the type alone says too little. */
function namedValue(name: string, index: number): unknown {
  switch (name) {
    case 'from':
      return FROM;
    case 'to':
      return TO;
    case 'asOf':
    case 'at':
      return new Date().toISOString();
    case 'startsAt':
    case 'expiresAt':
      return new Date(NOW.getTime() + 10 * DAY_MS).toISOString();
    case 'endsAt':
      return new Date(NOW.getTime() + 20 * DAY_MS).toISOString();
    case 'day':
      return TODAY;
    case 'currency':
      return 'USD';
    case 'amount':
      return '1.00';
    case 'event':
      return 'Order Completed';
    case 'property':
      return 'revenue';
    case 'key':
      return `alpha-key-${index}`;
    case 'entryId':
      return `alpha-entry-${randomUUID()}`;
    case 'variant':
    case 'winner':
      return 'control';
    case 'channel':
      return 'paid_search';
    case 'first':
    case 'limit':
      return 10;
    case 'sampleSize':
      return 20;
    case 'lookbackDays':
      return 30;
    case 'halfLifeDays':
      return 7;
    case 'relativeLift':
      return 0.1;
    case 'weights':
      return 50;
    case 'fromStep':
      return 1;
    case 'toStep':
      return 2;
    case 'conditions':
      return { kind: 'trait', property: 'email', operator: 'exists' };
    case 'value':
      return 'alpha';
    default:
      return undefined;
  }
}

/** Lists that need two items to be valid. */
const PAIRS = new Set(['steps', 'variants', 'weights']);

function inputValue(
  type: GraphQLInputType,
  name: string,
  context: FillContext,
  index = 0,
): unknown {
  if (isNonNullType(type)) return inputValue(type.ofType, name, context, index);
  if (isListType(type)) {
    const count = PAIRS.has(name) ? 2 : 1;
    return Array.from({ length: count }, (_, item) =>
      inputValue(type.ofType as GraphQLInputType, name, context, item),
    );
  }
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      const subject = field.name === 'id' ? subjectOf(type.name) : undefined;
      if (subject) value[field.name] = context.ids[subject];
      else if (isRequired(field) || fillsOptionalInputField(type.name, field)) {
        value[field.name] = inputValue(field.type, field.name, context, index);
      }
    }
    return value;
  }
  const named = namedValue(name, index);
  if (isEnumType(type)) {
    const values = type.getValues().map((value) => value.name);
    const chosen = ENUM_CHOICES[type.name];
    return chosen !== undefined && values.includes(chosen) ? chosen : values[0];
  }
  if (!isScalarType(type)) throw new CannotFill(`${name}: ${String(type)}`);
  switch (type.name) {
    case 'ID':
    case 'String': {
      const kind = ID_ARGUMENTS[name];
      if (kind) return context.ids[kind];
      if (name === 'commandId') return context.commandId;
      if (name === 'id' || name === 'key') throw new CannotFill(`${name} of ${context.field}`);
      return typeof named === 'string' ? named : `alpha ${name}`;
    }
    case 'Int':
      return typeof named === 'number' ? named : 1;
    case 'Float':
      return typeof named === 'number' ? named : 1;
    case 'Boolean':
      return true;
    case 'DateTime':
      if (typeof named === 'string') return named;
      throw new CannotFill(`${name}: DateTime`);
    case 'JSON':
    case 'JSONObject':
      return named ?? {};
    default:
      throw new CannotFill(`${name}: ${type.name}`);
  }
}

function isRequired(argument: GraphQLArgument | GraphQLInputField): boolean {
  return isNonNullType(argument.type) && argument.defaultValue === undefined;
}

/**
 * Optional input fields naming B's objects are given (a created object's own `id` too: A
 * creating "B's" object must create A's); the event filter's get a variant each instead.
 */
function fillsOptionalInputField(inputType: string, field: GraphQLInputField): boolean {
  return field.name in ID_ARGUMENTS && inputType !== 'EventFilterInput';
}

function argumentValue(
  argument: GraphQLArgument,
  context: FillContext,
): { value: unknown } | undefined {
  const { name } = argument;
  if (name === 'id' || name === 'key') {
    const kind = subjectOf(context.field);
    if (!kind) throw new CannotFill(`${name} of ${context.field}`);
    return { value: context.ids[kind] };
  }
  if (name === 'commandId') {
    return context.commandId === undefined ? undefined : { value: context.commandId };
  }
  if (isRequired(argument) || OPTIONAL_ARGUMENTS_FILLED.has(name)) {
    return { value: inputValue(argument.type, name, context) };
  }
  return undefined;
}

const MAX_SELECTION_DEPTH = 4;

/** Every scalar and enum field, objects followed a few levels; null when nothing is left. */
function selectionOf(type: GraphQLOutputType, depth: number): string | null {
  const named = getNamedType(type);
  if (!isObjectType(named)) return isScalarType(named) || isEnumType(named) ? '' : null;
  if (depth >= MAX_SELECTION_DEPTH) return null;
  const parts: string[] = [];
  for (const field of Object.values((named as GraphQLObjectType).getFields())) {
    if (field.args.some(isRequired)) continue;
    const inner = selectionOf(field.type, depth + 1);
    if (inner === null) continue;
    parts.push(inner === '' ? field.name : `${field.name} { ${inner} }`);
  }
  return parts.length === 0 ? null : parts.join(' ');
}

/** Arguments given as variables: `$name: Type` and `name: $name`. */
function operationText(
  kind: OperationKind,
  field: GraphQLField<unknown, unknown>,
  values: Readonly<Record<string, unknown>>,
  selection: string | null,
): string {
  const given = field.args.filter((argument) => argument.name in values);
  const declarations = given.map((argument) => `$${argument.name}: ${String(argument.type)}`);
  const argumentsText = given.map((argument) => `${argument.name}: $${argument.name}`);
  return [
    kind,
    declarations.length > 0 ? `(${declarations.join(', ')})` : '',
    ` { ${field.name}`,
    argumentsText.length > 0 ? `(${argumentsText.join(', ')})` : '',
    selection ? ` { ${selection} }` : '',
    ' }',
  ].join('');
}

/**
 * A hand-made part for a field: argument values (merged over the generated ones), extra
 * variants, a selection, or a check of the answer beyond the marker check.
 */
interface Override {
  /** Argument values for every operation of the field, by target. */
  readonly args?: (ids: TargetIds, target: Target) => Record<string, unknown>;
  /** More operations: each adds these argument values to the generated ones. */
  readonly variants?: (ids: TargetIds, target: Target) => Record<string, Record<string, unknown>>;
  /** A check of A's answer, beyond "no marker". */
  readonly check?: (answer: GraphQLAnswer, target: Target) => void;
  /** Why the override is there (the report lists it). */
  readonly why: string;
}

const controlAndTreatment = (ids: TargetIds) => ({
  key: ids.experiment,
  input: {
    name: 'Alpha experiment',
    hypothesis: 'Alpha hypothesis',
    campaignId: ids.campaign,
    variants: [{ key: 'control' }, { key: 'treatment' }],
    primaryMetric: {
      key: 'ordered',
      name: 'Ordered',
      kind: 'CONVERSION',
      event: 'Order Completed',
    },
  },
});

const alphaFunnel = (ids: TargetIds) => ({
  name: 'Alpha funnel',
  steps: [{ event: '$pageview' }, { event: 'Order Completed' }],
  breakdown: { property: '$utm_campaign' },
  campaignId: ids.campaign,
});

const OVERRIDES: Readonly<Record<string, Override>> = {
  'Query.experimentPlan': {
    why: 'a plan needs a baseline rate or mean, neither of them required',
    args: () => ({ baselineRate: 0.1 }),
  },
  'Query.events': {
    why: 'one filter per kind of B id (given together they would select nothing)',
    variants: (ids) => ({
      'campaign filter': { filter: { campaignId: ids.campaign } },
      'contact filter': { filter: { contactId: ids.contact } },
      'stream filter': { filter: { streamId: ids.stream } },
      'category filter': { filter: { category: ids.stream.slice(0, ids.stream.indexOf('-')) } },
    }),
  },
  'Query.funnelAnalysis': {
    why: 'a funnel whose steps B tracked, broken down by UTM campaign',
    args: (ids) => ({ definition: alphaFunnel(ids) }),
  },
  'Query.contacts': {
    why: "a trait filter that B's contacts match",
    variants: () => ({
      'email filter': { traitFilter: [{ name: 'email', operator: 'exists' }] },
    }),
  },
  'Mutation.createFunnel': {
    why: 'a valid funnel saved under B’s funnel id',
    args: (ids) => ({ id: ids.funnel, input: alphaFunnel(ids) }),
  },
  'Mutation.updateFunnel': {
    why: 'a valid funnel definition',
    args: (ids) => ({ input: alphaFunnel(ids) }),
  },
  'Mutation.createExperiment': {
    why: 'distinct variant keys and a valid metric',
    args: controlAndTreatment,
  },
  'Mutation.updateExperiment': {
    why: 'distinct variant keys and a valid metric',
    args: controlAndTreatment,
  },
  'Mutation.createSegment': {
    why: 'a static segment under B’s segment id',
    args: (ids) => ({ input: { id: ids.segment, name: 'Alpha segment', kind: 'STATIC' } }),
  },
  'Mutation.updateSegment': {
    why: 'the kind the segment has',
    args: () => ({ input: { name: 'Alpha segment', kind: 'STATIC' } }),
  },
  'Mutation.importSegmentMembers': {
    why: "a CSV naming B's contacts by id and by email: none of them is A's",
    args: (ids) => ({ csv: `id\n${ids.contact}\nbsecret@example.com\n` }),
    check: (answer) => {
      const result = answer.data?.importSegmentMembers as
        | { unmatched: { value: string; reason: string }[] }
        | null
        | undefined;
      if (!result) return;
      expect(result.unmatched).toContainEqual(
        expect.objectContaining({ value: 'bsecret@example.com', reason: 'UNKNOWN_EMAIL' }),
      );
    },
  },
  'Mutation.trackEvents': {
    why: "B's message ids and identities, tracked in A (idempotency must be per workspace)",
    args: (ids) => ({
      events: [
        {
          type: 'TRACK',
          userId: ids.contact,
          event: 'Order Completed',
          messageId: ids.contact === 'bsecret-user' ? 'bsecret-msg-3' : 'bsecret-msg-6',
          properties: { order_id: 'alpha-track-order', revenue: 1, currency: 'USD' },
        },
      ],
    }),
    check: (answer) => {
      const result = answer.data?.trackEvents as { accepted: number } | undefined;
      expect(result?.accepted).toBe(1);
    },
  },
  'Mutation.rebuildProjection': {
    why: 'a projection name (the rebuild is global, owner-only and changes no data)',
    args: () => ({ name: 'campaigns' }),
  },
  'Mutation.revokeApiKey': {
    why: "B's keys are not A's to revoke",
    check: (answer) => {
      expect(answer.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    },
  },
  'Mutation.changeExperimentWeights': {
    why: 'weights that sum to 100 (generated) for two variants',
  },
  'Mutation.declareWinner': {
    why: "a variant key B's experiments have",
    args: () => ({ variant: 'treatment', note: 'alpha note' }),
  },
  'Mutation.createApiKey': {
    why: 'a key in A: its answer must not show B',
    args: () => ({ input: { name: 'alpha key', role: 'VIEWER' } }),
  },
  'Subscription.projectionProgress': {
    why: 'a projection name; progress is global and carries no tenant data',
    args: () => ({ name: 'campaigns' }),
  },
};

/** Enum arguments whose every value is asked (attribution models differ in what they read). */
const ENUMERATED_ARGUMENTS = new Set(['model']);

interface GenerationResult {
  readonly operations: Operation[];
  /** Root fields with no operation, and why. */
  readonly uncovered: string[];
}

function generateOperations(
  schema: GraphQLSchema,
  kind: OperationKind,
  targets: Readonly<Record<Target, TargetIds>>,
  options: { readonly commandIds: boolean; readonly asOf: boolean },
): GenerationResult {
  const root =
    kind === 'query'
      ? schema.getQueryType()
      : kind === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const operations: Operation[] = [];
  const uncovered: string[] = [];
  const seen = new Set<string>();
  for (const field of Object.values(root?.getFields() ?? {})) {
    const coordinate = `${root?.name}.${field.name}`;
    const override = OVERRIDES[coordinate];
    const selection = selectionOf(field.type, 0);
    const add = (label: string, target: Target, values: Record<string, unknown>) => {
      const document = operationText(kind, field, values, selection);
      const variables = Object.fromEntries(
        Object.entries(values).filter(([name]) => field.args.some((a) => a.name === name)),
      );
      const key = `${document}|${JSON.stringify(variables)}`;
      if (seen.has(key)) return;
      seen.add(key);
      operations.push({
        kind,
        field: field.name,
        label: `${coordinate} [${target}${label ? `, ${label}` : ''}]`,
        target,
        document,
        variables,
      });
    };
    let failure: string | null = null;
    for (const target of ['b-only', 'shared'] as const) {
      const ids = targets[target];
      const context: FillContext = {
        field: field.name,
        ids,
        target,
        commandId: options.commandIds && target === 'b-only' ? commandIdOf(field.name) : undefined,
      };
      let values: Record<string, unknown> = {};
      try {
        for (const argument of field.args) {
          const value = argumentValue(argument, context);
          if (value !== undefined) values[argument.name] = value.value;
        }
      } catch (error) {
        if (!(error instanceof CannotFill) || !override?.args) {
          failure = error instanceof Error ? error.message : String(error);
          break;
        }
      }
      values = { ...values, ...override?.args?.(ids, target) };
      const missing = field.args.filter((a) => isRequired(a) && !(a.name in values));
      if (missing.length > 0) {
        failure = `no value for ${missing.map((a) => a.name).join(', ')}`;
        break;
      }
      const enumerated = field.args.find((a) => ENUMERATED_ARGUMENTS.has(a.name));
      const enumType = enumerated ? getNamedType(enumerated.type) : undefined;
      const enumValues = isEnumType(enumType)
        ? enumType.getValues().map((value) => value.name)
        : [null];
      for (const enumValue of enumValues) {
        const base =
          enumerated && enumValue !== null ? { ...values, [enumerated.name]: enumValue } : values;
        const label = enumValue ?? '';
        add(label, target, base);
        if (options.asOf && field.args.some((a) => a.name === 'asOf')) {
          add(`${label} asOf`.trim(), target, { ...base, asOf: new Date().toISOString() });
        }
        if (field.args.some((a) => a.name === 'lookbackDays' && !isRequired(a))) {
          add(`${label} recomputed`.trim(), target, { ...base, lookbackDays: 45 });
        }
      }
      for (const [label, extra] of Object.entries(override?.variants?.(ids, target) ?? {})) {
        add(label, target, { ...values, ...extra });
      }
      if (kind === 'subscription') {
        const optionalIds = field.args.filter((a) => !isRequired(a) && a.name in values);
        if (optionalIds.length > 0) {
          const all = { ...values };
          for (const argument of optionalIds) delete all[argument.name];
          add('whole workspace', target, all);
        }
      }
    }
    if (failure !== null) uncovered.push(`${coordinate}: ${failure}`);
  }
  return { operations, uncovered };
}

/** B's seeding commands and A's b-only mutations share these command ids. */
function commandIdOf(field: string): string {
  return `bsecret-cmd-${field}`;
}

// ---------------------------------------------------------------------------------------------
// Answers and what they may show
// ---------------------------------------------------------------------------------------------

interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
}

/** Numbers that differ from one read to the next and carry nothing of a tenant. */
const VOLATILE_KEYS = new Set(['tookMs', 'lagMs', 'eventsPerSecond', 'etaSeconds']);

function withoutVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatile);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !VOLATILE_KEYS.has(key) && key !== 'stacktrace')
        .map(([key, inner]) => [key, withoutVolatile(inner)]),
    );
  }
  return value;
}

/** Every string the caller itself sent (and its lines and items): an echo of them is no leak. */
function sentStrings(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') {
    into.add(value);
    for (const piece of value.split(/[\n,]/)) if (piece.trim() !== '') into.add(piece.trim());
  } else if (Array.isArray(value)) {
    for (const item of value) sentStrings(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) sentStrings(item, into);
  }
  return into;
}

/** Where B's markers show in an answer, once the caller's own arguments are taken out. */
function markersIn(answer: unknown, sent: unknown): string[] {
  let text = JSON.stringify(withoutVolatile(answer));
  const echoes = [...sentStrings(sent)].sort((a, b) => b.length - a.length);
  for (const echo of echoes) text = text.split(JSON.stringify(echo).slice(1, -1)).join('«sent»');
  const found: string[] = [];
  for (const marker of MARKERS) {
    let at = text.indexOf(marker);
    while (at !== -1) {
      found.push(`…${text.slice(Math.max(0, at - 80), at + 80)}…`);
      at = text.indexOf(marker, at + marker.length);
    }
  }
  return found;
}

/** Error codes an operation aimed at B's objects may answer A with. */
const ALLOWED_ERROR_CODES = new Set(['NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT']);

/** What A's own seeded objects carry (names, ids, email, amounts): an answer about A's data. */
const A_DATA = /alpha|Alpha|shared-|12\.5/;

/**
 * Counts an answer's errors by code into `counts`, and describes those that are not a
 * resolver's refusal of B's objects: a code not allowed, or an error without a `path`, raised
 * before any resolver ran (validation, variables), so that the operation checked nothing.
 */
function unexpectedErrors(
  label: string,
  answer: GraphQLAnswer,
  counts: Map<string, number>,
): string[] {
  const unexpected: string[] = [];
  for (const error of answer.errors ?? []) {
    const code = error.extensions?.code ?? 'NONE';
    counts.set(code, (counts.get(code) ?? 0) + 1);
    if (!ALLOWED_ERROR_CODES.has(code)) {
      unexpected.push(`${label}: unexpected ${code}: ${error.message}`);
    } else if (!error.path) {
      unexpected.push(`${label}: ${code} before any resolver ran: ${error.message}`);
    }
  }
  return unexpected;
}

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

describe('tenant isolation: a key of workspace A reaches nothing of workspace B', () => {
  let touchline: TestServer;
  let schema: GraphQLSchema;
  let targets: Record<Target, TargetIds>;
  let queries: Operation[];
  /** A's answers before B existed, by operation label. */
  const before = new Map<string, GraphQLAnswer>();
  const report: string[] = [];

  const endpoint = (path: string) => touchline.url.replace(/\/graphql$/, path);

  async function graphql(
    workspaceId: string,
    document: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLAnswer> {
    const response = await fetch(touchline.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await touchline.key(workspaceId)}`,
      },
      body: JSON.stringify({ query: document, variables }),
    });
    return (await response.json()) as GraphQLAnswer;
  }

  /** A GraphQL call that must succeed. */
  async function ok<T = Record<string, unknown>>(
    workspaceId: string,
    document: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    const answer = await graphql(workspaceId, document, variables);
    if (answer.errors?.length) {
      throw new Error(`${document} failed: ${JSON.stringify(answer.errors)}`);
    }
    return answer.data as T;
  }

  /** Until every projection and process manager has caught up with the log (bounded). */
  async function settle(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const head = await touchline.server.eventStore.headPosition();
      if (!(await touchline.server.manager.waitForPosition(head, 5000))) {
        throw new Error(`the projections did not reach ${head} in time`);
      }
      const rebuilding = (await touchline.server.manager.status()).some(
        (status) => status.rebuild !== null && !status.rebuild.done,
      );
      if (!rebuilding && (await touchline.server.eventStore.headPosition()) === head) return;
      if (Date.now() > deadline) {
        const statuses = JSON.stringify(await touchline.server.manager.status(), (_, value) =>
          typeof value === 'bigint' ? String(value) : value,
        );
        throw new Error(`the log did not settle in time; projections: ${statuses}`);
      }
      await touchline.server.manager.waitForPosition(head + 1n, 200);
    }
  }

  const page = (messageId: string, who: object, campaign: object, url: string, days: number) => ({
    type: 'page',
    ...who,
    messageId,
    timestamp: ago(days),
    name: 'Landing',
    context: { campaign, page: { url, referrer: 'https://www.google.com/' } },
  });
  const identify = (messageId: string, who: object, traits: object, days: number) => ({
    type: 'identify',
    ...who,
    messageId,
    timestamp: ago(days),
    traits,
  });
  const track = (
    messageId: string,
    who: object,
    event: string,
    properties: object,
    days: number,
  ) => ({
    type: 'track',
    ...who,
    messageId,
    timestamp: ago(days),
    event,
    properties,
  });

  async function send(workspaceId: string, batch: object[]): Promise<void> {
    const answer = await postBatch(touchline, batch, workspaceId);
    expect(answer).toMatchObject({ accepted: batch.length, rejected: [] });
  }

  const CREATE_CAMPAIGN = gql`
    mutation ($input: CreateCampaignInput!, $commandId: String) {
      createCampaign(input: $input, commandId: $commandId) {
        position
      }
    }
  `;
  const LAUNCH = gql`
    mutation ($id: ID!, $commandId: String) {
      launchCampaign(id: $id, commandId: $commandId) {
        position
      }
    }
  `;
  const CREATE_FUNNEL = gql`
    mutation ($id: ID, $input: FunnelInput!, $commandId: String) {
      createFunnel(id: $id, input: $input, commandId: $commandId) {
        position
      }
    }
  `;
  const CREATE_SEGMENT = gql`
    mutation ($input: CreateSegmentInput!, $commandId: String) {
      createSegment(input: $input, commandId: $commandId) {
        position
      }
    }
  `;
  const ADD_MEMBERS = gql`
    mutation ($id: ID!, $contactIds: [ID!]!, $commandId: String) {
      addSegmentMembers(id: $id, contactIds: $contactIds, commandId: $commandId) {
        position
      }
    }
  `;
  const CREATE_EXPERIMENT = gql`
    mutation ($key: ID!, $input: ExperimentInput!, $commandId: String) {
      createExperiment(key: $key, input: $input, commandId: $commandId) {
        position
      }
    }
  `;
  const START_EXPERIMENT = gql`
    mutation ($key: ID!, $commandId: String) {
      startExperiment(key: $key, commandId: $commandId) {
        position
      }
    }
  `;
  const ASSIGN = gql`
    mutation ($key: ID!, $contactId: String!) {
      assignVariant(experimentKey: $key, contactId: $contactId) {
        variant
      }
    }
  `;
  const UPDATE_CAMPAIGN = gql`
    mutation ($id: ID!, $input: UpdateCampaignInput!) {
      updateCampaign(id: $id, input: $input) {
        position
      }
    }
  `;
  const RECORD_SPEND = gql`
    mutation ($input: SpendInput!, $commandId: String) {
      recordSpend(input: $input, commandId: $commandId) {
        position
      }
    }
  `;

  const experimentInput = (campaignId: string, label: string) => ({
    name: `${label} experiment`,
    hypothesis: `${label} hypothesis`,
    campaignId,
    variants: [
      { key: 'control', name: `${label} control`, content: { headline: `${label} control` } },
      { key: 'treatment', name: `${label} treatment`, content: { headline: `${label} treatment` } },
    ],
    primaryMetric: {
      key: 'ordered',
      name: `${label} ordered`,
      kind: 'CONVERSION',
      event: 'Order Completed',
    },
  });
  const funnelInput = (label: string) => ({
    name: `${label} funnel`,
    steps: [{ event: '$pageview' }, { event: 'Order Completed' }],
    breakdown: { property: '$utm_campaign' },
  });

  async function seedA(): Promise<void> {
    await ok(A, CREATE_CAMPAIGN, {
      input: {
        id: 'shared-campaign',
        name: 'Alpha shared campaign',
        description: 'Alpha description',
        channels: ['PAID_SEARCH'],
        budget: { amount: '500', currency: 'USD' },
      },
    });
    await ok(A, LAUNCH, { id: 'shared-campaign' });
    const google = { source: 'google', medium: 'cpc', name: 'shared-campaign' };
    await send(A, [
      page('alpha-msg-1', { anonymousId: 'alpha-anon' }, google, 'https://alpha.example/', 3),
      identify(
        'alpha-msg-2',
        { userId: 'shared-user', anonymousId: 'alpha-anon' },
        { email: 'alpha@example.com', name: 'Alpha person', plan: 'pro' },
        3,
      ),
      track(
        'alpha-msg-3',
        { userId: 'shared-user' },
        'Order Completed',
        {
          order_id: 'alpha-order-1',
          revenue: 12.5,
          currency: 'USD',
          campaign_id: 'shared-campaign',
        },
        2,
      ),
    ]);
    await ok(A, CREATE_FUNNEL, { id: 'shared-funnel', input: funnelInput('Alpha') });
    await ok(A, CREATE_SEGMENT, {
      input: { id: 'shared-segment', name: 'Alpha segment', kind: 'STATIC' },
    });
    await ok(A, ADD_MEMBERS, { id: 'shared-segment', contactIds: ['shared-user'] });
    await ok(A, CREATE_SEGMENT, {
      input: {
        id: 'alpha-dynamic',
        name: 'Alpha dynamic',
        conditions: { kind: 'trait', property: 'plan', operator: 'eq', value: 'pro' },
      },
    });
    await ok(A, CREATE_EXPERIMENT, {
      key: 'shared-exp',
      input: experimentInput('shared-campaign', 'Alpha'),
    });
    await ok(A, START_EXPERIMENT, { key: 'shared-exp' });
    await ok(A, ASSIGN, { key: 'shared-exp', contactId: 'shared-user' });
    await settle();
  }

  /** B's data of every kind, each object's name, traits and amounts carrying a marker. */
  async function seedB(): Promise<void> {
    const campaign = (id: string, name: string) => ({
      id,
      name,
      description: `${name}: bsecret description`,
      tags: ['bsecret-tag'],
      channels: ['PAID_SEARCH', 'EMAIL'],
      budget: { amount: '100000', currency: 'USD' },
    });
    await ok(B, CREATE_CAMPAIGN, {
      input: campaign('bsecret-campaign', 'bsecret campaign'),
      commandId: commandIdOf('createCampaign'),
    });
    await ok(B, LAUNCH, { id: 'bsecret-campaign', commandId: commandIdOf('launchCampaign') });
    await ok(B, CREATE_CAMPAIGN, { input: campaign('shared-campaign', 'bsecret shared campaign') });
    await ok(B, LAUNCH, { id: 'shared-campaign' });

    const utm = (name: string, source = 'google') => ({ source, medium: 'cpc', name });
    const email = (messageId: string, event: string) =>
      track(
        messageId,
        { userId: 'bsecret-user' },
        event,
        {
          campaign_id: 'bsecret-campaign',
          email_id: 'bsecret-email',
          email_subject: 'bsecret subject',
          link_url: 'https://bsecret.example/offer',
        },
        4,
      );
    await send(B, [
      page(
        'bsecret-msg-1',
        { anonymousId: 'bsecret-anon' },
        utm('bsecret-campaign'),
        'https://bsecret.example/',
        5,
      ),
      identify(
        'bsecret-msg-2',
        { userId: 'bsecret-user', anonymousId: 'bsecret-anon' },
        { email: 'bsecret@example.com', name: 'bsecret person', plan: 'pro' },
        5,
      ),
      track(
        'bsecret-msg-3',
        { userId: 'bsecret-user' },
        'Order Completed',
        {
          order_id: 'bsecret-order-1',
          revenue: 9137.53,
          currency: 'USD',
          campaign_id: 'bsecret-campaign',
        },
        4,
      ),
      email('bsecret-msg-e1', 'Email Sent'),
      email('bsecret-msg-e2', 'Email Delivered'),
      email('bsecret-msg-e3', 'Email Opened'),
      email('bsecret-msg-e4', 'Email Link Clicked'),
      page(
        'bsecret-msg-4',
        { userId: 'shared-user' },
        utm('shared-campaign', 'bsecretsource'),
        'https://bsecret.example/shared',
        3,
      ),
      identify(
        'bsecret-msg-5',
        { userId: 'shared-user' },
        { email: 'shared-bsecret@example.com', name: 'bsecret shared person', plan: 'pro' },
        3,
      ),
      track(
        'bsecret-msg-6',
        { userId: 'shared-user' },
        'Order Completed',
        {
          order_id: 'bsecret-order-2',
          revenue: 9137.53,
          currency: 'USD',
          campaign_id: 'shared-campaign',
        },
        2,
      ),
      track(
        'bsecret-msg-7',
        { userId: 'shared-user' },
        'Promotion Viewed',
        { campaign_id: 'shared-campaign', promotion_id: 'bsecret-promo', creative: 'bsecret' },
        2,
      ),
      track(
        'bsecret-msg-8',
        { userId: 'shared-user' },
        'Promotion Clicked',
        { campaign_id: 'shared-campaign', promotion_id: 'bsecret-promo', creative: 'bsecret' },
        2,
      ),
    ]);

    await ok(B, CREATE_FUNNEL, {
      id: 'bsecret-funnel',
      input: funnelInput('bsecret'),
      commandId: commandIdOf('createFunnel'),
    });
    await ok(B, CREATE_FUNNEL, { id: 'shared-funnel', input: funnelInput('bsecret shared') });
    await ok(B, CREATE_SEGMENT, {
      input: {
        id: 'bsecret-dynamic',
        name: 'bsecret dynamic',
        description: 'bsecret description',
        conditions: {
          kind: 'trait',
          property: 'email',
          operator: 'eq',
          value: 'bsecret@example.com',
        },
      },
      commandId: commandIdOf('createSegment'),
    });
    await ok(B, CREATE_SEGMENT, {
      input: { id: 'bsecret-static', name: 'bsecret static', kind: 'STATIC' },
    });
    await ok(B, ADD_MEMBERS, {
      id: 'bsecret-static',
      contactIds: ['bsecret-user', 'shared-user'],
      commandId: commandIdOf('addSegmentMembers'),
    });
    await ok(B, CREATE_SEGMENT, {
      input: { id: 'shared-segment', name: 'bsecret shared segment', kind: 'STATIC' },
    });
    await ok(B, ADD_MEMBERS, { id: 'shared-segment', contactIds: ['shared-user'] });
    for (const [key, campaignId] of [
      ['bsecret-exp', 'bsecret-campaign'],
      ['shared-exp', 'shared-campaign'],
    ] as const) {
      await ok(B, CREATE_EXPERIMENT, {
        key,
        input: experimentInput(campaignId, 'bsecret'),
        commandId: key === 'bsecret-exp' ? commandIdOf('createExperiment') : undefined,
      });
      await ok(B, START_EXPERIMENT, {
        key,
        commandId: key === 'bsecret-exp' ? commandIdOf('startExperiment') : undefined,
      });
      await ok(B, ASSIGN, { key, contactId: 'bsecret-user' });
      await ok(B, ASSIGN, { key, contactId: 'shared-user' });
    }
    await ok(
      B,
      gql`
        mutation ($commandId: String) {
          configureAttribution(lookbackDays: 17, halfLifeDays: 3.1415, commandId: $commandId) {
            position
          }
        }
      `,
      { commandId: commandIdOf('configureAttribution') },
    );
    await ok(B, RECORD_SPEND, {
      input: {
        campaignId: 'bsecret-campaign',
        channel: 'PAID_SEARCH',
        day: TODAY,
        entryId: 'bsecret-entry',
        amount: { amount: '6841.27', currency: 'USD' },
        note: 'bsecret note',
      },
      commandId: commandIdOf('recordSpend'),
    });
    const adReport = await fetch(endpoint('/v1/ad-reports'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await touchline.key(B, 'ingest')}`,
      },
      body: JSON.stringify([
        {
          campaignId: 'shared-campaign',
          channel: 'PAID_SEARCH',
          day: TODAY,
          source: 'bsecret-ads',
          impressions: 913,
          clicks: 91,
          spend: { amount: '6841.27', currency: 'USD' },
        },
      ]),
    });
    expect(adReport.status).toBe(200);
    await ok(
      B,
      gql`
        mutation {
          createApiKey(input: { name: "bsecret key", role: VIEWER }) {
            position
          }
        }
      `,
    );
    await settle();
  }

  /** B's answers to every generated query (the no-asOf ones), asked with B's own key. */
  async function snapshotOfB(): Promise<Map<string, unknown>> {
    const snapshot = new Map<string, unknown>();
    for (const operation of queries) {
      if (operation.label.includes('asOf') || operation.field === 'projections') continue;
      snapshot.set(
        operation.label,
        withoutVolatile(await graphql(B, operation.document, operation.variables)),
      );
    }
    snapshot.set('B: the whole log', await ok(B, EVERY_EVENT));
    return snapshot;
  }

  const EVERY_EVENT = gql`
    {
      events(first: 500) {
        nodes {
          position
          streamId
          type
          data
        }
      }
    }
  `;

  beforeAll(async () => {
    touchline = await startTestServer(undefined, {
      TOUCHLINE_RATE_LIMIT_EXPENSIVE: '1000000',
      TOUCHLINE_RATE_LIMIT_EXPENSIVE_BURST: '1000000',
    });
    schema = await buildTouchlineSchema();
    await touchline.key(A);
    await touchline.key(B);
    await touchline.key(B, 'viewer');
    const { apiKeys } = await ok<{ apiKeys: { id: string; role: string }[] }>(
      B,
      '{ apiKeys { id role } }',
    );
    targets = targetIds({
      owner: apiKeys.find((key) => key.role === 'OWNER')?.id ?? 'missing',
      other: apiKeys.find((key) => key.role === 'VIEWER')?.id ?? 'missing',
    });
    queries = generateOperations(schema, 'query', targets, {
      commandIds: false,
      asOf: false,
    }).operations;
    await seedA();
  }, 60_000);

  afterAll(async () => {
    await touchline?.stop();
    // The report says what the generator covered; jest shows it when run with --verbose.
    if (report.length > 0) console.info(report.join('\n'));
  });

  it('covers every root field of the schema with a generated or overridden operation', () => {
    const counts: string[] = [];
    const uncovered: string[] = [];
    for (const kind of ['query', 'mutation', 'subscription'] as const) {
      const generated = generateOperations(schema, kind, targets, {
        commandIds: kind === 'mutation',
        asOf: kind === 'query',
      });
      uncovered.push(...generated.uncovered);
      const fields = new Set(generated.operations.map((operation) => operation.field));
      counts.push(`${kind}: ${fields.size} fields, ${generated.operations.length} operations`);
    }
    report.push(`tenant isolation coverage: ${counts.join('; ')}`);
    expect(uncovered).toEqual([]);
    const unknownOverrides = Object.keys(OVERRIDES).filter((coordinate) => {
      const [type, field] = coordinate.split('.');
      const root =
        type === 'Query'
          ? schema.getQueryType()
          : type === 'Mutation'
            ? schema.getMutationType()
            : schema.getSubscriptionType();
      return !root?.getFields()[field ?? ''];
    });
    expect(unknownOverrides).toEqual([]);
  });

  it('given only A has data, A answers every query (the answers B must not change)', async () => {
    for (const operation of queries) {
      before.set(operation.label, await graphql(A, operation.document, operation.variables));
    }
    // Every operation reached its resolver (none failed validation or its variables, which
    // would check nothing), and most of them answer A something of its own: the later
    // "answers as before" compares real answers, not a wall of errors or nulls.
    const unexpected = new Map<string, number>();
    const refused = queries.flatMap((operation) =>
      unexpectedErrors(operation.label, before.get(operation.label) ?? {}, unexpected),
    );
    expect(refused).toEqual([]);
    const answeringA = queries.filter((operation) =>
      A_DATA.test(JSON.stringify(before.get(operation.label)?.data ?? null)),
    );
    report.push(`queries answering A's own data: ${answeringA.length} of ${queries.length}`);
    expect(answeringA.length).toBeGreaterThanOrEqual(queries.length / 2);
    // The generator reaches real data: A's own objects are found under the shared ids.
    const shared = (field: string) =>
      before.get(`Query.${field} [shared]`)?.data?.[field] as Record<string, unknown> | null;
    expect(shared('campaign')).toMatchObject({ name: 'Alpha shared campaign' });
    expect(shared('contact')).toMatchObject({ traits: { email: 'alpha@example.com' } });
    expect(shared('funnel')).toMatchObject({ id: 'shared-funnel' });
    expect(shared('segment')).toMatchObject({ name: 'Alpha segment' });
    expect(shared('experiment')).toMatchObject({ key: 'shared-exp' });
  });

  it('given B has data of every kind, then every query answers A as before, with nothing of B', async () => {
    await seedB();
    // B's own key sees its markers: the check below would see them too.
    const own = await graphql(
      B,
      queries.find((q) => q.label === 'Query.campaign [b-only]')!.document,
      {
        id: 'bsecret-campaign',
      },
    );
    expect(markersIn(own, {})).not.toEqual([]);

    const asOfOperations = generateOperations(schema, 'query', targets, {
      commandIds: false,
      asOf: true,
    }).operations.filter((operation) => operation.label.includes('asOf'));
    const leaks: string[] = [];
    const changed: string[] = [];
    const errors = new Map<string, number>();
    for (const operation of [...queries, ...asOfOperations]) {
      const answer = await graphql(A, operation.document, operation.variables);
      for (const found of markersIn(answer, operation.variables)) {
        leaks.push(`${operation.label}: ${found}`);
      }
      leaks.push(...unexpectedErrors(operation.label, answer, errors));
      const earlier = before.get(operation.label);
      if (earlier && !GLOBAL_QUERIES.has(operation.field)) {
        const now = JSON.stringify(withoutVolatile(answer));
        if (now !== JSON.stringify(withoutVolatile(earlier))) {
          changed.push(
            `${operation.label}:\n  before ${JSON.stringify(withoutVolatile(earlier))}\n  after  ${now}`,
          );
        }
      }
    }
    report.push(
      `queries: ${queries.length + asOfOperations.length} operations; errors by code: ${JSON.stringify(Object.fromEntries(errors))}`,
    );
    expect(leaks).toEqual([]);
    expect(changed).toEqual([]);

    // Related objects are loaded by id in A's workspace only (DataLoaders), though B has the
    // same campaign, contact and segment ids.
    const members = await ok<{
      segmentMembers: { nodes: { contact: { traits: { email?: string } } | null }[] };
    }>(A, '{ segmentMembers(segmentId: "shared-segment") { nodes { contact { traits } } } }');
    expect(members.segmentMembers.nodes).toEqual([
      {
        contact: expect.objectContaining({
          traits: expect.objectContaining({ email: 'alpha@example.com' }),
        }),
      },
    ]);
    const summaries = await ok<{ compareCampaigns: { campaign: { name: string } | null }[] }>(
      A,
      gql`
        query ($from: DateTime!, $to: DateTime!) {
          compareCampaigns(
            campaignIds: ["shared-campaign", "bsecret-campaign"]
            from: $from
            to: $to
          ) {
            campaign {
              name
            }
          }
        }
      `,
      { from: FROM, to: TO },
    );
    expect(summaries.compareCampaigns).toEqual([
      { campaign: { name: 'Alpha shared campaign' } },
      { campaign: null },
    ]);
  });

  it('given subscriptions of A naming B’s objects (or none), when B changes, then A hears nothing of it', async () => {
    const operations = generateOperations(schema, 'subscription', targets, {
      commandIds: false,
      asOf: false,
    }).operations;
    interface Heard {
      readonly operation: Operation;
      readonly messages: unknown[];
      readonly errors: unknown[];
      ended: boolean;
    }
    const listen = (workspaceId: string): Heard[] => {
      const client = touchline.subscriptions(workspaceId);
      return operations.map((operation) => {
        const heard: Heard = { operation, messages: [], errors: [], ended: false };
        client.subscribe(
          { query: operation.document, variables: operation.variables },
          {
            next: (message) => heard.messages.push(message),
            error: (error) => {
              heard.errors.push(error);
              heard.ended = true;
            },
            complete: () => {
              heard.ended = true;
            },
          },
        );
        return heard;
      });
    };
    const listeners = touchline.server.changeFeed.subscriberCount;
    const heardByA = listen(A);
    const heardByB = listen(B);
    const everyone = [...heardByA, ...heardByB];
    await until(
      () =>
        touchline.server.changeFeed.subscriberCount -
          listeners +
          everyone.filter((heard) => heard.ended).length >=
        everyone.length,
      'every subscription to start',
      10_000,
    );
    expect(heardByB.filter((heard) => heard.ended).map((heard) => heard.operation.label)).toEqual(
      [],
    );

    // A subscription to an object A does not have may fail at once (NOT_FOUND); nothing else
    // reaches A before B changes.
    const earlyLeaks: string[] = [];
    for (const heard of heardByA) {
      for (const message of heard.messages as GraphQLAnswer[]) {
        const codes = (message.errors ?? []).map((error) => error.extensions?.code);
        if (message.data || codes.length === 0 || codes.some((code) => code !== 'NOT_FOUND')) {
          earlyLeaks.push(`${heard.operation.label}: ${JSON.stringify(message)}`);
        }
      }
    }
    expect(earlyLeaks).toEqual([]);
    const heardBeforeB = heardByA.map((heard) => heard.messages.length);

    // One change of every kind in B.
    await ok(B, 'mutation { rebuildProjection(name: "campaigns") { generation } }');
    for (const id of ['bsecret-campaign', 'shared-campaign']) {
      await ok(B, UPDATE_CAMPAIGN, { id, input: { description: 'bsecret pulse' } });
      await ok(B, RECORD_SPEND, {
        input: {
          campaignId: id,
          channel: 'PAID_SEARCH',
          day: TODAY,
          entryId: `bsecret-pulse-${id}`,
          amount: { amount: '80000', currency: 'USD' },
        },
      });
    }
    const pulse = { userId: 'bsecret-pulse' };
    await send(B, [
      page(
        'bsecret-pulse-1',
        pulse,
        { source: 'google', medium: 'cpc', name: 'bsecret-campaign' },
        'https://bsecret.example/p',
        0,
      ),
      identify(
        'bsecret-pulse-2',
        pulse,
        { email: 'bsecret@example.com', name: 'bsecret pulse' },
        0,
      ),
      track(
        'bsecret-pulse-3',
        pulse,
        'Promotion Viewed',
        { campaign_id: 'shared-campaign', promotion_id: 'bsecret-promo' },
        0,
      ),
      track(
        'bsecret-pulse-4',
        pulse,
        'Order Completed',
        {
          order_id: 'bsecret-pulse-order',
          revenue: 9137.53,
          currency: 'USD',
          campaign_id: 'bsecret-campaign',
        },
        0,
      ),
    ]);
    await ok(B, ADD_MEMBERS, { id: 'shared-segment', contactIds: ['bsecret-pulse'] });
    for (const key of ['bsecret-exp', 'shared-exp']) {
      await ok(B, ASSIGN, { key, contactId: 'bsecret-pulse' });
    }
    await until(
      () => heardByB.every((heard) => heard.messages.length > 0),
      `B's subscribers to hear B's changes (still waiting: ${heardByB
        .filter((heard) => heard.messages.length === 0)
        .map((heard) => heard.operation.label)
        .join(', ')})`,
      15_000,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}: ${heardByB
          .filter((heard) => heard.messages.length === 0)
          .map((heard) => heard.operation.label)
          .join(', ')}`,
      );
    });
    // One more change B hears after all of the above: whatever A was sent has arrived by then.
    const campaignChanges = heardByB.find(
      (heard) => heard.operation.label === 'Subscription.campaignChanged [shared]',
    );
    const heardSoFar = campaignChanges?.messages.length ?? 0;
    await ok(B, UPDATE_CAMPAIGN, { id: 'shared-campaign', input: { description: 'bsecret last' } });
    await until(
      () => (campaignChanges?.messages.length ?? 0) > heardSoFar,
      'B to hear its last change',
      10_000,
    );

    const leaks: string[] = [];
    heardByA.forEach((heard, index) => {
      const global = GLOBAL_SUBSCRIPTIONS.has(heard.operation.field);
      const heardOfB = heard.messages.slice(heardBeforeB[index]);
      if (!global && heardOfB.length > 0) {
        leaks.push(`${heard.operation.label}: ${JSON.stringify(heardOfB)}`);
      }
      for (const found of markersIn([heard.messages, heard.errors], heard.operation.variables)) {
        leaks.push(`${heard.operation.label}: ${found}`);
      }
    });
    report.push(
      `subscriptions: ${operations.length} operations; A's that failed at once: ${heardBeforeB.filter((count) => count > 0).length}; A's global ones that heard B's rebuild: ${heardByA.filter((heard, index) => GLOBAL_SUBSCRIPTIONS.has(heard.operation.field) && heard.messages.length > heardBeforeB[index]!).length}`,
    );
    expect(leaks).toEqual([]);
  });

  let snapshot: Map<string, unknown>;

  const differences = (earlier: Map<string, unknown>, later: Map<string, unknown>) =>
    [...earlier.keys()]
      .filter((label) => JSON.stringify(earlier.get(label)) !== JSON.stringify(later.get(label)))
      .map(
        (label) =>
          `${label}:\n  before ${JSON.stringify(earlier.get(label))}\n  after  ${JSON.stringify(later.get(label))}`,
      );

  it('given A’s key on the export endpoint, then the export shows nothing of B, whatever it filters on', async () => {
    const exported = async (workspaceId: string, query = '') => {
      const response = await fetch(endpoint(`/v1/export/events${query}`), {
        headers: { authorization: `Bearer ${await touchline.key(workspaceId)}` },
      });
      expect(response.status).toBe(200);
      return response.text();
    };
    expect(markersIn(await exported(B), {})).not.toEqual([]);
    const streamOfB = targets['b-only'].stream;
    const filters: Record<string, string> = {
      '': '',
      stream: `?streamId=${encodeURIComponent(streamOfB)}`,
      campaign: '?campaignId=bsecret-campaign',
      contact: '?contactId=bsecret-user',
      category: '?category=campaign',
    };
    for (const [name, query] of Object.entries(filters)) {
      const text = await exported(A, query);
      expect({
        name,
        leaks: markersIn(text, [streamOfB, 'bsecret-campaign', 'bsecret-user']),
      }).toEqual({
        name,
        leaks: [],
      });
    }
  });

  it('given mutations of A aimed at B’s objects, then B is unchanged and A is answered nothing of B', async () => {
    await settle();
    snapshot = await snapshotOfB();
    // First every mutation naming B's ids while A has no object of those ids, those that
    // create last (they create A's own); then those naming the ids A's objects share with B's.
    const creates = (operation: Operation) => /^(create|duplicate)/.test(operation.field);
    const rank = (operation: Operation) =>
      operation.target === 'shared' ? 2 : creates(operation) ? 1 : 0;
    const mutations = generateOperations(schema, 'mutation', targets, {
      commandIds: true,
      asOf: false,
    }).operations.sort((a, b) => rank(a) - rank(b));
    const leaks: string[] = [];
    const errors = new Map<string, number>();
    for (const operation of mutations) {
      const answer = await graphql(A, operation.document, operation.variables);
      // A's own objects made earlier in this loop carry B's ids: naming them is no leak.
      for (const found of markersIn(answer, [operation.variables, targets])) {
        leaks.push(`${operation.label}: ${found}`);
      }
      leaks.push(...unexpectedErrors(operation.label, answer, errors));
      // B's command ids are B's: A's command with the same id is a new command of A's.
      if (
        operation.target === 'b-only' &&
        JSON.stringify(answer.data ?? {}).includes('"replayed":true')
      ) {
        leaks.push(
          `${operation.label}: replayed B's command ${String(operation.variables.commandId)}`,
        );
      }
      OVERRIDES[`Mutation.${operation.field}`]?.check?.(answer, operation.target ?? 'b-only');
    }
    report.push(
      `mutations: ${mutations.length} operations; errors by code: ${JSON.stringify(Object.fromEntries(errors))}`,
    );
    expect(leaks).toEqual([]);

    await settle();
    expect(differences(snapshot, await snapshotOfB())).toEqual([]);
    // What A created under B's ids is A's.
    const created = await ok<{ campaign: { name: string } | null }>(
      A,
      '{ campaign(id: "bsecret-campaign") { name } }',
    );
    expect(created.campaign).not.toBeNull();
  });

  it('given A’s keys on the tracking and ad-report endpoints, naming B’s ids, then they write into A only', async () => {
    // Tracking with A's ingest key, naming B's identities, message ids and campaigns.
    const ingest = basicAuthorization(await touchline.key(A, 'ingest'));
    const post = async (path: string, body: unknown, authorization: string) => {
      const response = await fetch(endpoint(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(body),
      });
      return { status: response.status, text: await response.text() };
    };
    const named = (messageId: string) => ({
      userId: 'bsecret-user',
      messageId,
      timestamp: ago(1),
      properties: { campaign_id: 'bsecret-campaign' },
    });
    const answers = [
      await post(
        '/v1/batch',
        { batch: [{ type: 'track', event: 'Order Completed', ...named('bsecret-msg-3') }] },
        ingest,
      ),
      await post('/v1/track', { event: 'Email Opened', ...named('bsecret-msg-e3') }, ingest),
      await post(
        '/v1/identify',
        { ...named('bsecret-msg-2'), traits: { email: 'alpha2@example.com' } },
        ingest,
      ),
      await post('/v1/page', named('bsecret-msg-1'), ingest),
      await post(
        '/v1/ad-reports',
        ['bsecret-campaign', 'shared-campaign'].map((campaignId) => ({
          campaignId,
          channel: 'PAID_SEARCH',
          day: TODAY,
          source: 'bsecret-ads',
          impressions: 1,
          clicks: 1,
          spend: { amount: '1.00', currency: 'USD' },
        })),
        `Bearer ${await touchline.key(A, 'ingest')}`,
      ),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(
        markersIn(answer.text, [
          'bsecret-campaign',
          'bsecret-user',
          'bsecret-msg-3',
          'bsecret-msg-e3',
          'bsecret-msg-2',
          'bsecret-msg-1',
          'bsecret-ads',
        ]),
      ).toEqual([]);
    }
    await settle();
    expect(differences(snapshot, await snapshotOfB())).toEqual([]);
    // A's own contact got what A tracked under B's message ids.
    const contact = await ok<{ contact: { traits: { email?: string } } | null }>(
      A,
      '{ contact(id: "bsecret-user") { traits } }',
    );
    expect(contact.contact?.traits).toMatchObject({ email: 'alpha2@example.com' });
  });
});

/** Fields whose answers are about the whole server (log positions), not a tenant. */
const GLOBAL_QUERIES = new Set(['projections']);
/** Subscriptions that report on the whole server (a rebuild's progress), not a tenant. */
const GLOBAL_SUBSCRIPTIONS = new Set(['projectionProgress']);
