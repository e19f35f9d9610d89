/**
 * Reports from the person documents of the funnel-results projection (the live read model,
 * or the in-memory one of an ad-hoc analysis): the same folds either way.
 *
 * A date range of step-1 time is applied the way an ad-hoc analysis applies it: only
 * attempts that start inside it count, so each person is matched again on their stored
 * events restricted to the range (the events are kept for exactly this). Without a range the
 * stored results serve as they are.
 */
import type { FunnelDefinition } from '../../domain/funnel/funnel.events';
import { matchingRules, restrictToRange, type StartRange } from './funnel-events';
import { personResult, toFunnelEvent, type FunnelPersonDocument } from './funnels.projection';
import { matchPerson, type PersonResult } from './matching';
import { summarizeFunnel, type FunnelReport } from './report';

export interface ReportFilter {
  readonly range: StartRange | null;
  /** Only people whose breakdown value is this one (`null` = no value); undefined: everyone. */
  readonly breakdownValue?: string | null;
}

/** Each person's result under the filter's range (people who never reached step 1 left out). */
export function personResults(
  definition: FunnelDefinition,
  documents: readonly FunnelPersonDocument[],
  filter: ReportFilter,
): { personId: string; result: PersonResult }[] {
  const rules = matchingRules(definition);
  const results: { personId: string; result: PersonResult }[] = [];
  for (const document of documents) {
    const result =
      filter.range === null
        ? personResult(document)
        : matchPerson(
            rules,
            restrictToRange(document.events.map(toFunnelEvent), filter.range, rules.windowMs),
          );
    if (result.reached === 0) continue;
    if (filter.breakdownValue !== undefined && result.breakdown !== filter.breakdownValue) continue;
    results.push({ personId: document.personId, result });
  }
  return results;
}

export function funnelReport(
  definition: FunnelDefinition,
  documents: readonly FunnelPersonDocument[],
  filter: ReportFilter,
): FunnelReport {
  return summarizeFunnel(
    definition.steps.length,
    personResults(definition, documents, filter).map(({ result }) => result),
  );
}

export type PeopleStatus = 'reached' | 'dropped';

/**
 * People at a step: `reached` — got to step `step` or further; `dropped` — reached `step`
 * and went no further (nobody drops after the last step). Excluded people are in neither.
 * Sorted by person id.
 */
export function peopleAtStep(
  definition: FunnelDefinition,
  documents: readonly FunnelPersonDocument[],
  filter: ReportFilter,
  step: number,
  status: PeopleStatus,
): string[] {
  return personResults(definition, documents, filter)
    .filter(({ result }) => {
      if (result.excluded) return false;
      return status === 'reached'
        ? result.reached >= step
        : result.reached === step && step < definition.steps.length;
    })
    .map(({ personId }) => personId)
    .sort();
}
