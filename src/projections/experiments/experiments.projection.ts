/**
 * The experiments read model: each experiment's definition and lifecycle, its units (one per
 * contact exposed, per phase) with their metric values, and per phase and variant the
 * sufficient statistics {units, Σx, Σx²} of every metric, which the analysis reads
 * (experiment-results.ts). Phases are analysed apart: a unit belongs to the phase its first
 * exposure fell in.
 *
 * Where ANALYTICS.md is silent (following GrowthBook):
 * - a unit is the id the assignment was hashed on, as given (GrowthBook's hashing attribute);
 *   a tracked event counts for the units named by its userId and by its anonymousId;
 * - a unit's first exposure in a phase fixes its variant; later exposures change nothing;
 * - a metric counts the unit's events from its exposure until the experiment stopped, by event
 *   time, both ends included: a conversion metric is 1 when there is one such event, a value
 *   metric is the sum of the numeric property over them (a missing or non-numeric value is 0);
 * - an exposure before the first phase started or after the experiment stopped is ignored; a
 *   tracked `Experiment Viewed` names the variant by key or by index (`variation_id`), and
 *   falls in the phase in progress at its event time.
 *
 * Order independence: a contact's metric events are kept (those whose name some started
 * experiment's metric reads), so an exposure that arrives after the conversions it precedes
 * in time still counts them; each change of a unit's values moves the statistics by the
 * difference.
 */
import type { ExperimentExposed } from '../../domain/experiment/exposure.events';
import {
  experimentEventTypes,
  type ExperimentDecision,
  type ExperimentDefinition,
  type ExperimentEvent,
  type ExperimentMetric,
  type ExperimentPhase,
} from '../../domain/experiment';
import { readPath } from '../../domain/shared/conditions';
import type { RecordedEvent } from '../../domain/shared/events';
import {
  SemanticEvents,
  type EventTracked,
  type JsonObject,
  type PageViewed,
} from '../../domain/tracking/tracking.events';
import { pageViewEventName } from '../../domain/funnel/funnel.events';
import { BatchDocuments } from '../batch-documents';
import type { Projection, ProjectionSession } from '../projection';

export const experimentsProjectionName = 'experiments';
export const experimentsCollection = 'experiments';
export const experimentUnitsCollection = 'experiment_units';
export const experimentStatsCollection = 'experiment_stats';
export const experimentContactEventsCollection = 'experiment_contact_events';
/** Per phase, the ids of its units in chunks. */
export const experimentRostersCollection = 'experiment_rosters';
/** Per workspace, the keys of its experiments (a projection reads documents by id only). */
export const experimentIndexCollection = 'experiment_index';

export type ExperimentStatus = 'DRAFT' | 'RUNNING' | 'STOPPED' | 'WINNER_APPLIED';

export type ExperimentDocument = {
  /** `${workspaceId}:${key}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly key: string;
  readonly status: ExperimentStatus;
  readonly definition: ExperimentDefinition;
  readonly phases: readonly ExperimentPhase[];
  readonly decision: ExperimentDecision | null;
  readonly appliedVariant: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly stoppedAt: string | null;
  /** Log position of the last lifecycle event applied (decimal). */
  readonly position: string;
};

export type ExperimentUnitDocument = {
  /** `${workspaceId}:${key}:${phase}|${unit}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly key: string;
  readonly phase: number;
  readonly unit: string;
  /** Index of the variant. */
  readonly variant: number;
  readonly exposedAt: number;
  /** One value per metric, in `experimentMetrics` order. */
  readonly values: readonly number[];
};

export interface VariantStatistics {
  readonly units: number;
  /** Per metric, in `experimentMetrics` order. */
  readonly sums: readonly number[];
  readonly sumSquares: readonly number[];
}

