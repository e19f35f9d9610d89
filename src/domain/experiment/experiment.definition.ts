/**
 * Turns a client's experiment definition into the definition events carry, or throws a
 * ValidationError naming the offending field (`variants.1.key`, `secondaryMetrics.0.property`,
 * …) with a stable reason. Create and update share it; ChangeWeights shares the weight rules.
 */
import { parseContent } from '../campaign/campaign.content';
import { assertValidCampaignId } from '../campaign/campaign.stream';
import { ValidationError } from '../shared/errors';
import { parseOneOf, requireText } from '../shared/text';
import type { ExperimentDefinitionInput, ExperimentMetricInput } from './experiment.commands';
import {
  analysisMethods,
  corrections,
  experimentSurfaces,
  metricKinds,
  type ExperimentDefinition,
  type ExperimentMetric,
  type ExperimentSurface,
  type ExperimentVariant,
} from './experiment.events';
import { assertValidKey } from './experiment.stream';

export const experimentLimits = {
  nameLength: 200,
  hypothesisLength: 2000,
  minVariants: 2,
  maxVariants: 10,
  metricsPerList: 10,
  eventNameLength: 200,
  propertyLength: 200,
  noteLength: 2000,
  reasonLength: 500,
} as const;

export const experimentDefaults = {
  method: 'frequentist',
  correction: 'holm',
  minSamplePerVariant: 100,
  autoStop: false,
} as const satisfies Partial<ExperimentDefinition>;

/** Weights are compared in hundredths of a percent: whole numbers, so no float error. */
const fullShare = 100 * 100;

export function parseExperimentDefinition(input: ExperimentDefinitionInput): ExperimentDefinition {
  const definition: ExperimentDefinition = {
    name: requireText(input.name, 'name', experimentLimits.nameLength),
    hypothesis: requireText(input.hypothesis, 'hypothesis', experimentLimits.hypothesisLength),
    campaignId: parseCampaignId(input.campaignId),
    surface: parseSurface(input.surface),
    variants: parseVariants(input.variants),
    primaryMetric: parsePrimaryMetric(input.primaryMetric),
    secondaryMetrics: parseMetricList(input.secondaryMetrics, 'secondaryMetrics'),
    guardrailMetrics: parseMetricList(input.guardrailMetrics, 'guardrailMetrics'),
    method: parseOneOf(
      input.method,
      analysisMethods,
      'method',
      'INVALID_METHOD',
      experimentDefaults.method,
    ),
    correction: parseOneOf(
      input.correction,
      corrections,
      'correction',
      'INVALID_CORRECTION',
      experimentDefaults.correction,
    ),
    minSamplePerVariant: parseMinSample(input.minSamplePerVariant),
    autoStop: parseFlag(input.autoStop, 'autoStop', experimentDefaults.autoStop),
  };
  assertDistinctMetricKeys(definition);
  return definition;
}

/**
 * Weights for the variants of a running experiment: one per variant, each > 0 with at most 2
 * decimals, summing to exactly 100.
 */
export function parseWeights(
  weights: readonly number[],
  variantCount: number,
  field = 'weights',
): number[] {
  if (!Array.isArray(weights) || weights.length !== variantCount) {
    throw new ValidationError(
      field,
      `give one weight per variant (${variantCount}), got ${Array.isArray(weights) ? weights.length : 'none'}`,
      'WEIGHT_COUNT_MISMATCH',
    );
  }
  const hundredths = weights.map((weight, index) => parseWeight(weight, `${field}.${index}`));
  assertWholeShare(hundredths, field);
  return hundredths.map((share) => share / 100);
}

