/**
 * Attribution reports from the attribution read model (the live one, or the in-memory one of
 * an analysis with other settings): the same reads and folds either way.
 *
 * A range [from, to] (both ends included) is answered from the daily sums for the UTC days
 * it covers whole, the hourly sums for the whole hours of the days it cuts, and the journeys
 * themselves in the hours it cuts, so any range is exact and reads documents by id only (the
 * paths are kept by hour only). Conversions count by their time; null journeys
 * by the hour they expire in, once that hour is over (a range reaching into the future counts
 * those whose hour ended before `now`).
 *
 * The rule-based models are summed from the credits; the data-driven ones (Markov, Shapley)
 * are solved from the path counts on demand, and the solution is cached until the
 * workspace's sums move (its version) or the question changes.
 */
import type { ReadCollection } from '../read-store';
import {
  attributionCreditsCollection,
  attributionJourneyHoursCollection,
  attributionJourneysCollection,
  attributionNullPathsCollection,
  attributionPathsCollection,
  attributionTotalsCollection,
  attributionWorkspacesCollection,
  creditsId,
  groupedPath,
  groupingKeys,
  journeyHourId,
  pathsId,
  totalsId,
  utcDay,
  utcHour,
  type AttributionCreditDocument,
  type AttributionJourneyDocument,
  type AttributionJourneyHourDocument,
  type AttributionNullPathDocument,
  type AttributionPathDocument,
  type AttributionTotalsDocument,
  type AttributionWorkspaceDocument,
  type Bucket,
  type Grouping,
  type RevenueByCurrency,
} from './attribution.projection';
import { ruleBasedModelNames } from './journeys';
import { markovAttribution, type MarkovOrder } from './markov';
import { DAY_MS, type RuleBasedModelName } from './models';
import { pathKey, type PathCount } from './paths';
import { shapleyAttribution } from './shapley';
import { compareText } from '../ordering';

export type DataDrivenModelName = 'markov' | 'shapley';
export type AttributionModelName = RuleBasedModelName | DataDrivenModelName;

/** The read model's collections, by their logical names. */
export type AttributionCollection = <T extends AttributionDocuments>(
  name: string,
) => ReadCollection<T>;
type AttributionDocuments =
  | AttributionJourneyDocument
  | AttributionCreditDocument
  | AttributionPathDocument
  | AttributionNullPathDocument
  | AttributionTotalsDocument
  | AttributionJourneyHourDocument
  | AttributionWorkspaceDocument;

/** Both ends included, ms. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

export interface AttributionQuery {
  readonly workspaceId: string;
  readonly range: TimeRange;
  readonly grouping: Grouping;
  /** The instant null journeys must have expired by (the clock). */
  readonly now: number;
}

export interface CreditRow {
  readonly key: string;
  /** Fractional conversions credited to the key. */
  readonly conversions: number;
  readonly revenue: RevenueByCurrency;
  /** Markov only: the key's removal effect. */
  readonly removalEffect?: number;
}

export interface ConversionTotals {
  readonly conversions: number;
  readonly revenue: RevenueByCurrency;
}

export interface ModelReport {
  readonly model: AttributionModelName;
  /** Most conversions first, then by key. */
  readonly credits: readonly CreditRow[];
  /** Every conversion in the range, attributed or not. */
  readonly total: ConversionTotals;
  /** Conversions without a touch in their window: reported, never dropped. */
  readonly unattributed: ConversionTotals;
  /** Markov only: P(conversion) from the start state with every key present. */
  readonly conversionProbability?: number;
}

/**
 * How a range falls on UTC days and hours: the whole days, the whole hours of the days it
 * cuts, and the hours it cuts (with their part).
 */
export interface RangeParts {
  readonly days: readonly Bucket[];
  readonly hours: readonly Bucket[];
  readonly cuts: readonly { readonly hour: Bucket; readonly from: number; readonly to: number }[];
}

const HOUR_MS = 3_600_000;

/** The whole units (their starts) inside [from, to], and the parts left at either end. */
function splitSpan(from: number, to: number, unit: number) {
  const whole: number[] = [];
  const rest: [number, number][] = [];
  if (to < from) return { whole, rest };
  const first = Math.ceil(from / unit) * unit;
  const last = Math.floor((to + 1) / unit) * unit - unit;
  if (first > last) {
    rest.push([from, to]);
    return { whole, rest };
  }
  for (let start = first; start <= last; start += unit) whole.push(start);
  if (from < first) rest.push([from, first - 1]);
  if (last + unit - 1 < to) rest.push([last + unit, to]);
  return { whole, rest };
}

