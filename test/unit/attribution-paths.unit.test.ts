import {
  collapseRepeats,
  countPaths,
  pathReport,
  type PathJourney,
} from '../../src/projections/attribution/paths';

const HOUR = 60 * 60 * 1000;

function converted(path: string[], hours: number, revenue = 0): PathJourney {
  return { path, firstTouchAt: 0, conversionAt: hours * HOUR, revenue };
}

function notConverted(path: string[]): PathJourney {
  return { path, firstTouchAt: null, conversionAt: null };
}

describe('paths', () => {
  it('collapses consecutive repeats only', () => {
    expect(collapseRepeats(['A', 'A', 'B', 'A', 'A'])).toEqual(['A', 'B', 'A']);
    expect(collapseRepeats([])).toEqual([]);
  });

  it('given journeys, then the top paths, average length and time to conversion', () => {
    const report = pathReport(
      [
        converted(['email', 'email', 'direct'], 10, 30),
        converted(['email', 'direct'], 20, 20),
        converted(['paid_search'], 3, 5),
        converted([], 0, 7),
        notConverted(['display']),
        notConverted(['display', 'display']),
        notConverted(['email']),
      ],
      2,
    );
    expect(report.converting).toEqual([
      { key: 'email > direct', path: ['email', 'direct'], count: 2, revenue: 50 },
      { key: 'paid_search', path: ['paid_search'], count: 1, revenue: 5 },
    ]);
    expect(report.nonConverting).toEqual([
      { key: 'display', path: ['display'], count: 2, revenue: 0 },
      { key: 'email', path: ['email'], count: 1, revenue: 0 },
    ]);
    expect(report.averagePathLength).toBe(2); // (3 + 2 + 1) / 3 touches
    expect(report.averageTimeToConversionMs).toBe(11 * HOUR);
    expect(report.unattributed).toBe(1);
  });

  it('without conversions the averages are null', () => {
    const report = pathReport([notConverted(['email'])]);
    expect(report.averagePathLength).toBeNull();
    expect(report.averageTimeToConversionMs).toBeNull();
  });

  it('counts paths for the data-driven models', () => {
    expect(
      countPaths([
        converted(['A', 'A', 'B'], 1, 10),
        converted(['A', 'B'], 1, 5),
        notConverted(['A', 'B']),
        notConverted(['B']),
      ]),
    ).toEqual([
      { path: ['A', 'B'], conversions: 2, nulls: 1, revenue: 15 },
      { path: ['B'], conversions: 0, nulls: 1, revenue: 0 },
    ]);
  });
});