function parseVariants(variants: ExperimentDefinitionInput['variants']): ExperimentVariant[] {
  if (!Array.isArray(variants) || variants.length < experimentLimits.minVariants) {
    throw new ValidationError(
      'variants',
      `an experiment needs at least ${experimentLimits.minVariants} variants (a control and a treatment), got ${Array.isArray(variants) ? variants.length : 0}`,
      'TOO_FEW_VARIANTS',
    );
  }
  if (variants.length > experimentLimits.maxVariants) {
    throw new ValidationError(
      'variants',
      `an experiment has at most ${experimentLimits.maxVariants} variants, got ${variants.length}`,
      'TOO_MANY_VARIANTS',
    );
  }
  const keys = new Set<string>();
  const weighted = variants.filter((variant) => variant.weight != null).length;
  const parsed = variants.map((variant, index) => {
    const field = `variants.${index}`;
    assertValidKey(variant.key, `${field}.key`);
    if (keys.has(variant.key)) {
      throw new ValidationError(
        `${field}.key`,
        `variant key "${variant.key}" is used twice`,
        'DUPLICATE_KEY',
      );
    }
    keys.add(variant.key);
    if (weighted > 0 && variant.weight == null) {
      throw new ValidationError(
        `${field}.weight`,
        'give every variant a weight, or none for an equal split',
        'MISSING_WEIGHT',
      );
    }
    return {
      key: variant.key,
      name:
        variant.name == null
          ? variant.key
          : requireText(variant.name, `${field}.name`, experimentLimits.nameLength),
      share: variant.weight == null ? null : parseWeight(variant.weight, `${field}.weight`),
      content: parseContent(variant.content ?? {}, `${field}.content`),
    };
  });
  const shares = parsed.map((variant, index) => variant.share ?? equalShare(index, parsed.length));
  assertWholeShare(shares, 'variants');
  return parsed.map(({ key, name, content }, index) => ({
    key,
    name,
    weight: shares[index] / 100,
    content,
  }));
}

/** A weight in hundredths of a percent: > 0, ≤ 100 %, at most 2 decimals. */
function parseWeight(weight: number, field: string): number {
  const hundredths = Math.round(weight * 100);
  const valid =
    typeof weight === 'number' &&
    Number.isFinite(weight) &&
    Math.abs(weight * 100 - hundredths) < 1e-6 &&
    hundredths > 0 &&
    hundredths <= fullShare;
  if (!valid) {
    throw new ValidationError(
      field,
      `a weight is a percentage > 0 and ≤ 100 with at most 2 decimals, got ${weight}`,
      'INVALID_WEIGHT',
    );
  }
  return hundredths;
}

/** An equal split in hundredths; the first variants take the remainder (3 → 33.34, 33.33, 33.33). */
function equalShare(index: number, count: number): number {
  const base = Math.floor(fullShare / count);
  return index < fullShare - base * count ? base + 1 : base;
}

function assertWholeShare(hundredths: readonly number[], field: string): void {
  const total = hundredths.reduce((sum, share) => sum + share, 0);
  if (total !== fullShare) {
    throw new ValidationError(
      field,
      `the weights must sum to 100, got ${total / 100}`,
      'WEIGHTS_NOT_100',
    );
  }
}

function parsePrimaryMetric(metric: ExperimentMetricInput | null | undefined): ExperimentMetric {
  if (metric == null || typeof metric !== 'object') {
    throw new ValidationError('primaryMetric', 'an experiment needs a primary metric', 'REQUIRED');
  }
  return parseMetric(metric, 'primaryMetric');
}

function parseMetricList(
  metrics: readonly ExperimentMetricInput[] | null | undefined,
  field: string,
): ExperimentMetric[] {
  if (metrics == null) return [];
  if (!Array.isArray(metrics)) {
    throw new ValidationError(field, `${field} must be a list`, 'INVALID_INPUT');
  }
  if (metrics.length > experimentLimits.metricsPerList) {
    throw new ValidationError(
      field,
      `at most ${experimentLimits.metricsPerList} ${field}, got ${metrics.length}`,
      'TOO_MANY_METRICS',
    );
  }
  return metrics.map((metric, index) => parseMetric(metric, `${field}.${index}`));
}