export function splitRange({ from, to }: TimeRange): RangeParts {
  const byDay = splitSpan(from, to, DAY_MS);
  const hours: Bucket[] = [];
  const cuts: { hour: Bucket; from: number; to: number }[] = [];
  for (const [partFrom, partTo] of byDay.rest) {
    const byHour = splitSpan(partFrom, partTo, HOUR_MS);
    hours.push(...byHour.whole.map(utcHour));
    for (const [cutFrom, cutTo] of byHour.rest) {
      cuts.push({ hour: utcHour(cutFrom), from: cutFrom, to: cutTo });
    }
  }
  return { days: byDay.whole.map(utcDay), hours, cuts };
}

/** Documents by id, in one read. */
async function byIds<T extends AttributionDocuments>(
  collection: AttributionCollection,
  name: string,
  ids: readonly string[],
): Promise<T[]> {
  return ids.length === 0 ? [] : collection<T>(name).find({ _id: { $in: [...ids] } });
}

/**
 * The journeys of a kind in some hours, through each hour's list of them: all of a whole
 * hour's, and those inside the part of a cut one.
 */
async function journeysIn(
  collection: AttributionCollection,
  workspaceId: string,
  kind: AttributionJourneyDocument['kind'],
  hours: readonly { readonly hour: Bucket; readonly from?: number; readonly to?: number }[],
): Promise<AttributionJourneyDocument[]> {
  const lists = await byIds<AttributionJourneyHourDocument>(
    collection,
    attributionJourneyHoursCollection,
    hours.map(({ hour }) => journeyHourId(workspaceId, hour, kind)),
  );
  const journeys = await byIds<AttributionJourneyDocument>(
    collection,
    attributionJourneysCollection,
    lists.flatMap((list) => list.journeys),
  );
  const parts = new Map(hours.map((part) => [part.hour, part]));
  return journeys.filter((journey) => {
    const part = parts.get(utcHour(journey.at));
    return (
      part !== undefined &&
      (part.from === undefined || journey.at >= part.from) &&
      (part.to === undefined || journey.at <= part.to)
    );
  });
}

/** The end of the last hour that is over (by `now`), or the range's end if earlier. */
function lastHourOver(query: AttributionQuery): number {
  return Math.min(query.range.to, Math.floor(query.now / HOUR_MS) * HOUR_MS - 1);
}

function hoursOfDay(day: Bucket): Bucket[] {
  return Array.from({ length: 24 }, (_, hour) => `${day}T${String(hour).padStart(2, '0')}`);
}

function addRevenue(into: Record<string, number>, revenue: RevenueByCurrency, factor = 1): void {
  for (const [currency, amount] of Object.entries(revenue)) {
    into[currency] = (into[currency] ?? 0) + amount * factor;
  }
}

class Totals {
  conversions = 0;
  readonly revenue: Record<string, number> = {};
  add(conversions: number, revenue: RevenueByCurrency, factor = 1): void {
    this.conversions += conversions;
    addRevenue(this.revenue, revenue, factor);
  }
  done(): ConversionTotals {
    return { conversions: this.conversions, revenue: this.revenue };
  }
}

function journeyRevenue(journey: AttributionJourneyDocument): RevenueByCurrency {
  return journey.currency === null ? {} : { [journey.currency]: journey.revenueMinor };
}

interface ConversionSums {
  readonly total: ConversionTotals;
  readonly unattributed: ConversionTotals;
}

/** Every conversion in the range, and the unattributed ones; `cut`: the cut hours' journeys. */
async function conversionSums(
  collection: AttributionCollection,
  workspaceId: string,
  parts: RangeParts,
  cut: readonly AttributionJourneyDocument[],
): Promise<ConversionSums> {
  const total = new Totals();
  const unattributed = new Totals();
  const buckets = await byIds<AttributionTotalsDocument>(
    collection,
    attributionTotalsCollection,
    [...parts.days, ...parts.hours].map((bucket) => totalsId(workspaceId, bucket)),
  );
  for (const bucket of buckets) {
    total.add(bucket.conversions, bucket.revenue);
    unattributed.add(bucket.unattributed.conversions, bucket.unattributed.revenue);
  }
  for (const journey of cut) {
    total.add(1, journeyRevenue(journey));
    if (journey.touches.length === 0) unattributed.add(1, journeyRevenue(journey));
  }
  return { total: total.done(), unattributed: unattributed.done() };
}

