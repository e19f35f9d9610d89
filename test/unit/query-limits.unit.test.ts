import fs from 'node:fs';
import path from 'node:path';
import { type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { buildTouchlineSchema } from '../../src/graphql/schema';
import { queryLimitRules, type QueryLimits } from '../../src/graphql/shared/query-limits';
import { loadConfig } from '../../src/infra/config';

const defaults: QueryLimits = loadConfig({ NODE_ENV: 'test' }).queryLimits;
let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildTouchlineSchema();
});

function limitErrors(
  query: string,
  limits: QueryLimits = defaults,
  variables?: Record<string, unknown>,
) {
  return validate(schema, parse(query), queryLimitRules(limits, variables)).map((error) => ({
    message: error.message,
    ...error.extensions,
  }));
}

const campaignFields = 'id name status';

describe('query limits', () => {
  describe('depth', () => {
    // Contact.timeline > edges > node > ... is the deepest path the schema offers.
    const depth4 = `{ contacts { edges { node { id } } } }`;

    it('given a query at the limit, then it passes', () => {
      expect(limitErrors(depth4, { ...defaults, maxDepth: 4 })).toEqual([]);
    });

    it('given a query one level deeper than the limit, then QUERY_TOO_DEEP with limit and actual', () => {
      expect(limitErrors(depth4, { ...defaults, maxDepth: 3 })).toEqual([
        expect.objectContaining({ code: 'QUERY_TOO_DEEP', limit: 3, actual: 4 }),
      ]);
    });

    it('given depth hidden in fragments, then the fragments are followed', () => {
      const query = `
        query { contacts { ...Edges } }
        fragment Edges on ContactConnection { edges { ...Node } }
        fragment Node on ContactEdge { node { ... on Contact { timeline { edges { node { type } } } } } }`;
      expect(limitErrors(query, { ...defaults, maxDepth: 5 })).toEqual([
        expect.objectContaining({ code: 'QUERY_TOO_DEEP', actual: 7 }),
      ]);
    });

    it('given an introspection query, then __schema and __type count like any field', () => {
      const query = `{ __schema { types { fields { type { ofType { ofType { name } } } } } } }`;
      expect(limitErrors(query, { ...defaults, maxDepth: 5 })).toEqual([
        expect.objectContaining({ code: 'QUERY_TOO_DEEP', actual: 7 }),
      ]);
    });

    it('given a fragment cycle, then the rule terminates and graphql reports the cycle', () => {
      const query = `
        query { contacts { ...A } }
        fragment A on ContactConnection { edges { node { id } } ...B }
        fragment B on ContactConnection { ...A }`;
      const errors = validate(schema, parse(query), [
        ...specifiedRules,
        ...queryLimitRules(defaults),
      ]);
      expect(errors.map((e) => e.message).join('\n')).toMatch(/Cannot spread fragment "A"/);
    });
  });

  describe('aliases', () => {
    it('given more aliases than allowed, then TOO_MANY_ALIASES', () => {
      const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: campaigns { totalCount }`);
      expect(limitErrors(`{ ${aliases.join(' ')} }`)).toEqual([
        expect.objectContaining({ code: 'TOO_MANY_ALIASES', limit: 30, actual: 31 }),
      ]);
    });

    it('given aliases repeated through a fragment spread twice, then each spread counts', () => {
      const query = `
        { x: campaigns { ...Many } y: campaigns { ...Many } }
        fragment Many on CampaignConnection { a: totalCount b: totalCount c: totalCount }`;
      expect(limitErrors(query, { ...defaults, maxAliases: 7 })).toEqual([
        expect.objectContaining({ code: 'TOO_MANY_ALIASES', actual: 8 }),
      ]);
    });
  });

  describe('cost', () => {
    it('given a page of campaigns, then it costs 1 for the connection and 2 per item', () => {
      const query = `{ campaigns(first: 10) { edges { node { ${campaignFields} } } } }`;
      expect(limitErrors(query, { ...defaults, maxCost: 21 })).toEqual([]);
      expect(limitErrors(query, { ...defaults, maxCost: 20 })).toEqual([
        expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 20, actual: 1 + 10 * 2 }),
      ]);
    });

    it('given no page size, then the default page size multiplies', () => {
      const query = `{ campaigns { edges { node { id } } } }`;
      expect(limitErrors(query, { ...defaults, maxCost: 1 })).toEqual([
        expect.objectContaining({ actual: 1 + 20 * 2 }),
      ]);
    });

    it('given the page size in a variable, then the variable value multiplies', () => {
      const query = `query ($n: Int) { campaigns(first: $n) { edges { node { id } } } }`;
      expect(limitErrors(query, { ...defaults, maxCost: 1 }, { n: 5 })).toEqual([
        expect.objectContaining({ actual: 1 + 5 * 2 }),
      ]);
    });

    it('given nested connections with big pages, then the pages multiply', () => {
      const query = `{ contacts(first: 100) { edges { node { timeline(first: 100) {
        edges { node { type } } } } } } }`;
      expect(limitErrors(query)).toEqual([
        expect.objectContaining({
          code: 'QUERY_TOO_COMPLEX',
          limit: 20_000,
          actual: 1 + 100 * (3 + 100 * 2),
        }),
      ]);
    });

    it('given an ad-hoc analysis or an asOf replay, then its extra cost is added', () => {
      const analysis = `{ previewSegment(conditions: {}, sampleSize: 5) { size } }`;
      const replay = `{ segment(id: "s", asOf: "2026-01-01T00:00:00Z") { id } }`;
      const cheap = { ...defaults, maxCost: 1 };
      expect(limitErrors(analysis, cheap)).toEqual([expect.objectContaining({ actual: 101 })]);
      expect(limitErrors(replay, cheap)).toEqual([expect.objectContaining({ actual: 51 })]);
    });

    it('given asOf in a variable, then the replay costs only when the variable holds an instant', () => {
      const replay = `query ($at: DateTime) { segment(id: "s", asOf: $at) { id } }`;
      const withDefault = `query ($at: DateTime = "2026-01-01T00:00:00Z") { segment(id: "s", asOf: $at) { id } }`;
      const cheap = { ...defaults, maxCost: 1 };
      expect(limitErrors(replay, cheap, { at: '2026-01-01T00:00:00Z' })).toEqual([
        expect.objectContaining({ actual: 51 }),
      ]);
      expect(limitErrors(replay, cheap, { at: null })).toEqual([]);
      expect(limitErrors(replay, cheap)).toEqual([]);
      expect(limitErrors(withDefault, cheap)).toEqual([expect.objectContaining({ actual: 51 })]);
      expect(limitErrors(`{ segment(id: "s", asOf: null) { id } }`, cheap)).toEqual([]);
    });

    it('given a query too deep with too many aliases, then both are told', () => {
      const query = `{ a: projections { name } b: projections { name } c: campaigns { edges { node { id } } } }`;
      expect(limitErrors(query, { ...defaults, maxDepth: 3, maxAliases: 2 })).toEqual([
        expect.objectContaining({ code: 'QUERY_TOO_DEEP', limit: 3, actual: 4 }),
        expect.objectContaining({ code: 'TOO_MANY_ALIASES', limit: 2, actual: 3 }),
      ]);
    });
  });

  describe('operations', () => {
    it('given more than ten operations in a document, then TOO_MANY_OPERATIONS', () => {
      const operations = Array.from(
        { length: 11 },
        (_, i) => `query q${i} { projections { name } }`,
      );
      expect(limitErrors(operations.join('\n'))).toEqual([
        expect.objectContaining({ code: 'TOO_MANY_OPERATIONS', limit: 10, actual: 11 }),
      ]);
    });
  });

  it('given the examples of the README, then none is refused by the default limits', () => {
    const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(examples.length).toBeGreaterThan(5);
    for (const example of examples) {
      let document;
      try {
        document = parse(example);
      } catch {
        continue; // a schema excerpt or a fragment of a query, not a whole document
      }
      if (
        document.definitions.some(
          (d) => d.kind !== 'OperationDefinition' && d.kind !== 'FragmentDefinition',
        )
      )
        continue;
      expect({ example, errors: validate(schema, document, queryLimitRules(defaults)) }).toEqual({
        example,
        errors: [],
      });
    }
  });
});
