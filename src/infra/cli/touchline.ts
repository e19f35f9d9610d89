/** The `touchline` command line. */
import 'reflect-metadata';
import fs from 'node:fs';
import { Command } from 'commander';
import { buildTouchlineSchema, printTouchlineSchema } from '../../graphql/schema';
import { serveUntilSignalled } from '../serve';

const program = new Command('touchline').description('Event-sourced marketing analytics backend');

program
  .command('serve')
  .description('serve the GraphQL API and run the projections')
  .action(() => serveUntilSignalled());

program
  .command('schema')
  .description('print the GraphQL schema (SDL) generated from the resolvers')
  .option('-o, --out <file>', 'write to a file instead of standard output')
  .action(async (options: { out?: string }) => {
    const sdl = printTouchlineSchema(await buildTouchlineSchema());
    if (options.out) fs.writeFileSync(options.out, sdl);
    else process.stdout.write(sdl);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
