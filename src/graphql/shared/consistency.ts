import type { TouchlineContext } from '../context';
import { userError } from '../errors';
import { optionalInt64 } from './arguments';

/**
 * Read-your-writes for queries: with `minPosition` (a position a mutation returned), waits
 * (bounded by configuration) until the named projections reflect the log up to it, and
 * answers CONFLICT / NOT_CAUGHT_UP when they have not in time, rather than stale data.
 */
export async function awaitPosition(
  context: TouchlineContext,
  minPosition: string | null | undefined,
  projections: readonly string[],
): Promise<void> {
  const position = optionalInt64('minPosition', minPosition);
  if (position === undefined) return;
  if (!(await context.services.readModels.waitForPosition(position, projections))) {
    throw userError(
      'CONFLICT',
      `the read model has not reached position ${minPosition} yet; retry shortly`,
      {
        field: 'minPosition',
        reason: 'NOT_CAUGHT_UP',
      },
    );
  }
}
