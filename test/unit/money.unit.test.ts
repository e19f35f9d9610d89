import { ValidationError } from '../../src/domain/shared/errors';
import { currencyFractionDigits, formatMoney, parseMoney } from '../../src/domain/shared/money';

function errorOf(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

describe('parseMoney', () => {
  it.each([
    ['1500', 'USD', 150000],
    ['1500.5', 'USD', 150050],
    ['1500.50', 'USD', 150050],
    ['0.01', 'USD', 1],
    ['0', 'USD', 0],
    ['1500', 'JPY', 1500],
    ['12.345', 'BHD', 12345],
    ['12.3', 'BHD', 12300],
  ])('reads %s %s as %i minor units', (amount, currency, amountMinor) => {
    expect(parseMoney(amount, currency, 'budget.amount')).toEqual({ amountMinor, currency });
  });

  it('accepts a lower-case currency and returns the canonical code', () => {
    expect(parseMoney('10', 'eur', 'budget.amount')).toEqual({
      amountMinor: 1000,
      currency: 'EUR',
    });
  });

  it('takes the digits of a currency from ICU', () => {
    expect([
      currencyFractionDigits('USD'),
      currencyFractionDigits('JPY'),
      currencyFractionDigits('BHD'),
    ]).toEqual([2, 0, 3]);
  });

  it('rejects a negative amount on the amount field', () => {
    const error = errorOf(() => parseMoney('-5.00', 'USD', 'budget.amount'));
    expect(error).toMatchObject({
      kind: 'BAD_USER_INPUT',
      reason: 'NEGATIVE_AMOUNT',
      field: 'budget.amount',
    });
  });

  it.each(['', 'abc', '1,500', '1e3', '.5', '5.', '+5', '--5', '1 500', '0x10'])(
    'rejects the malformed amount %p',
    (amount) => {
      const error = errorOf(() => parseMoney(amount, 'USD', 'budget.amount'));
      expect(error).toMatchObject({ reason: 'INVALID_AMOUNT', field: 'budget.amount' });
    },
  );

  it('reports an unknown currency on the sibling currency field', () => {
    const error = errorOf(() => parseMoney('10', 'ZZZ', 'budget.amount'));
    expect(error).toMatchObject({ reason: 'UNKNOWN_CURRENCY', field: 'budget.currency' });
  });

  it('reports an unknown currency of a top-level amount on `currency`', () => {
    expect(errorOf(() => parseMoney('10', 'dollars', 'amount'))).toMatchObject({
      reason: 'UNKNOWN_CURRENCY',
      field: 'currency',
    });
  });

  it.each([
    ['1.001', 'USD'],
    ['1.5', 'JPY'],
    ['1.0001', 'BHD'],
  ])('rejects %s %s: more fraction digits than the currency has', (amount, currency) => {
    const error = errorOf(() => parseMoney(amount, currency, 'goal.target'));
    expect(error).toMatchObject({ reason: 'TOO_MANY_FRACTION_DIGITS', field: 'goal.target' });
  });

  it('rejects an amount beyond the safe integer range instead of rounding it', () => {
    const largestCents = String(Number.MAX_SAFE_INTEGER);
    const largest = `${largestCents.slice(0, -2)}.${largestCents.slice(-2)}`;
    expect(parseMoney(largest, 'USD', 'budget.amount').amountMinor).toBe(Number.MAX_SAFE_INTEGER);
    const oneCentMore = `${largestCents.slice(0, -2)}.${Number(largestCents.slice(-2)) + 1}`;
    expect(errorOf(() => parseMoney(oneCentMore, 'USD', 'budget.amount'))).toMatchObject({
      reason: 'AMOUNT_TOO_LARGE',
    });
  });
});

describe('formatMoney', () => {
  it.each([
    [{ amountMinor: 150050, currency: 'USD' }, '1500.50'],
    [{ amountMinor: 1, currency: 'USD' }, '0.01'],
    [{ amountMinor: 0, currency: 'USD' }, '0.00'],
    [{ amountMinor: 1500, currency: 'JPY' }, '1500'],
    [{ amountMinor: 5, currency: 'BHD' }, '0.005'],
    [{ amountMinor: -250, currency: 'USD' }, '-2.50'],
  ])('writes %o as %s', (money, text) => {
    expect(formatMoney(money)).toBe(text);
  });

  it.each([
    ['1500.5', 'USD'],
    ['7', 'JPY'],
    ['0.125', 'BHD'],
    ['99999.99', 'EUR'],
  ])('round-trips %s %s through minor units', (amount, currency) => {
    const money = parseMoney(amount, currency, 'amount');
    expect(parseMoney(formatMoney(money), currency, 'amount')).toEqual(money);
  });
});
