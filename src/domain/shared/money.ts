/**
 * Money as an integer number of minor units (cents, fils, yen) plus an ISO-4217 currency.
 * Integers keep sums exact; the decimal string is only the wire form. The currency list and
 * each currency's number of digits come from the runtime's ICU data, not a table of our own.
 */
import { ValidationError } from './errors';

export interface Money {
  /** Amount in the currency's minor unit, e.g. 150050 for USD 1500.50. */
  readonly amountMinor: number;
  /** ISO-4217 code, upper case. */
  readonly currency: string;
}

const supportedCurrencies: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** A plain decimal: digits, optionally a point and more digits. No sign, exponent or grouping. */
const decimalPattern = /^(\d+)(?:\.(\d+))?$/;

export function isSupportedCurrency(currency: string): boolean {
  return supportedCurrencies.has(currency);
}

/** Building an Intl.NumberFormat is costly and the answer never changes: one lookup per code. */
const fractionDigitsByCurrency = new Map<string, number>();

/** How many digits the currency's minor unit has: 2 for USD, 0 for JPY, 3 for BHD. */
export function currencyFractionDigits(currency: string): number {
  let digits = fractionDigitsByCurrency.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits as number;
    // Only known codes are kept, so arbitrary input cannot grow the cache.
    if (isSupportedCurrency(currency)) fractionDigitsByCurrency.set(currency, digits);
  }
  return digits;
}

/**
 * Parses a decimal amount such as "1500", "1500.5" or "1500.50".
 * `field` is the path of the amount input (e.g. `budget.amount`); a bad currency is reported
 * on its sibling `currency` path (e.g. `budget.currency`), so the client can point at it.
 */
export function parseMoney(amount: string, currency: string, field: string): Money {
  const currencyCode = parseCurrency(currency, siblingPath(field, 'currency'));
  const text = amount.trim();
  if (text.startsWith('-') && decimalPattern.test(text.slice(1))) {
    throw new ValidationError(
      field,
      `amount must not be negative, got "${amount}"`,
      'NEGATIVE_AMOUNT',
    );
  }
  const match = decimalPattern.exec(text);
  if (match === null) {
    throw new ValidationError(
      field,
      `amount must be a decimal number such as "1500.50", got "${amount}"`,
      'INVALID_AMOUNT',
    );
  }
  const [, whole, fraction = ''] = match;
  const digits = currencyFractionDigits(currencyCode);
  if (fraction.length > digits) {
    throw new ValidationError(
      field,
      `${currencyCode} amounts have at most ${digits} fraction digits, got "${amount}"`,
      'TOO_MANY_FRACTION_DIGITS',
    );
  }
  // BigInt first: a huge input must be rejected, not silently rounded by a double.
  const minorUnits = BigInt(whole + fraction.padEnd(digits, '0'));
  if (minorUnits > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ValidationError(field, `amount "${amount}" is too large`, 'AMOUNT_TOO_LARGE');
  }
  return { amountMinor: Number(minorUnits), currency: currencyCode };
}

/** The decimal string of an amount with exactly the currency's digits: "1500.50", "1500". */
export function formatMoney(money: Money): string {
  const digits = currencyFractionDigits(money.currency);
  const sign = money.amountMinor < 0 ? '-' : '';
  const minorText = String(Math.abs(money.amountMinor)).padStart(digits + 1, '0');
  if (digits === 0) return sign + minorText;
  const wholeLength = minorText.length - digits;
  return `${sign}${minorText.slice(0, wholeLength)}.${minorText.slice(wholeLength)}`;
}

/** Accepts a code in any letter case and returns its canonical upper-case form. */
function parseCurrency(currency: string, field: string): string {
  const code = currency.trim().toUpperCase();
  if (!isSupportedCurrency(code)) {
    throw new ValidationError(field, `unknown currency "${currency}"`, 'UNKNOWN_CURRENCY');
  }
  return code;
}

/** `budget.amount` → `budget.currency`; a top-level `amount` → `currency`. */
function siblingPath(path: string, sibling: string): string {
  const lastDot = path.lastIndexOf('.');
  return lastDot === -1 ? sibling : `${path.slice(0, lastDot + 1)}${sibling}`;
}
