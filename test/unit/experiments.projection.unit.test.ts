/**
 * The experiments read model: units per phase and variant, their metric values, and the
 * sufficient statistics the analysis reads; given events, then documents.
 */
import { parseExperimentDefinition, type ExperimentDefinition } from '../../src/domain/experiment';
import type { RecordedEvent } from '../../src/domain/shared/events';
import { MemoryReadModels } from '../../src/infra/projections/memory-read-models';
import {
  autoStopDecision,
  phaseResults,
} from '../../src/projections/experiments/experiment-results';
import {
  experimentsCollection,
  experimentsProjection,
  experimentStatsCollection,
  experimentUnitsCollection,
  type ExperimentDocument,
  type ExperimentStatsDocument,
  type ExperimentUnitDocument,
} from '../../src/projections/experiments/experiments.projection';
import { winnerApplier } from '../../src/projections/experiments/winner-applier';
import { welchTTest, conversionMoments } from '../../src/domain/experiment/statistics';

const workspaceId = 'acme';
const key = 'checkout-button';
const t0 = Date.parse('2026-06-01T00:00:00Z');
const minute = 60_000;
const at = (minutes: number) => new Date(t0 + minutes * minute).toISOString();

const definition: ExperimentDefinition = parseExperimentDefinition({
  name: 'Checkout button',
  hypothesis: 'A green button sells more',
  campaignId: 'spring',
  surface: { kind: 'CTA', ref: 'checkout' },
  variants: [
    { key: 'control', weight: 50, content: { color: 'blue' } },
    { key: 'green', weight: 50, content: { color: 'green' } },
  ],
  primaryMetric: {
    key: 'purchase',
    name: 'Purchase',
    kind: 'conversion',
    event: 'Order Completed',
  },
  secondaryMetrics: [
    {
      key: 'revenue',
      name: 'Revenue',
      kind: 'value',
      event: 'Order Completed',
      property: 'revenue',
    },
  ],
  minSamplePerVariant: 0,
});

let position = 0n;
function recorded(
  type: string,
  data: object,
  streamId = `experiment-${workspaceId}:${key}`,
): RecordedEvent {
  position += 1n;
  return {
    eventId: `e${position}`,
    type,
    data,
    metadata: { workspaceId, schemaVersion: 1 },
    streamId,
    revision: 0n,
    position,
    recordedAt: new Date(t0),
  };
}

const created = () =>
  recorded('ExperimentCreated', { experimentId: key, definition, createdAt: at(0) });
const started = (minutes = 0, phase = 1, weights = [50, 50]) =>
  recorded(phase === 1 ? 'ExperimentStarted' : 'ExperimentWeightsChanged', {
    experimentId: key,
    phase: { phase, weights, startedAt: at(minutes) },
  });
const exposed = (contactId: string, variant: string, minutes: number, phase = 1) =>
  recorded('ExperimentExposed', {
    experimentKey: key,
    phase,
    variant,
    contactId,
    exposedAt: at(minutes),
  });
function call(contactId: string, minutes: number, id: string) {
  return {
    messageId: id,
    userId: contactId,
    anonymousId: null,
    occurredAt: at(minutes),
    receivedAt: at(minutes),
    sentAt: null,
    originalTimestamp: null,
    campaign: null,
    page: null,
  };
}
const order = (
  contactId: string,
  minutes: number,
  revenue: number,
  id = `o-${contactId}-${minutes}`,
) =>
  recorded('EventTracked', {
    ...call(contactId, minutes, id),
    event: 'Order Completed',
    properties: { revenue },
  });
const viewed = (contactId: string, minutes: number, variation: string | number) =>
  recorded('EventTracked', {
    ...call(contactId, minutes, `v-${contactId}-${minutes}`),
    event: 'Experiment Viewed',
    properties: { experiment_id: key, variation_id: variation },
  });
const stopped = (minutes: number) =>
  recorded('ExperimentStopped', {
    experimentId: key,
    decision: { winner: 'green', note: '', decidedBy: 'manual', reason: null },
    stoppedAt: at(minutes),
  });

async function project(...batches: RecordedEvent[][]): Promise<MemoryReadModels> {
  const models = new MemoryReadModels();
  for (const batch of batches) await experimentsProjection.project(batch, models);
  return models;
}

function stats(models: MemoryReadModels, phase = 1): ExperimentStatsDocument | undefined {
  return models
    .documents<ExperimentStatsDocument>(experimentStatsCollection)
    .find((document) => document.phase === phase);
}

