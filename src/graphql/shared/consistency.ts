import type { Services, TouchlineContext } from '../context';
import { badInput, userError } from '../errors';
import { createLoaders } from '../loaders';
import { optionalInt64 } from './arguments';

/** The description every `asOf` argument shares. */
export const asOfDescription =
  'Answer as of this past instant: the log up to the last event recorded then, replayed through the same projection code into a throw-away read model (kept for the next questions about the same instant). Related objects (a campaign, a contact) are shown as they are now. minPosition does not apply.';

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

/**
 * The context a query reads through: the live read models once they reflect `minPosition`,
 * or with `asOf` the named projections' read models as they were at that instant (and a
 * clock stopped there, for answers relative to "now").
 */
export async function readingContext(
  context: TouchlineContext,
  { minPosition, asOf }: { minPosition?: string | null; asOf?: Date | null },
  projections: readonly string[],
): Promise<TouchlineContext> {
  if (asOf === undefined || asOf === null) {
    await awaitPosition(context, minPosition, projections);
    return context;
  }
  if (Number.isNaN(asOf.getTime())) throw badInput('asOf', 'asOf must be a valid instant');
  if (asOf.getTime() > context.services.clock().getTime()) {
    throw badInput('asOf', 'asOf must not be in the future', 'IN_FUTURE');
  }
  const past = await context.services.timeTravel.at(asOf, projections);
  const services: Services = {
    ...context.services,
    readModels: past.readModels,
    attribution: past.attribution,
    clock: () => asOf,
  };
  return { ...context, services, loaders: createLoaders(services, context.workspaceId) };
}
