/**
 * Hardening end to end: the query limits over HTTP and WebSocket, introspection by
 * environment, body size and batching on the HTTP edge, and masked internal errors.
 */
import type { GraphQLError } from 'graphql';
import { gql } from 'graphql-request';
import { bearer, graphQLError, startTestServer, type TestServer } from './harness';

/** 16 levels deep (the default limit is 15), through fragments. */
const DEEP = gql`
  query Deep {
    __schema {
      types {
        fields {
          type {
            ...Wrapped
          }
        }
      }
    }
  }
  fragment Wrapped on __Type {
    ofType {
      ...Deeper
    }
  }
  fragment Deeper on __Type {
    ofType {
      ofType {
        ofType {
          ofType {
            ofType {
              ofType {
                ofType {
                  ofType {
                    ofType {
                      ofType {
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`;
const ALIASES = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: projections { name }`).join(' ')} }`;
const COSTLY = gql`
  query Costly($first: Int) {
    contacts(first: $first) {
      edges {
        node {
          timeline(first: 100) {
            edges {
              node {
                type
              }
            }
          }
        }
      }
    }
  }
`;

/** A raw POST with the default workspace's owner key. */
async function post(
  touchline: TestServer,
  path: string,
  body: string,
): Promise<{
  status: number;
  body: { errors?: { message: string; extensions?: Record<string, unknown> }[] };
}> {
  const response = await fetch(new URL(path, touchline.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await bearer(touchline) },
    body,
  });
  return { status: response.status, body: (await response.json()) as never };
}

/** The errors a WebSocket subscribe answered with (it must not produce a result). */
function wsErrors(touchline: TestServer, query: string, variables = {}): Promise<GraphQLError[]> {
  const client = touchline.subscriptions();
  return new Promise((resolve, reject) => {
    client.subscribe(
      { query, variables },
      {
        next: (value) => reject(new Error(`expected an error, got ${JSON.stringify(value)}`)),
        error: (errors) => resolve(errors as GraphQLError[]),
        complete: () => reject(new Error('expected an error, the operation completed')),
      },
    );
  });
}