function sortedRows(rows: Map<string, Totals>): CreditRow[] {
  return [...rows]
    .map(([key, totals]) => ({ key, conversions: totals.conversions, revenue: totals.revenue }))
    .sort((a, b) => b.conversions - a.conversions || compareText(a.key, b.key));
}

/** Every rule-based model's credits over the range, read from the sums. */
export async function ruleBasedReports(
  collection: AttributionCollection,
  query: AttributionQuery,
): Promise<ModelReport[]> {
  const { workspaceId, grouping } = query;
  const parts = splitRange(query.range);
  const rows = new Map<RuleBasedModelName, Map<string, Totals>>(
    ruleBasedModelNames.map((model) => [model, new Map()]),
  );
  const row = (model: RuleBasedModelName, key: string): Totals => {
    const byKey = rows.get(model)!;
    let totals = byKey.get(key);
    if (totals === undefined) {
      totals = new Totals();
      byKey.set(key, totals);
    }
    return totals;
  };
  const credits = await byIds<AttributionCreditDocument>(
    collection,
    attributionCreditsCollection,
    [...parts.days, ...parts.hours].map((bucket) => creditsId(workspaceId, bucket, grouping)),
  );
  for (const credit of credits) {
    for (const entry of credit.entries) {
      for (const [model, value] of Object.entries(entry.models)) {
        row(model as RuleBasedModelName, entry.key).add(value.conversions, value.revenue);
      }
    }
  }
  const cut = await journeysIn(collection, workspaceId, 'conversion', parts.cuts);
  const keyOf = groupingKeys[grouping];
  for (const journey of cut) {
    if (journey.shares === null) continue;
    const revenue = journeyRevenue(journey);
    journey.touches.forEach((touch, i) => {
      for (const model of ruleBasedModelNames) {
        const share = journey.shares![model][i];
        if (share !== 0) row(model, keyOf(touch)).add(share, revenue, share);
      }
    });
  }
  const { total, unattributed } = await conversionSums(collection, workspaceId, parts, cut);
  return ruleBasedModelNames.map((model) => ({
    model,
    credits: sortedRows(rows.get(model)!),
    total,
    unattributed,
  }));
}

/** A path's journeys over a range: what the data-driven models and the path report take. */
export interface PathTotals {
  readonly path: readonly string[];
  readonly conversions: number;
  readonly nulls: number;
  readonly revenue: RevenueByCurrency;
  readonly touches: number;
  readonly timeToConversionMs: number;
}

/**
 * The path counts of a range, with its conversions and unattributed ones (read once): converting journeys by conversion time in the range, null
 * journeys by the hour they expire in, for every hour the range touches that is over. Whole
 * hours are read from the hourly paths, conversions in the hours the range cuts from their
 * journeys.
 */
export async function pathTotals(
  collection: AttributionCollection,
  query: AttributionQuery,
): Promise<{ paths: PathTotals[]; sums: ConversionSums }> {
  type Mutable = { -readonly [K in keyof PathTotals]: PathTotals[K] } & {
    revenue: Record<string, number>;
  };
  const { workspaceId, grouping } = query;
  const byPath = new Map<string, Mutable>();
  const entry = (path: readonly string[], key = JSON.stringify(path)): Mutable => {
    let totals = byPath.get(key);
    if (totals === undefined) {
      totals = { path, conversions: 0, nulls: 0, revenue: {}, touches: 0, timeToConversionMs: 0 };
      byPath.set(key, totals);
    }
    return totals;
  };
  /** The hourly path documents of a range's whole days and whole hours. */
  const wholeHours = async <T extends AttributionDocuments>(name: string, parts: RangeParts) =>
    byIds<T>(
      collection,
      name,
      [...parts.days.flatMap(hoursOfDay), ...parts.hours].map((hour) =>
        pathsId(workspaceId, hour, grouping),
      ),
    );

  const conversionParts = splitRange(query.range);
  for (const document of await wholeHours<AttributionPathDocument>(
    attributionPathsCollection,
    conversionParts,
  )) {
    for (const path of document.entries) {
      if (path.conversions === 0) continue;
      const totals = entry(path.path, path.key);
      totals.conversions += path.conversions;
      addRevenue(totals.revenue, path.revenue);
      totals.touches += path.touches;
      totals.timeToConversionMs += path.timeToConversionMs;
    }
  }
  const converted = await journeysIn(collection, workspaceId, 'conversion', conversionParts.cuts);
  for (const journey of converted) {
    if (journey.touches.length === 0) continue;
    const totals = entry(groupedPath(journey.touches, grouping));
    totals.conversions += 1;
    addRevenue(totals.revenue, journeyRevenue(journey));
    totals.touches += journey.touches.length;
    totals.timeToConversionMs += journey.at - journey.touches[0].at;
  }

  // Null journeys count by the hour they expire in: every hour the range touches counts
  // whole, once it is over.
  const nullParts = splitRange({ from: query.range.from, to: lastHourOver(query) });
  const nullHours = {
    ...nullParts,
    hours: [...nullParts.hours, ...nullParts.cuts.map(({ hour }) => hour)],
  };
  for (const document of await wholeHours<AttributionNullPathDocument>(
    attributionNullPathsCollection,
    nullHours,
  )) {
    for (const { key, nulls } of document.entries) {
      if (nulls > 0) entry(JSON.parse(key) as string[], key).nulls += nulls;
    }
  }
  return {
    paths: [...byPath.values()].filter((totals) => totals.conversions > 0 || totals.nulls > 0),
    sums: await conversionSums(collection, workspaceId, conversionParts, converted),
  };
}

