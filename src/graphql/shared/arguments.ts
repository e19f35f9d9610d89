/**
 * Parsing of the arguments many areas share: log positions and revisions (64-bit numbers
 * as strings), page sizes, cursors and time ranges. Each failure names the argument.
 */
import { badInput } from '../errors';

const INTEGER = /^(0|[1-9][0-9]{0,18})$/;
const MAX_INT64 = 2n ** 63n - 1n;

export function parseInt64(field: string, value: string): bigint {
  if (!INTEGER.test(value) || BigInt(value) > MAX_INT64) {
    throw badInput(field, `${field} must be a non-negative 64-bit integer written as a string`);
  }
  return BigInt(value);
}

export function optionalInt64(field: string, value: string | null | undefined): bigint | undefined {
  return value === undefined || value === null ? undefined : parseInt64(field, value);
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return first;
}

/** Opaque cursors: base64url of a JSON array of the sort keys of the last item. */
export function encodeCursor(keys: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(keys)).toString('base64url');
}

export function decodeCursor(field: string, cursor: string, length: number): (string | number)[] {
  try {
    const keys: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(keys) &&
      keys.length === length &&
      keys.every((key) => typeof key === 'string' || typeof key === 'number')
    ) {
      return keys as (string | number)[];
    }
  } catch {
    // fall through to the error below: the cursor was not one of ours
  }
  throw badInput(field, `${field} is not a cursor returned by this API`, 'INVALID_CURSOR');
}

const COMMAND_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function commandIdOrNew(value: string | null | undefined, newId: () => string): string {
  if (value === undefined || value === null) return newId();
  if (!COMMAND_ID.test(value)) {
    throw badInput(
      'commandId',
      'commandId must be 1 to 128 characters of letters, digits, _ . : -',
    );
  }
  return value;
}

/** A range's `to` may not be before its `from` (INVALID_RANGE on `to`). */
export function assertOrdered(from: Date, to: Date): void {
  if (to.getTime() < from.getTime()) {
    throw badInput('to', 'to must not be before from', 'INVALID_RANGE');
  }
}
