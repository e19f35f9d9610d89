/**
 * Turns a client's funnel definition into the definition events carry, or throws a
 * ValidationError naming the offending field (`steps.2.filters.0.value`, `windowSeconds`, …)
 * with a stable reason. Create and update share it, so both enforce the same rules.
 */
import { assertValidCampaignId } from '../campaign/campaign.stream';
import { parsePropertyCondition, sameCondition } from '../shared/conditions';
import { ValidationError } from '../shared/errors';
import { parseOneOf, requireText } from '../shared/text';
import type { FunnelDefinitionInput, FunnelStepInput } from './funnel.commands';
import {
  breakdownAttributions,
  funnelOrders,
  type FunnelBreakdown,
  type FunnelDefinition,
  type FunnelExclusion,
  type FunnelStep,
} from './funnel.events';

const day = 24 * 60 * 60;

export const funnelLimits = {
  nameLength: 200,
  minSteps: 2,
  maxSteps: 20,
  eventNameLength: 200,
  filtersPerStep: 20,
  exclusions: 10,
  /** Windows run from a second to a year. */
  maxWindowSeconds: 365 * day,
  propertyLength: 200,
} as const;

export const defaultWindowSeconds = 14 * day;

export function parseFunnelDefinition(input: FunnelDefinitionInput): FunnelDefinition {
  const steps = parseSteps(input.steps);
  const definition: FunnelDefinition = {
    name: requireText(input.name, 'name', funnelLimits.nameLength),
    steps,
    order: parseOneOf(input.order, funnelOrders, 'order', 'INVALID_ORDER', 'ordered'),
    windowSeconds: parseWindow(input.windowSeconds),
    exclusions: parseExclusions(input.exclusions ?? [], steps),
    breakdown: parseBreakdown(input.breakdown),
    campaignId: parseCampaignId(input.campaignId),
  };
  return definition;
}

function parseSteps(steps: readonly FunnelStepInput[]): FunnelStep[] {
  if (!Array.isArray(steps) || steps.length < funnelLimits.minSteps) {
    throw new ValidationError(
      'steps',
      `a funnel needs at least ${funnelLimits.minSteps} steps`,
      'TOO_FEW_STEPS',
    );
  }
  if (steps.length > funnelLimits.maxSteps) {
    throw new ValidationError(
      'steps',
      `a funnel has at most ${funnelLimits.maxSteps} steps, got ${steps.length}`,
      'TOO_MANY_STEPS',
    );
  }
  return steps.map((step, index) => parseStep(step, `steps.${index}`));
}

function parseStep(step: FunnelStepInput, field: string): FunnelStep {
  const filters = step.filters ?? [];
  if (!Array.isArray(filters)) {
    throw new ValidationError(`${field}.filters`, 'filters must be a list', 'INVALID_INPUT');
  }
  if (filters.length > funnelLimits.filtersPerStep) {
    throw new ValidationError(
      `${field}.filters`,
      `a step has at most ${funnelLimits.filtersPerStep} filters`,
      'TOO_MANY_FILTERS',
    );
  }
  return {
    event: requireText(step.event, `${field}.event`, funnelLimits.eventNameLength),
    filters: filters.map((filter, index) =>
      parsePropertyCondition(filter, `${field}.filters.${index}`),
    ),
  };
}

function parseWindow(windowSeconds: number | null | undefined): number {
  if (windowSeconds == null) return defaultWindowSeconds;
  if (!Number.isInteger(windowSeconds) || windowSeconds <= 0) {
    throw new ValidationError(
      'windowSeconds',
      `the conversion window must be a whole number of seconds > 0, got ${windowSeconds}`,
      'INVALID_WINDOW',
    );
  }
  if (windowSeconds > funnelLimits.maxWindowSeconds) {
    throw new ValidationError(
      'windowSeconds',
      `the conversion window is at most 365 days (${funnelLimits.maxWindowSeconds} s), got ${windowSeconds}`,
      'INVALID_WINDOW',
    );
  }
  return windowSeconds;
}

function parseExclusions(
  exclusions: NonNullable<FunnelDefinitionInput['exclusions']>,
  steps: readonly FunnelStep[],
): FunnelExclusion[] {
  if (!Array.isArray(exclusions)) {
    throw new ValidationError('exclusions', 'exclusions must be a list', 'INVALID_INPUT');
  }
  if (exclusions.length > funnelLimits.exclusions) {
    throw new ValidationError(
      'exclusions',
      `a funnel has at most ${funnelLimits.exclusions} exclusions`,
      'TOO_MANY_EXCLUSIONS',
    );
  }
  return exclusions.map((exclusion, index) => {
    const field = `exclusions.${index}`;
    const { fromStep, toStep } = exclusion;
    for (const [name, value] of [
      ['fromStep', fromStep],
      ['toStep', toStep],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > steps.length) {
        throw new ValidationError(
          `${field}.${name}`,
          `${name} must be a step number from 1 to ${steps.length}, got ${value}`,
          'INVALID_STEP_RANGE',
        );
      }
    }
    if (fromStep >= toStep) {
      throw new ValidationError(
        `${field}.toStep`,
        `toStep must come after fromStep (${fromStep}), got ${toStep}`,
        'INVALID_STEP_RANGE',
      );
    }
    const step = parseStep(exclusion, field);
    for (let number = fromStep; number <= toStep; number += 1) {
      if (coversStep(step, steps[number - 1] as FunnelStep)) {
        throw new ValidationError(
          `${field}.event`,
          `the exclusion matches every event of step ${number}, which lies in its range ${fromStep}–${toStep}: it would exclude everyone who reaches that step`,
          'EXCLUSION_EQUALS_STEP',
        );
      }
    }
    return { ...step, fromStep, toStep };
  });
}

/**
 * The exclusion matches every event that matches the step: the same event name, and each of
 * its filters is one of the step's (so equal steps, repeated filters and broader exclusions
 * alike). Such an exclusion would remove everyone who reaches the step.
 */
function coversStep(exclusion: FunnelStep, step: FunnelStep): boolean {
  return (
    exclusion.event === step.event &&
    exclusion.filters.every((filter) => step.filters.some((other) => sameCondition(filter, other)))
  );
}

function parseBreakdown(breakdown: FunnelDefinitionInput['breakdown']): FunnelBreakdown | null {
  if (breakdown == null) return null;
  const property = requireText(
    breakdown.property,
    'breakdown.property',
    funnelLimits.propertyLength,
  );
  if (property.split('.').some((segment) => segment === '')) {
    throw new ValidationError(
      'breakdown.property',
      `"${property}" is not a property path: segments separated by single dots`,
      'INVALID_PROPERTY',
    );
  }
  const attribution = parseOneOf(
    breakdown.attribution,
    breakdownAttributions,
    'breakdown.attribution',
    'INVALID_ATTRIBUTION',
    'first_step',
  );
  return { property, attribution };
}

function parseCampaignId(campaignId: string | null | undefined): string | null {
  if (campaignId == null) return null;
  if (typeof campaignId !== 'string') {
    throw new ValidationError('campaignId', 'campaignId must be a string', 'INVALID_ID');
  }
  assertValidCampaignId(campaignId, 'campaignId');
  return campaignId;
}