/** The data-driven models, solved from path counts. */
export function dataDrivenReport(
  model: DataDrivenModelName,
  paths: readonly PathTotals[],
  totals: { total: ConversionTotals; unattributed: ConversionTotals },
  order: MarkovOrder = 1,
): ModelReport {
  const counts: PathCount[] = paths.map(({ path, conversions, nulls }) => ({
    path,
    conversions,
    nulls,
  }));
  const attributed = new Totals();
  for (const path of paths) attributed.add(path.conversions, path.revenue);
  if (model === 'markov') {
    const result = markovAttribution(counts, { order });
    const effects = result.channels.reduce((sum, { removalEffect }) => sum + removalEffect, 0);
    const credits = result.channels.map(({ channel, removalEffect, conversions }) => {
      const revenue: Record<string, number> = {};
      addRevenue(revenue, attributed.revenue, effects === 0 ? 0 : removalEffect / effects);
      return { key: channel, conversions, revenue, removalEffect };
    });
    return {
      model,
      credits: credits.sort((a, b) => b.conversions - a.conversions || compareText(a.key, b.key)),
      ...totals,
      conversionProbability: result.conversionProbability,
    };
  }
  const byKey = new Map<string, Totals>();
  for (const { channel, conversions } of shapleyAttribution(counts).channels) {
    const totals = new Totals();
    totals.add(conversions, {});
    byKey.set(channel, totals);
  }
  for (const currency of new Set(paths.flatMap(({ revenue }) => Object.keys(revenue)))) {
    const withRevenue = paths.map(({ path, conversions, nulls, revenue }) => ({
      path,
      conversions,
      nulls,
      revenue: revenue[currency] ?? 0,
    }));
    for (const { channel, revenue } of shapleyAttribution(withRevenue).channels) {
      byKey.get(channel)?.add(0, { [currency]: revenue });
    }
  }
  return { model, credits: sortedRows(byKey), ...totals };
}

/** Top converting and non-converting paths, with path length and time to conversion. */
export interface PathRow {
  readonly path: readonly string[];
  readonly key: string;
  readonly count: number;
  readonly revenue: RevenueByCurrency;
}

export interface PathsReport {
  readonly converting: readonly PathRow[];
  readonly nonConverting: readonly PathRow[];
  readonly conversions: number;
  readonly nulls: number;
  /** Touches per converting journey before collapsing repeats; null without conversions. */
  readonly averagePathLength: number | null;
  /** First touch to conversion, ms; null without conversions. */
  readonly averageTimeToConversionMs: number | null;
  readonly unattributed: ConversionTotals;
}

