/**
 * The access policy over the real schema: every root field has a capability, every exception
 * names a field that exists, each role may run exactly the fields its capabilities allow,
 * fragments on the root cannot hide a field, and the expensive fields are recognised.
 */
import { type GraphQLObjectType, type GraphQLSchema, parse } from 'graphql';
import { type Capability, apiKeyRoles, roleMay } from '../../src/domain/workspace';
import { buildTouchlineSchema } from '../../src/graphql/schema';
import {
  FIELD_CAPABILITIES,
  type OperationAccess,
  type OperationKind,
  capabilityOf,
  expensiveField,
  forbiddenField,
  operationAccess,
} from '../../src/graphql/shared/access';

const capabilities: readonly Capability[] = ['read', 'command', 'ingest', 'administer'];
const rootTypes: Record<OperationKind, 'Query' | 'Mutation' | 'Subscription'> = {
  query: 'Query',
  mutation: 'Mutation',
  subscription: 'Subscription',
};

function accessOf(source: string, operationName?: string): OperationAccess {
  const access = operationAccess(parse(source), operationName);
  if (!access) throw new Error('no operation');
  return access;
}

/** The root fields of an access, by name. */
function namesOf(access: OperationAccess): string[] {
  return access.fields.map((field) => field.name.value);
}

describe('the access policy', () => {
  let schema: GraphQLSchema;
  const rootFields: [OperationKind, string][] = [];

  beforeAll(async () => {
    schema = await buildTouchlineSchema();
    for (const kind of Object.keys(rootTypes) as OperationKind[]) {
      const type = schema.getType(rootTypes[kind]) as GraphQLObjectType | undefined;
      if (!type) throw new Error(`the schema has no ${rootTypes[kind]}`);
      for (const name of Object.keys(type.getFields())) rootFields.push([kind, name]);
    }
  });

  it('gives every root field of Query, Mutation and Subscription a capability', () => {
    expect(rootFields.length).toBeGreaterThan(50);
    for (const [kind, field] of rootFields) {
      expect({ field, capability: capabilities.includes(capabilityOf(kind, field)) }).toEqual({
        field,
        capability: true,
      });
    }
  });

  it('reads with queries and subscriptions and commands with mutations, but for the exceptions', () => {
    const byCapability = (capability: Capability) =>
      rootFields
        .filter(([kind, field]) => capabilityOf(kind, field) === capability)
        .map(([kind, field]) => `${rootTypes[kind]}.${field}`)
        .sort();
    expect(byCapability('administer')).toEqual([
      'Mutation.createApiKey',
      'Mutation.rebuildProjection',
      'Mutation.revokeApiKey',
      'Query.apiKeys',
    ]);
    expect(byCapability('ingest')).toEqual(['Mutation.trackEvents']);
    expect(byCapability('read').every((name) => !name.startsWith('Mutation.'))).toBe(true);
    expect(byCapability('command').every((name) => name.startsWith('Mutation.'))).toBe(true);
    expect(capabilityOf('subscription', 'campaignChanged')).toBe('read');
  });

  it('names only root fields that exist in FIELD_CAPABILITIES', () => {
    const existing = new Set(rootFields.map(([kind, field]) => `${rootTypes[kind]}.${field}`));
    for (const name of Object.keys(FIELD_CAPABILITIES)) {
      expect({ name, exists: existing.has(name) }).toEqual({ name, exists: true });
    }
  });

  describe.each(apiKeyRoles)('with a key of role %s', (role) => {
    it('may run a one-field operation exactly when its role may use the field’s capability', () => {
      for (const [kind, field] of rootFields) {
        const access: OperationAccess = { kind, fields: accessOf(`${kind} { ${field} }`).fields };
        const capability = capabilityOf(kind, field);
        const expected = roleMay(role, capability) ? null : { field, capability };
        expect({ kind, field, forbidden: forbiddenField(role, access) }).toEqual({
          kind,
          field,
          forbidden: expected,
        });
      }
    });
  });

  describe('the root fields of an operation', () => {
    it('follow fragments and inline fragments on the root, however nested', () => {
      const access = accessOf(`
        query Mixed {
          campaigns { totalCount }
          ...Keys
          ... on Query { me { role } ... { workspace { id } } }
        }
        fragment Keys on Query { apiKeys { id } ...Again }
        fragment Again on Query { apiKeys { name } ...Keys }
      `);
      expect(namesOf(access)).toEqual(['campaigns', 'apiKeys', 'apiKeys', 'me', 'workspace']);
      expect(forbiddenField('viewer', access)).toEqual({
        field: 'apiKeys',
        capability: 'administer',
      });
      expect(forbiddenField('owner', access)).toBeNull();
    });

    it('find a forbidden mutation behind a fragment', () => {
      const access = accessOf(`
        mutation { ...Track ... on Mutation { createApiKey(input: { name: "x", role: VIEWER }) { secret } } }
        fragment Track on Mutation { trackEvents(events: []) { accepted } }
      `);
      expect(forbiddenField('ingest', access)).toEqual({
        field: 'createApiKey',
        capability: 'administer',
      });
      expect(forbiddenField('editor', access)).toEqual({
        field: 'createApiKey',
        capability: 'administer',
      });
    });

    it('leave out the meta fields, which anyone may ask', () => {
      const access = accessOf('query { __typename __schema { queryType { name } } }');
      expect(access.fields).toEqual([]);
      expect(forbiddenField('ingest', access)).toBeNull();
    });

    it('are those of the operation the request names', () => {
      const source =
        'query Read { me { role } } mutation Write { trackEvents(events: []) { accepted } }';
      expect(accessOf(source, 'Read')).toMatchObject({ kind: 'query' });
      expect(namesOf(accessOf(source, 'Write'))).toEqual(['trackEvents']);
      expect(operationAccess(parse(source), undefined)).toBeNull();
      expect(operationAccess(parse(source), 'Other')).toBeNull();
    });
  });

  describe('expensiveField', () => {
    it('names an ad-hoc analysis and a rebuild', () => {
      for (const [source, field] of [
        ['query { funnelAnalysis(definition: { steps: [] }) { entered } }', 'funnelAnalysis'],
        ['query { previewSegment(conditions: {}) { count } }', 'previewSegment'],
        ['mutation { rebuildProjection(name: "campaigns") { name } }', 'rebuildProjection'],
      ] as const) {
        expect(expensiveField(accessOf(source), {})).toBe(field);
      }
    });

    it('names a field asked asOf an instant, given inline or as a variable that is set', () => {
      const inline = accessOf('query { campaigns(asOf: "2026-01-01T00:00:00Z") { totalCount } }');
      expect(expensiveField(inline, {})).toBe('campaigns');
      const withVariable = accessOf(
        'query Q($asOf: DateTime) { me { role } campaigns(asOf: $asOf) { totalCount } }',
      );
      expect(expensiveField(withVariable, { asOf: '2026-01-01T00:00:00Z' })).toBe('campaigns');
    });

    it('does not name a field whose asOf is null, inline or as a variable null or absent', () => {
      expect(
        expensiveField(accessOf('query { campaigns(asOf: null) { totalCount } }'), {}),
      ).toBeNull();
      const withVariable = accessOf(
        'query Q($asOf: DateTime) { campaigns(asOf: $asOf) { totalCount } }',
      );
      expect(expensiveField(withVariable, { asOf: null })).toBeNull();
      expect(expensiveField(withVariable, {})).toBeNull();
      expect(expensiveField(withVariable, undefined)).toBeNull();
      expect(
        expensiveField(accessOf('query { campaigns { totalCount } me { role } }'), {}),
      ).toBeNull();
    });

    it('names an attribution recomputed with other channel rules', () => {
      const source = `query Q($rules: [ChannelRuleInput!]) {
        attribution(model: LINEAR, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", channelRules: $rules) { recomputed }
      }`;
      expect(expensiveField(accessOf(source), { rules: [] })).toBe('attribution');
      expect(expensiveField(accessOf(source), { rules: null })).toBeNull();
    });
  });
});