function parseMetric(metric: ExperimentMetricInput, field: string): ExperimentMetric {
  assertValidKey(metric.key, `${field}.key`);
  const kind = parseOneOf(metric.kind, metricKinds, `${field}.kind`, 'INVALID_KIND');
  return {
    key: metric.key,
    name: requireText(metric.name, `${field}.name`, experimentLimits.nameLength),
    kind,
    event: requireText(metric.event, `${field}.event`, experimentLimits.eventNameLength),
    property: parseMetricProperty(metric.property, kind, `${field}.property`),
    higherIsBetter: parseFlag(metric.higherIsBetter, `${field}.higherIsBetter`, true),
  };
}

/** A value metric sums a numeric property per unit; a conversion metric only counts units. */
function parseMetricProperty(
  property: string | null | undefined,
  kind: ExperimentMetric['kind'],
  field: string,
): string | null {
  const given = typeof property === 'string' ? property.trim() : property;
  if (given == null || given === '') {
    if (kind === 'conversion') return null;
    throw new ValidationError(
      field,
      'a value metric needs the numeric property to sum, e.g. "revenue"',
      'MISSING_PROPERTY',
    );
  }
  if (kind === 'conversion') {
    throw new ValidationError(
      field,
      'a conversion metric counts units that have the event and takes no property',
      'UNEXPECTED_PROPERTY',
    );
  }
  const path = requireText(given, field, experimentLimits.propertyLength);
  if (path.split('.').some((segment) => segment === '')) {
    throw new ValidationError(
      field,
      `"${path}" is not a property path: segments separated by single dots`,
      'INVALID_PROPERTY',
    );
  }
  return path;
}

/** Metric keys name the results, so they are unique across all three lists. */
function assertDistinctMetricKeys(definition: ExperimentDefinition): void {
  const listed: [string, ExperimentMetric][] = [
    ['primaryMetric', definition.primaryMetric],
    ...definition.secondaryMetrics.map((metric, index): [string, ExperimentMetric] => [
      `secondaryMetrics.${index}`,
      metric,
    ]),
    ...definition.guardrailMetrics.map((metric, index): [string, ExperimentMetric] => [
      `guardrailMetrics.${index}`,
      metric,
    ]),
  ];
  const seen = new Set<string>();
  for (const [field, metric] of listed) {
    if (seen.has(metric.key)) {
      throw new ValidationError(
        `${field}.key`,
        `metric key "${metric.key}" is used twice`,
        'DUPLICATE_KEY',
      );
    }
    seen.add(metric.key);
  }
}

function parseCampaignId(campaignId: string): string {
  if (typeof campaignId !== 'string') {
    throw new ValidationError('campaignId', 'an experiment belongs to a campaign', 'REQUIRED');
  }
  assertValidCampaignId(campaignId, 'campaignId');
  return campaignId;
}

function parseSurface(surface: ExperimentDefinitionInput['surface']): ExperimentSurface {
  if (surface == null) return { kind: 'CAMPAIGN', ref: null };
  const kind = parseOneOf(surface.kind, experimentSurfaces, 'surface.kind', 'INVALID_SURFACE');
  const ref = typeof surface.ref === 'string' ? surface.ref.trim() : surface.ref;
  if (ref == null || ref === '') return { kind, ref: null };
  assertValidCampaignId(ref, 'surface.ref');
  return { kind, ref };
}

function parseMinSample(value: number | null | undefined): number {
  if (value == null) return experimentDefaults.minSamplePerVariant;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      'minSamplePerVariant',
      `minSamplePerVariant must be a whole number of at least 0, got ${value}`,
      'INVALID_COUNT',
    );
  }
  return value;
}

function parseFlag(value: boolean | null | undefined, field: string, fallback: boolean): boolean {
  if (value == null) return fallback;
  if (typeof value !== 'boolean') {
    throw new ValidationError(field, `${field} must be true or false`, 'INVALID_INPUT');
  }
  return value;
}