export type ExperimentStatsDocument = {
  /** `${workspaceId}:${key}:${phase}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly key: string;
  readonly phase: number;
  readonly variants: readonly VariantStatistics[];
};

/**
 * The ids of a phase's units, in chunks (a projection reads documents by id only): what a
 * stop walks through to recompute every unit.
 */
type UnitRosterDocument = {
  /** `${workspaceId}:${key}:${phase}#${chunk}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly key: string;
  readonly phase: number;
  readonly units: readonly string[];
};

const rosterChunk = 1_000;

function rosterDocumentId(workspaceId: string, key: string, phase: number, chunk: number): string {
  return `${workspaceId}:${key}:${phase}#${chunk}`;
}

function unitCount(stats: ExperimentStatsDocument): number {
  return stats.variants.reduce((sum, variant) => sum + variant.units, 0);
}

/** A contact's event that some metric reads: [time, message id, event name, properties read]. */
type StoredMetricEvent = readonly [time: number, id: string, name: string, values: JsonObject];

type ExperimentIndexDocument = {
  readonly _id: string;
  readonly workspaceId: string;
  readonly keys: readonly string[];
};

type ContactEventsDocument = {
  /** `${workspaceId}|${identity}`. */
  readonly _id: string;
  readonly workspaceId: string;
  readonly identity: string;
  readonly events: readonly StoredMetricEvent[];
};

/** Primary, then secondary, then guardrail metrics: the order of every values array. */
export function experimentMetrics(definition: ExperimentDefinition): readonly ExperimentMetric[] {
  return [definition.primaryMetric, ...definition.secondaryMetrics, ...definition.guardrailMetrics];
}

export function experimentDocumentId(workspaceId: string, key: string): string {
  return `${workspaceId}:${key}`;
}

export function statsDocumentId(workspaceId: string, key: string, phase: number): string {
  return `${workspaceId}:${key}:${phase}`;
}

/** The workspace and experiment a statistics document id names (neither holds a `:`). */
export function statsDocumentOwner(id: string): { workspaceId: string; key: string } | null {
  const [workspaceId, key] = id.split(':');
  return workspaceId && key ? { workspaceId, key } : null;
}

function unitDocumentId(workspaceId: string, key: string, phase: number, unit: string): string {
  return `${workspaceId}:${key}:${phase}|${unit}`;
}

const trackedTypes = ['PageViewed', 'EventTracked'] as const;

export const experimentsProjection: Projection = {
  name: experimentsProjectionName,
  version: 1,
  eventTypes: [...experimentEventTypes, 'ExperimentExposed', ...trackedTypes],
  collections: [
    experimentsCollection,
    experimentUnitsCollection,
    experimentStatsCollection,
    experimentContactEventsCollection,
    experimentIndexCollection,
    experimentRostersCollection,
  ],
  indexes: {
    [experimentsCollection]: [['workspaceId', 'status']],
    [experimentUnitsCollection]: [['workspaceId', 'key', 'phase']],
  },
  async project(events, session) {
    const batch = new ExperimentBatch(session);
    for (const event of events) await batch.apply(event);
    batch.flush();
  },
};

class ExperimentBatch {
  private readonly documents: BatchDocuments;
  /** Started experiments per workspace, loaded once per batch. */
  private readonly started = new Map<string, ExperimentDocument[]>();

  constructor(session: ProjectionSession) {
    this.documents = new BatchDocuments(session);
  }

  async apply(recorded: RecordedEvent): Promise<void> {
    const { workspaceId } = recorded.metadata;
    if (recorded.type === 'ExperimentExposed') {
      const data = recorded.data as ExperimentExposed['data'];
      await this.expose(
        workspaceId,
        data.experimentKey,
        data.contactId,
        Date.parse(data.exposedAt),
        (definition) => definition.variants.findIndex((variant) => variant.key === data.variant),
        data.phase,
      );
      return;
    }
    if (recorded.type === 'PageViewed' || recorded.type === 'EventTracked') {
      await this.tracked(workspaceId, recorded as RecordedEvent<PageViewed | EventTracked>);
      return;
    }
    await this.lifecycle(workspaceId, recorded);
  }

  flush(): void {
    this.documents.flush();
  }

  private async lifecycle(workspaceId: string, recorded: RecordedEvent): Promise<void> {
    const event = { type: recorded.type, data: recorded.data } as ExperimentEvent;
    const id = experimentDocumentId(workspaceId, event.data.experimentId);
    const current = await this.documents.get<ExperimentDocument>(experimentsCollection, id);
    if (current !== null && recorded.position <= BigInt(current.position)) return;
    const position = recorded.position.toString();
    const next = evolveExperiment(current, event, workspaceId, position);
    if (next === null) return;
    this.documents.set(experimentsCollection, next);
    if (current === null) await this.indexExperiment(next);
    this.started.delete(workspaceId);
    // Events timed after the stop may have been counted before the stop was known: every
    // unit is recomputed with the cut, so the figures do not depend on the log's order.
    if (event.type === 'ExperimentStopped') await this.recomputeEveryUnit(next);
  }

  private async recomputeEveryUnit(experiment: ExperimentDocument): Promise<void> {
    for (const { phase } of experiment.phases) {
      for (let chunk = 0; ; chunk += 1) {
        const roster = await this.documents.get<UnitRosterDocument>(
          experimentRostersCollection,
          rosterDocumentId(experiment.workspaceId, experiment.key, phase, chunk),
        );
        if (roster === null) break;
        for (const unit of roster.units) await this.recomputeUnit(experiment, phase, unit);
      }
    }
  }

  private async tracked(
    workspaceId: string,
    recorded: RecordedEvent<PageViewed | EventTracked>,
  ): Promise<void> {
    const { data } = recorded;
    const time = Date.parse(data.occurredAt);
    const name =
      recorded.type === 'PageViewed' ? pageViewEventName : (data as EventTracked['data']).event;
    if (name === SemanticEvents.experimentViewed) {
      const key = readText(data.properties['experiment_id']);
      const variation = data.properties['variation_id'];
      const unit = data.userId ?? data.anonymousId;
      if (key !== null && unit !== null) {
        await this.expose(workspaceId, key, unit, time, (definition) =>
          variantIndex(definition, variation),
        );
      }
    }
    const experiments = (await this.startedIn(workspaceId)).filter((experiment) =>
      experimentMetrics(experiment.definition).some((metric) => metric.event === name),
    );
    if (experiments.length === 0) return;
    const values: Record<string, number> = {};
    for (const experiment of experiments) {
      for (const metric of experimentMetrics(experiment.definition)) {
        if (metric.event !== name || metric.property === null) continue;
        values[metric.property] = numeric(readPath(data.properties, metric.property));
      }
    }
    const stored: StoredMetricEvent = [time, data.messageId, name, values];
    for (const identity of new Set([data.userId, data.anonymousId])) {
      if (identity === null) continue;
      const changed = await this.addContactEvent(workspaceId, identity, stored);
      if (!changed) continue;
      for (const experiment of experiments) {
        for (let phase = 1; phase <= experiment.phases.length; phase += 1) {
          await this.recomputeUnit(experiment, phase, identity);
        }
      }
    }
  }

  private async expose(
    workspaceId: string,
    key: string,
    unit: string,
    time: number,
    variantOf: (definition: ExperimentDefinition) => number,
    /** The phase whose weights drew the variant (assignVariant says); else the one at `time`. */
    drawnIn?: number,
  ): Promise<void> {
    const experiment = await this.documents.get<ExperimentDocument>(
      experimentsCollection,
      experimentDocumentId(workspaceId, key),
    );
    if (experiment === null || experiment.phases.length === 0 || !Number.isFinite(time)) return;
    if (experiment.stoppedAt !== null && time > Date.parse(experiment.stoppedAt)) return;
    const phase =
      drawnIn !== undefined && experiment.phases.some(({ phase: p }) => p === drawnIn)
        ? drawnIn
        : phaseAt(experiment.phases, time);
    const variant = variantOf(experiment.definition);
    if (phase === null || variant < 0) return;
    const id = unitDocumentId(workspaceId, key, phase, unit);
    const current = await this.documents.get<ExperimentUnitDocument>(experimentUnitsCollection, id);
    if (current !== null && current.exposedAt <= time) return;
    const exposed: ExperimentUnitDocument = {
      _id: id,
      workspaceId,
      key,
      phase,
      unit,
      // An earlier exposure found later moves the unit's start, never its variant.
      variant: current?.variant ?? variant,
      exposedAt: time,
      values: current?.values ?? experimentMetrics(experiment.definition).map(() => 0),
    };
    await this.updateUnit(experiment, current, exposed);
  }

  /** Recomputes a unit's values from the contact's stored events, if the unit exists. */
  private async recomputeUnit(
    experiment: ExperimentDocument,
    phase: number,
    identity: string,
  ): Promise<void> {
    const id = unitDocumentId(experiment.workspaceId, experiment.key, phase, identity);
    const current = await this.documents.get<ExperimentUnitDocument>(experimentUnitsCollection, id);
    if (current !== null) await this.updateUnit(experiment, current, current);
  }

  /** Stores `next` (with values recomputed) in place of `current` and moves the statistics. */
  private async updateUnit(
    experiment: ExperimentDocument,
    current: ExperimentUnitDocument | null,
    next: ExperimentUnitDocument,
  ): Promise<void> {
    const events = await this.contactEvents(experiment.workspaceId, next.unit);
    const values = unitValues(experiment, next.exposedAt, events);
    const updated: ExperimentUnitDocument = { ...next, values };
    if (
      current !== null &&
      current.exposedAt === updated.exposedAt &&
      sameValues(current.values, values)
    ) {
      return;
    }
    this.documents.set(experimentUnitsCollection, updated);
    const statsId = statsDocumentId(experiment.workspaceId, experiment.key, next.phase);
    const stats =
      (await this.documents.get<ExperimentStatsDocument>(experimentStatsCollection, statsId)) ??
      emptyStats(experiment, next.phase);
    this.documents.set(experimentStatsCollection, moveStatistics(stats, current, updated));
    if (current === null) await this.enrol(experiment, next.phase, next.unit, unitCount(stats));
  }

  /** Adds a new unit to its phase's roster, in chunks of `rosterChunk` ids. */
  private async enrol(
    experiment: ExperimentDocument,
    phase: number,
    unit: string,
    unitsBefore: number,
  ): Promise<void> {
    const id = rosterDocumentId(
      experiment.workspaceId,
      experiment.key,
      phase,
      Math.floor(unitsBefore / rosterChunk),
    );
    const roster = await this.documents.get<UnitRosterDocument>(experimentRostersCollection, id);
    this.documents.set(experimentRostersCollection, {
      _id: id,
      workspaceId: experiment.workspaceId,
      key: experiment.key,
      phase,
      units: [...(roster?.units ?? []), unit],
    });
  }

  private async addContactEvent(
    workspaceId: string,
    identity: string,
    event: StoredMetricEvent,
  ): Promise<boolean> {
    const id = `${workspaceId}|${identity}`;
    const current = await this.documents.get<ContactEventsDocument>(
      experimentContactEventsCollection,
      id,
    );
    if (current?.events.some(([, messageId]) => messageId === event[1])) return false;
    this.documents.set(experimentContactEventsCollection, {
      _id: id,
      workspaceId,
      identity,
      events: [...(current?.events ?? []), event],
    });
    return true;
  }

  private async contactEvents(workspaceId: string, identity: string) {
    const document = await this.documents.get<ContactEventsDocument>(
      experimentContactEventsCollection,
      `${workspaceId}|${identity}`,
    );
    return document?.events ?? [];
  }

  private async startedIn(workspaceId: string): Promise<ExperimentDocument[]> {
    let started = this.started.get(workspaceId);
    if (started === undefined) {
      started = (await this.allExperiments(workspaceId)).filter(
        (experiment) => experiment.phases.length > 0,
      );
      this.started.set(workspaceId, started);
    }
    return started;
  }

  /**
   * The workspace's experiments: those the batch has touched, over the stored ones. The
   * session reads by id, so the ids come from a per-workspace index document.
   */
  private async allExperiments(workspaceId: string): Promise<ExperimentDocument[]> {
    const index = await this.documents.get<ExperimentIndexDocument>(
      experimentIndexCollection,
      indexDocumentId(workspaceId),
    );
    const experiments: ExperimentDocument[] = [];
    for (const key of index?.keys ?? []) {
      const experiment = await this.documents.get<ExperimentDocument>(
        experimentsCollection,
        experimentDocumentId(workspaceId, key),
      );
      if (experiment !== null) experiments.push(experiment);
    }
    return experiments;
  }

  private async indexExperiment(experiment: ExperimentDocument): Promise<void> {
    const id = indexDocumentId(experiment.workspaceId);
    const index = await this.documents.get<ExperimentIndexDocument>(experimentIndexCollection, id);
    if (index?.keys.includes(experiment.key)) return;
    this.documents.set(experimentIndexCollection, {
      _id: id,
      workspaceId: experiment.workspaceId,
      keys: [...(index?.keys ?? []), experiment.key],
    });
  }
}

function indexDocumentId(workspaceId: string): string {
  return workspaceId;
}

const statusAfter: Record<ExperimentEvent['type'], ExperimentStatus> = {
  ExperimentCreated: 'DRAFT',
  ExperimentUpdated: 'DRAFT',
  ExperimentStarted: 'RUNNING',
  ExperimentWeightsChanged: 'RUNNING',
  ExperimentStopped: 'STOPPED',
  ExperimentWinnerDeclared: 'STOPPED',
  ExperimentWinnerApplied: 'WINNER_APPLIED',
};

/** The experiment document after a lifecycle event; null for an event it cannot apply. */
function evolveExperiment(
  current: ExperimentDocument | null,
  event: ExperimentEvent,
  workspaceId: string,
  position: string,
): ExperimentDocument | null {
  const status = statusAfter[event.type];
  switch (event.type) {
    case 'ExperimentCreated':
      return {
        _id: experimentDocumentId(workspaceId, event.data.experimentId),
        workspaceId,
        key: event.data.experimentId,
        status,
        definition: event.data.definition,
        phases: [],
        decision: null,
        appliedVariant: null,
        createdAt: event.data.createdAt,
        updatedAt: event.data.createdAt,
        stoppedAt: null,
        position,
      };
    case 'ExperimentUpdated':
      return (
        current && {
          ...current,
          definition: event.data.definition,
          updatedAt: event.data.updatedAt,
          position,
        }
      );
    case 'ExperimentStarted':
    case 'ExperimentWeightsChanged':
      return (
        current && {
          ...current,
          status,
          phases: [...current.phases, event.data.phase],
          updatedAt: event.data.phase.startedAt,
          position,
        }
      );
    case 'ExperimentStopped':
      return (
        current && {
          ...current,
          status,
          decision: event.data.decision,
          stoppedAt: event.data.stoppedAt,
          updatedAt: event.data.stoppedAt,
          position,
        }
      );
    case 'ExperimentWinnerDeclared':
      return (
        current && {
          ...current,
          status,
          decision: event.data.decision,
          updatedAt: event.data.declaredAt,
          position,
        }
      );
    case 'ExperimentWinnerApplied':
      return (
        current && {
          ...current,
          status,
          appliedVariant: event.data.variant,
          updatedAt: event.data.appliedAt,
          position,
        }
      );
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** The phase in progress at `time` (1-based), or null before the first one. */
function phaseAt(phases: readonly ExperimentPhase[], time: number): number | null {
  let found: number | null = null;
  for (const phase of phases) if (Date.parse(phase.startedAt) <= time) found = phase.phase;
  return found;
}

/** A tracked `variation_id`: a variant's key, else its index (a number or decimal text). */
function variantIndex(definition: ExperimentDefinition, variation: unknown): number {
  if (typeof variation === 'string') {
    const byKey = definition.variants.findIndex((variant) => variant.key === variation);
    if (byKey >= 0) return byKey;
    if (!/^\d+$/.test(variation)) return -1;
  }
  const index = Number(variation);
  return Number.isInteger(index) && index >= 0 && index < definition.variants.length ? index : -1;
}

function readText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** A metric value: a finite number or numeric text, else 0. */
function numeric(value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : 0;
}

/** The unit's metric values from its exposure until the experiment stopped, by event time. */
function unitValues(
  experiment: ExperimentDocument,
  exposedAt: number,
  events: readonly StoredMetricEvent[],
): number[] {
  const end = experiment.stoppedAt === null ? Infinity : Date.parse(experiment.stoppedAt);
  return experimentMetrics(experiment.definition).map((metric) => {
    let value = 0;
    for (const [time, , name, values] of events) {
      if (name !== metric.event || time < exposedAt || time > end) continue;
      if (metric.kind === 'conversion') return 1;
      value += numeric(values[metric.property ?? '']);
    }
    return value;
  });
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function emptyStats(experiment: ExperimentDocument, phase: number): ExperimentStatsDocument {
  const metrics = experimentMetrics(experiment.definition).length;
  return {
    _id: statsDocumentId(experiment.workspaceId, experiment.key, phase),
    workspaceId: experiment.workspaceId,
    key: experiment.key,
    phase,
    variants: experiment.definition.variants.map(() => ({
      units: 0,
      sums: new Array<number>(metrics).fill(0),
      sumSquares: new Array<number>(metrics).fill(0),
    })),
  };
}

/** The statistics with `before` (null: a new unit) replaced by `after`. */
function moveStatistics(
  stats: ExperimentStatsDocument,
  before: ExperimentUnitDocument | null,
  after: ExperimentUnitDocument,
): ExperimentStatsDocument {
  const variants = stats.variants.map((variant) => ({
    units: variant.units,
    sums: [...variant.sums],
    sumSquares: [...variant.sumSquares],
  }));
  const apply = (unit: ExperimentUnitDocument, sign: 1 | -1) => {
    const variant = variants[unit.variant];
    if (variant === undefined) return;
    variant.units += sign;
    unit.values.forEach((value, metric) => {
      variant.sums[metric] = (variant.sums[metric] ?? 0) + sign * value;
      variant.sumSquares[metric] = (variant.sumSquares[metric] ?? 0) + sign * value * value;
    });
  };
  if (before !== null) apply(before, -1);
  apply(after, 1);
  return { ...stats, variants };
}
