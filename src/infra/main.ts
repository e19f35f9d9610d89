/** `npm start`: the API and the projections, on the configured stores. */
import 'reflect-metadata';
import { serveUntilSignalled } from './serve';

serveUntilSignalled().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
