/** Parsing of the plain text and choice fields every aggregate's input has. */
import { ValidationError } from './errors';

/** Trimmed, non-empty (REQUIRED), at most `maxLength` characters (TOO_LONG). */
export function requireText(value: unknown, field: string, maxLength: number): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') throw new ValidationError(field, `${field} must not be empty`, 'REQUIRED');
  if (text.length > maxLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${maxLength} characters`,
      'TOO_LONG',
    );
  }
  return text;
}

/** One of `allowed` (refused with `reason`), or `fallback` when absent and one is given. */
export function parseOneOf<T extends string>(
  value: string | null | undefined,
  allowed: readonly T[],
  field: string,
  reason: string,
  fallback?: T,
): T {
  if (value == null && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ValidationError(
      field,
      `${field} must be one of ${allowed.join(', ')}, got ${value == null ? 'none' : `"${value}"`}`,
      reason,
    );
  }
  return value as T;
}