describe('experiments projection', () => {
  beforeEach(() => {
    position = 0n;
  });

  it('counts units per variant and the sums and squares of each metric after exposure', async () => {
    const models = await project([
      created(),
      started(),
      exposed('a', 'control', 1),
      exposed('b', 'control', 1),
      exposed('c', 'green', 1),
      exposed('d', 'green', 2),
      order('a', 5, 10),
      order('c', 3, 20),
      order('c', 9, 5),
      // Before its exposure: does not count.
      order('d', 1, 99),
      // Not exposed at all.
      order('z', 5, 7),
    ]);
    expect(stats(models)?.variants).toEqual([
      // control: a (1, 10), b (0, 0)
      { units: 2, sums: [1, 10], sumSquares: [1, 100] },
      // green: c (1, 25), d (0, 0)
      { units: 2, sums: [1, 25], sumSquares: [1, 625] },
    ]);
    const unit = models
      .documents<ExperimentUnitDocument>(experimentUnitsCollection)
      .find((document) => document.unit === 'c');
    expect(unit).toMatchObject({ variant: 1, phase: 1, values: [1, 25] });
  });

  it('counts a conversion that arrives before the exposure it follows in time', async () => {
    const inOrder = await project([
      created(),
      started(),
      exposed('a', 'green', 1),
      order('a', 4, 30),
    ]);
    position = 0n;
    const reversed = await project([
      created(),
      started(),
      order('a', 4, 30),
      exposed('a', 'green', 1),
    ]);
    expect(stats(reversed)?.variants).toEqual(stats(inOrder)?.variants);
    expect(stats(reversed)?.variants[1]).toEqual({ units: 1, sums: [1, 30], sumSquares: [1, 900] });
  });

  it('keeps one unit per contact and phase, moved to its earliest exposure, variant unchanged', async () => {
    const models = await project(
      [created(), started(), exposed('a', 'green', 10), order('a', 5, 8)],
      [exposed('a', 'green', 10), exposed('a', 'control', 3)],
    );
    expect(stats(models)?.variants).toEqual([
      { units: 0, sums: [0, 0], sumSquares: [0, 0] },
      // The earlier exposure (minute 3) brings in the order at minute 5.
      { units: 1, sums: [1, 8], sumSquares: [1, 64] },
    ]);
  });

  it('takes tracked Experiment Viewed calls as exposures, by variant key or index', async () => {
    const models = await project([
      created(),
      started(),
      viewed('a', 1, 'green'),
      viewed('b', 1, 0),
      viewed('c', 1, '1'),
      viewed('d', 1, 'purple'),
      order('c', 2, 4),
    ]);
    expect(stats(models)?.variants.map((variant) => variant.units)).toEqual([1, 2]);
    expect(stats(models)?.variants[1]?.sums).toEqual([1, 4]);
  });

  it('puts exposures in the phase in progress and ignores them before the start or after the stop', async () => {
    const models = await project([
      created(),
      exposed('early', 'control', -5),
      started(0),
      exposed('a', 'control', 1),
      started(10, 2, [20, 80]),
      exposed('b', 'green', 11, 2),
      order('b', 12, 3),
      stopped(20),
      exposed('late', 'green', 21, 2),
      // After the stop: not counted.
      order('b', 25, 100),
    ]);
    expect(stats(models, 1)?.variants.map((variant) => variant.units)).toEqual([1, 0]);
    expect(stats(models, 2)?.variants).toEqual([
      { units: 0, sums: [0, 0], sumSquares: [0, 0] },
      { units: 1, sums: [1, 3], sumSquares: [1, 9] },
    ]);
    const experiment = models.documents<ExperimentDocument>(experimentsCollection)[0];
    expect(experiment).toMatchObject({ status: 'STOPPED', stoppedAt: at(20) });
    expect(experiment?.phases.map((phase) => phase.weights)).toEqual([
      [50, 50],
      [20, 80],
    ]);
  });

  it('gives the same figures whether an event after the stop was projected before or after it', async () => {
    const before = await project([
      created(),
      started(),
      exposed('a', 'green', 1),
      order('a', 5, 1),
      order('a', 25, 100),
      stopped(20),
    ]);
    position = 0n;
    const after = await project([
      created(),
      started(),
      exposed('a', 'green', 1),
      order('a', 5, 1),
      stopped(20),
      order('a', 25, 100),
    ]);
    expect(stats(before)?.variants[1]).toEqual({ units: 1, sums: [1, 1], sumSquares: [1, 1] });
    expect(stats(after)?.variants).toEqual(stats(before)?.variants);
  });

  it('files an assignment in the phase whose weights drew it, even when it lands after a change', async () => {
    const models = await project([
      created(),
      started(0),
      started(10, 2, [20, 80]),
      // Drawn with phase 1's weights, recorded at minute 11.
      exposed('a', 'control', 11, 1),
    ]);
    expect(stats(models, 1)?.variants.map((variant) => variant.units)).toEqual([1, 0]);
    expect(stats(models, 2)).toBeUndefined();
  });

  it('changes nothing when the same events are applied again', async () => {
    const events = [created(), started(), exposed('a', 'green', 1), order('a', 2, 5)];
    const models = await project(events);
    const before = JSON.stringify(models.documents(experimentStatsCollection));
    await experimentsProjection.project(events, models);
    expect(JSON.stringify(models.documents(experimentStatsCollection))).toBe(before);
  });
});

