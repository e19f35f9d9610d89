/**
 * schema.graphql is generated from the resolvers and committed, so clients and reviewers see
 * the API change in the diff. This fails when it is stale: run `npm run schema`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildTouchlineSchema, printTouchlineSchema } from '../../src/graphql/schema';

describe('schema.graphql', () => {
  it('matches the schema the resolvers build (regenerate with `npm run schema`)', async () => {
    const committed = fs.readFileSync(path.join(__dirname, '../../schema.graphql'), 'utf8');
    const generated = printTouchlineSchema(await buildTouchlineSchema());
    expect(committed).toBe(generated);
  });
});
