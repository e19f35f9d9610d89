import { emptyTotals, type MetricTotals } from '../../src/projections/campaign-metrics/metrics';
import { deriveRates } from '../../src/projections/campaign-metrics/rates';

const totals = (fields: Partial<MetricTotals>): MetricTotals => ({ ...emptyTotals(), ...fields });

const campaign = totals({
  impressions: 10_000,
  clicks: 250,
  conversions: 10,
  sends: 1_000,
  deliveries: 950,
  bounces: 50,
  uniqueOpens: 380,
  uniqueClicks: 95,
  unsubscribes: 19,
  revenue: { USD: 150_000 },
  spend: { USD: 50_000 },
});

describe('deriveRates', () => {
  it('derives every rate of the ANALYTICS.md table', () => {
    expect(deriveRates(campaign)).toEqual({
      ctr: 0.025, // 250 / 10,000
      cvr: 0.04, // 10 / 250
      cpc: 2, // USD 500.00 / 250
      cpa: 50, // USD 500.00 / 10
      roas: 3, // 1,500 / 500
      roi: 2, // (1,500 − 500) / 500
      openRate: 0.4, // 380 / 950
      clickToOpen: 0.25, // 95 / 380
      bounceRate: 0.05, // 50 / 1,000
      unsubscribeRate: 0.02, // 19 / 950
      costCurrency: 'USD',
    });
  });

  it('is null for every rate whose denominator is 0', () => {
    expect(deriveRates(emptyTotals())).toEqual({
      ctr: null,
      cvr: null,
      cpc: null,
      cpa: null,
      roas: null,
      roi: null,
      openRate: null,
      clickToOpen: null,
      bounceRate: null,
      unsubscribeRate: null,
      costCurrency: null,
    });
  });

  it('gives 0, not null, when only the numerator is 0', () => {
    const rates = deriveRates(
      totals({ impressions: 100, clicks: 4, sends: 10, deliveries: 10, uniqueOpens: 2 }),
    );
    expect(rates).toMatchObject({
      ctr: 0.04,
      cvr: 0,
      // No spend is 0 in every currency: a click that cost nothing.
      cpc: 0,
      cpa: null,
      roas: null,
      roi: null,
      openRate: 0.2,
      clickToOpen: 0,
      bounceRate: 0,
      unsubscribeRate: 0,
      costCurrency: null,
    });
  });

  it('gives ROAS 0 and ROI −1 when there is spend but no revenue', () => {
    const rates = deriveRates(totals({ clicks: 10, spend: { EUR: 1_000 } }));
    expect(rates).toMatchObject({ roas: 0, roi: -1, cpc: 1, costCurrency: 'EUR' });
  });

  it('returns CPC and CPA in major units of the spend currency, whatever its minor digits', () => {
    expect(deriveRates(totals({ clicks: 4, conversions: 2, spend: { JPY: 1_000 } }))).toMatchObject(
      { cpc: 250, cpa: 500, costCurrency: 'JPY' },
    );
    expect(deriveRates(totals({ clicks: 4, spend: { BHD: 1_000 } }))).toMatchObject({
      cpc: 0.25,
      costCurrency: 'BHD',
    });
  });

  it('never mixes currencies: revenue and spend in different currencies give no ROAS or ROI', () => {
    const rates = deriveRates({ ...campaign, revenue: { EUR: 150_000 } });
    expect(rates.roas).toBeNull();
    expect(rates.roi).toBeNull();
    // Cost per click only divides spend, which is in one currency.
    expect(rates).toMatchObject({ cpc: 2, cpa: 50, costCurrency: 'USD' });
  });

  it('gives no money-based rate when the spend is in several currencies', () => {
    const rates = deriveRates({ ...campaign, spend: { USD: 50_000, EUR: 1 } });
    expect(rates).toMatchObject({
      cpc: null,
      cpa: null,
      roas: null,
      roi: null,
      costCurrency: null,
    });
    expect(rates.ctr).toBe(0.025);
  });

  it('gives no ROAS or ROI when the revenue is in several currencies', () => {
    const rates = deriveRates({ ...campaign, revenue: { USD: 150_000, EUR: 10 } });
    expect(rates.roas).toBeNull();
    expect(rates.roi).toBeNull();
  });

  it('reads a currency whose amount is 0 as absent', () => {
    const rates = deriveRates({
      ...campaign,
      revenue: { USD: 150_000, EUR: 0 },
      spend: { USD: 50_000, GBP: 0 },
    });
    expect(rates).toMatchObject({ roas: 3, roi: 2, cpc: 2, costCurrency: 'USD' });
  });
});