describe('experiment results and the auto-stop policy', () => {
  function statsOf(
    control: [number, number],
    treatment: [number, number],
  ): ExperimentStatsDocument {
    return {
      _id: 'x',
      workspaceId,
      key,
      phase: 1,
      variants: [control, treatment].map(([units, conversions]) => ({
        units,
        sums: [conversions, 0],
        sumSquares: [conversions, 0],
      })),
    };
  }
  const phase = { phase: 1, weights: [50, 50] };

  it('reports rates and the Welch test of the relative lift against the control', () => {
    const results = phaseResults(definition, phase, statsOf([1000, 100], [1000, 130]));
    const purchase = results.metrics[0];
    expect(purchase?.variants.map((variant) => variant.mean)).toEqual([0.1, 0.13]);
    const expected = welchTTest(conversionMoments(1000, 100), conversionMoments(1000, 130));
    expect(purchase?.variants[1]?.comparison?.relative).toEqual(expected);
    // Two comparisons in the family (purchase and revenue): Holm doubles the smaller p.
    expect(purchase?.variants[1]?.comparison?.adjustedPValue).toBeCloseTo(
      Math.min(1, 2 * (expected.pValue as number)),
      10,
    );
    expect(results.srm?.flagged).toBe(false);
  });

  it('stops for the treatment whose always-valid interval excludes 0, and not before', () => {
    const auto = { ...definition, autoStop: true, minSamplePerVariant: 100 };
    expect(
      autoStopDecision(auto, phaseResults(auto, phase, statsOf([2000, 200], [2000, 205]))),
    ).toBeNull();
    expect(
      autoStopDecision(auto, phaseResults(auto, phase, statsOf([50, 5], [50, 40]))),
    ).toBeNull();
    expect(
      autoStopDecision(auto, phaseResults(auto, phase, statsOf([5000, 500], [5000, 800]))),
    ).toMatchObject({
      winner: 'green',
    });
    expect(
      autoStopDecision(auto, phaseResults(auto, phase, statsOf([5000, 800], [5000, 500]))),
    ).toMatchObject({
      winner: 'control',
    });
    // A sample ratio far from 50/50 blocks the decision.
    expect(
      autoStopDecision(auto, phaseResults(auto, phase, statsOf([8000, 800], [5000, 800]))),
    ).toBeNull();
  });

  it('yields no NaN for an empty phase', () => {
    const results = phaseResults(definition, phase, null);
    expect(JSON.stringify(results)).not.toMatch(/NaN|Infinity/);
    expect(results.metrics[0]?.variants[1]?.comparison?.relative).toMatchObject({
      kind: 'no-result',
      pValue: 1,
    });
  });
});

describe('winner applier', () => {
  it('applies the winner once, to the campaign surface, whatever the batches', () => {
    const applied = recorded('ExperimentWinnerApplied', {
      experimentId: key,
      variant: 'green',
      campaignId: 'spring',
      surface: { kind: 'CTA', ref: 'checkout' },
      content: { color: 'green' },
      appliedAt: at(30),
    });
    const first = winnerApplier.react([applied], new Map());
    expect(first.commands.map(({ command }) => command)).toEqual([
      {
        type: 'ApplyCampaignContent',
        data: {
          campaignId: 'spring',
          surface: 'CTA:checkout',
          content: { color: 'green' },
          source: { experimentId: key, variant: 'green' },
        },
      },
    ]);
    expect(winnerApplier.react([applied], first.state).commands).toEqual([]);
  });
});
