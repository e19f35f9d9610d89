import { pathsReport, type PathTotals } from '../../src/projections/attribution/attribution-query';
import { collapseRepeats } from '../../src/projections/attribution/paths';

const HOUR = 60 * 60 * 1000;

function path(
  steps: string[],
  counts: Partial<Omit<PathTotals, 'path' | 'revenue'>> & { revenue?: number },
): PathTotals {
  const { revenue, ...rest } = counts;
  return {
    path: steps,
    conversions: 0,
    nulls: 0,
    touches: 0,
    timeToConversionMs: 0,
    ...rest,
    revenue: revenue === undefined ? {} : { USD: revenue },
  };
}

const none = { conversions: 0, revenue: {} };

describe('paths', () => {
  it('collapses consecutive repeats only', () => {
    expect(collapseRepeats(['A', 'A', 'B', 'A', 'A'])).toEqual(['A', 'B', 'A']);
    expect(collapseRepeats([])).toEqual([]);
  });

  it('given path counts, then the top paths, average length and time to conversion', () => {
    // email > email > direct (10 h, $30) and email > direct (20 h, $20) share a collapsed
    // path; paid_search (3 h, $5); display twice and email once without converting.
    const report = pathsReport(
      [
        path(['email', 'direct'], {
          conversions: 2,
          revenue: 50,
          touches: 5,
          timeToConversionMs: 30 * HOUR,
        }),
        path(['paid_search'], {
          conversions: 1,
          revenue: 5,
          touches: 1,
          timeToConversionMs: 3 * HOUR,
        }),
        path(['display'], { nulls: 2 }),
        path(['email'], { nulls: 1 }),
      ],
      { conversions: 1, revenue: { USD: 7 } },
      2,
    );
    expect(report.converting).toEqual([
      { key: 'email > direct', path: ['email', 'direct'], count: 2, revenue: { USD: 50 } },
      { key: 'paid_search', path: ['paid_search'], count: 1, revenue: { USD: 5 } },
    ]);
    expect(report.nonConverting).toEqual([
      { key: 'display', path: ['display'], count: 2, revenue: {} },
      { key: 'email', path: ['email'], count: 1, revenue: {} },
    ]);
    expect(report.averagePathLength).toBe(2); // (3 + 2 + 1) / 3 touches
    expect(report.averageTimeToConversionMs).toBe(11 * HOUR);
    expect(report.unattributed).toEqual({ conversions: 1, revenue: { USD: 7 } });
  });

  it('without conversions the averages are null', () => {
    const report = pathsReport([path(['email'], { nulls: 1 })], none, 10);
    expect(report.averagePathLength).toBeNull();
    expect(report.averageTimeToConversionMs).toBeNull();
  });
});