export function pathsReport(
  paths: readonly PathTotals[],
  unattributed: ConversionTotals,
  limit: number,
): PathsReport {
  const top = (rows: PathRow[]) =>
    rows
      .filter(({ count }) => count > 0)
      .sort((a, b) => b.count - a.count || compareText(a.key, b.key))
      .slice(0, limit);
  let conversions = 0;
  let nulls = 0;
  let touches = 0;
  let time = 0;
  for (const path of paths) {
    conversions += path.conversions;
    nulls += path.nulls;
    touches += path.touches;
    time += path.timeToConversionMs;
  }
  return {
    converting: top(
      paths.map(({ path, conversions: count, revenue }) => ({
        path,
        key: pathKey(path),
        count,
        revenue,
      })),
    ),
    nonConverting: top(
      paths.map(({ path, nulls: count }) => ({ path, key: pathKey(path), count, revenue: {} })),
    ),
    conversions,
    nulls,
    averagePathLength: conversions === 0 ? null : touches / conversions,
    averageTimeToConversionMs: conversions === 0 ? null : time / conversions,
    unattributed,
  };
}

/** The journeys of a conversion (its order id, else its message id): normally one. */
export function conversionJourneys(
  collection: AttributionCollection,
  workspaceId: string,
  conversionId: string,
): Promise<AttributionJourneyDocument[]> {
  return collection<AttributionJourneyDocument>(attributionJourneysCollection).find({
    workspaceId,
    conversionId,
    kind: 'conversion',
  });
}

/** The version of a workspace's sums: a cached answer is good while it stays the same. */
export async function sumsVersion(
  collection: AttributionCollection,
  workspaceId: string,
): Promise<number> {
  const document = await collection<AttributionWorkspaceDocument>(
    attributionWorkspacesCollection,
  ).findOne({ _id: workspaceId });
  return document?.version ?? 0;
}

export interface ReportOptions {
  /** Markov order, 1 to 3. */
  readonly order?: MarkovOrder;
}

/**
 * Answers model reports over one read model, caching the data-driven solutions by question
 * and the workspace's sums version.
 */
export class AttributionReports {
  private readonly solved = new Map<string, ModelReport>();

  /**
   * `generation` names the read model's current generation (e.g. a physical collection
   * name), so a rebuilt read model, whose versions count from 0 again, never hits an answer
   * cached from the one before.
   */
  constructor(
    private readonly collection: AttributionCollection,
    private readonly generation: () => string = () => '',
    private readonly cacheSize = 256,
  ) {}

  async report(
    model: AttributionModelName,
    query: AttributionQuery,
    options: ReportOptions = {},
  ): Promise<ModelReport> {
    if (model !== 'markov' && model !== 'shapley') {
      const reports = await ruleBasedReports(this.collection, query);
      return reports.find((report) => report.model === model)!;
    }
    const [solved] = await this.dataDriven([model], query, options.order ?? 1);
    return solved;
  }

  /** Every model side by side: the rule-based ones in one read, then Markov and Shapley. */
  async compare(query: AttributionQuery, options: ReportOptions = {}): Promise<ModelReport[]> {
    return [
      ...(await ruleBasedReports(this.collection, query)),
      ...(await this.dataDriven(['markov', 'shapley'], query, options.order ?? 1)),
    ];
  }

  async paths(query: AttributionQuery, limit: number): Promise<PathsReport> {
    const { paths, sums } = await pathTotals(this.collection, query);
    return pathsReport(paths, sums.unattributed, limit);
  }

  /** The models' solutions, from the cache or solved from one read of the range's paths. */
  private async dataDriven(
    models: readonly DataDrivenModelName[],
    query: AttributionQuery,
    order: MarkovOrder,
  ): Promise<ModelReport[]> {
    const version = await sumsVersion(this.collection, query.workspaceId);
    // Null journeys count once the hour they expire in is over: the answer depends on the
    // clock only through the last hour that is over, up to the range's end.
    const nullsUntil = lastHourOver(query);
    const keyOf = (model: DataDrivenModelName) =>
      JSON.stringify([
        this.generation(),
        query.workspaceId,
        version,
        model,
        model === 'markov' ? order : 0,
        query.grouping,
        query.range.from,
        query.range.to,
        nullsUntil,
      ]);
    let read: ReturnType<typeof pathTotals> | undefined;
    const reports: ModelReport[] = [];
    for (const model of models) {
      const key = keyOf(model);
      let report = this.solved.get(key);
      if (report === undefined) {
        const { paths, sums } = await (read ??= pathTotals(this.collection, query));
        report = dataDrivenReport(model, paths, sums, order);
        if (this.solved.size >= this.cacheSize) {
          this.solved.delete(this.solved.keys().next().value as string);
        }
        this.solved.set(key, report);
      }
      reports.push(report);
    }
    return reports;
  }
}