describe('hardening', () => {
  let touchline: TestServer;

  beforeAll(async () => {
    touchline = await startTestServer();
  });
  afterAll(async () => {
    await touchline.stop();
  });

  describe('over HTTP', () => {
    it('given a query nested deeper than allowed through fragments, then QUERY_TOO_DEEP with 400', async () => {
      const error = await graphQLError(touchline.client().request(DEEP));
      expect(error).toMatchObject({ code: 'QUERY_TOO_DEEP', status: 400 });
    });

    it('given an alias bomb, then TOO_MANY_ALIASES with the limit and the count', async () => {
      const { status, body } = await post(
        touchline,
        '/graphql',
        JSON.stringify({ query: ALIASES }),
      );
      expect(status).toBe(400);
      expect(body.errors?.[0].extensions).toMatchObject({
        code: 'TOO_MANY_ALIASES',
        limit: 30,
        actual: 40,
      });
    });

    it('given nested connections with big pages, then QUERY_TOO_COMPLEX with the computed cost', async () => {
      const { status, body } = await post(
        touchline,
        '/graphql',
        JSON.stringify({ query: COSTLY, variables: { first: 100 } }),
      );
      expect(status).toBe(400);
      expect(body.errors?.[0].extensions).toEqual({
        code: 'QUERY_TOO_COMPLEX',
        reason: 'QUERY_TOO_COMPLEX',
        limit: 20_000,
        actual: 1 + 100 * (3 + 100 * 2),
      });
    });

    it('given the same query with a small page, then it runs', async () => {
      const { status, body } = await post(
        touchline,
        '/graphql',
        JSON.stringify({ query: COSTLY, variables: { first: 2 } }),
      );
      expect({ status, errors: body.errors }).toEqual({ status: 200, errors: undefined });
    });

    it('given a batched array of operations, then it is refused with 400', async () => {
      const one = { query: '{ projections { name } }' };
      const { status, body } = await post(touchline, '/graphql', JSON.stringify([one, one]));
      expect(status).toBe(400);
      expect(body.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    });

    it.each(['/graphql', '/v1/batch'])(
      'given a body larger than TOUCHLINE_MAX_BODY_BYTES on %s, then 413 in the JSON error shape',
      async (path) => {
        const big = JSON.stringify({
          query: `{ projections { name } }`,
          padding: 'x'.repeat(1_100_000),
        });
        const { status, body } = await post(touchline, path, big);
        expect(status).toBe(413);
        expect(body.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
      },
    );

    it('given a resolver failing with SQL and a path in its message, then the client sees it masked and it is logged', async () => {
      const services = touchline.server.services;
      const status = jest
        .spyOn(services.projections, 'status')
        .mockRejectedValue(
          new Error(
            'SQLITE_ERROR: no such column in SELECT * FROM events at /srv/touchline/dist/x.js',
          ),
        );
      const reported = jest.spyOn(services, 'reportInternalError');
      try {
        const { body } = await post(
          touchline,
          '/graphql',
          JSON.stringify({ query: '{ projections { name } }' }),
        );
        expect(body.errors).toEqual([
          expect.objectContaining({
            message: 'Internal server error',
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          }),
        ]);
        expect(JSON.stringify(body)).not.toMatch(/SELECT|\/srv\/|stacktrace/);
        expect(reported).toHaveBeenCalledTimes(1);
      } finally {
        status.mockRestore();
        reported.mockRestore();
      }
    });

    it('given a value the schema cannot serialize, then the message quoting it is masked too', async () => {
      const [real] = await touchline.server.services.projections.status();
      const status = jest
        .spyOn(touchline.server.services.projections, 'status')
        .mockResolvedValue([{ ...real, version: 'SELECT secret FROM /srv/touchline' as never }]);
      try {
        const { body } = await post(
          touchline,
          '/graphql',
          JSON.stringify({ query: '{ projections { version } }' }),
        );
        expect(body.errors?.[0]).toMatchObject({
          message: 'Internal server error',
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
        expect(JSON.stringify(body)).not.toMatch(/SELECT|\/srv\//);
      } finally {
        status.mockRestore();
      }
    });

    it('given the test environment, then introspection is on by default', async () => {
      const { body } = await post(
        touchline,
        '/graphql',
        JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
      );
      expect(body.errors).toBeUndefined();
    });
  });

  describe('over graphql-ws', () => {
    it('given a query too deep, then subscribe answers QUERY_TOO_DEEP', async () => {
      const [error] = await wsErrors(touchline, DEEP);
      expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 15, actual: 16 });
    });

    it('given an alias bomb, then subscribe answers TOO_MANY_ALIASES', async () => {
      const [error] = await wsErrors(touchline, ALIASES);
      expect(error.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES', actual: 40 });
    });

    it('given a costly query with its page size in a variable, then subscribe answers QUERY_TOO_COMPLEX', async () => {
      const [error] = await wsErrors(touchline, COSTLY, { first: 100 });
      expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', actual: 20_301 });
    });

    it('given a subscription asking too much, then it is refused like a query', async () => {
      const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ');
      const [error] = await wsErrors(touchline, `subscription { campaignChanged { ${aliases} } }`);
      expect(error.extensions).toMatchObject({ code: 'TOO_MANY_ALIASES' });
    });

    it('given a value the schema cannot serialize in a pushed result, then the message quoting it is masked', async () => {
      const [real] = await touchline.server.services.projections.status();
      const status = jest
        .spyOn(touchline.server.services.projections, 'status')
        .mockResolvedValue([{ ...real, version: 'SELECT secret FROM /srv/touchline' as never }]);
      try {
        const client = touchline.subscriptions();
        const results = client.iterate({ query: '{ projections { version } }' });
        const { value } = await results.next();
        expect(value?.errors?.[0]).toMatchObject({
          message: 'Internal server error',
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
        expect(JSON.stringify(value)).not.toMatch(/SELECT|\/srv\//);
        await results.return?.();
      } finally {
        status.mockRestore();
      }
    });
  });

  describe('introspection', () => {
    it.each([
      ['TOUCHLINE_INTROSPECTION=off', { TOUCHLINE_INTROSPECTION: 'off' }],
      ['production by default', { NODE_ENV: 'production' }],
    ])('given %s, then __schema is refused over HTTP and WebSocket', async (_name, env) => {
      const closed = await startTestServer(undefined, env);
      try {
        const query = '{ __schema { queryType { name } } }';
        const { status, body } = await post(closed, '/graphql', JSON.stringify({ query }));
        expect(status).toBe(400);
        expect(body.errors?.[0].message).toMatch(/introspection/i);
        const [error] = await wsErrors(closed, query);
        expect(error.message).toMatch(/introspection/i);
      } finally {
        await closed.stop();
      }
    });
  });
});
