/**
 * What a campaign shows on its surfaces (an email, a landing page, a call to action): free
 * JSON the campaign's owner or an experiment's winning variant provides. Experiments check
 * their variants' content with the same rules, so a winner can always be applied.
 */
import { ValidationError } from '../shared/errors';
import type { JsonObject } from '../tracking/tracking.events';

export const campaignContentLimits = {
  /** Bytes of the content as UTF-8 JSON. */
  contentBytes: 16 * 1024,
  surfaceLength: 200,
  sourceIdLength: 100,
} as const;

/**
 * A JSON object of at most 16 KiB (as UTF-8 JSON), returned as a plain deep copy so that the
 * event holds exactly what the log will hold. Properties set to `undefined` are dropped, as
 * JSON drops them; anything JSON cannot carry faithfully (NaN, a Date, a function) is refused.
 */
export function parseContent(value: unknown, field = 'content'): JsonObject {
  if (!isPlainObject(value)) {
    throw new ValidationError(field, `${field} must be a JSON object`, 'INVALID_CONTENT');
  }
  assertJson(value, field);
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > campaignContentLimits.contentBytes) {
    throw new ValidationError(
      field,
      `${field} must be at most ${campaignContentLimits.contentBytes} bytes as JSON, got ${bytes}`,
      'TOO_LARGE',
    );
  }
  return JSON.parse(json) as JsonObject;
}

/** The name of a surface, e.g. `CAMPAIGN` or `EMAIL:welcome-email`; kept as typed, trimmed. */
export function parseContentSurface(surface: string, field = 'surface'): string {
  const text = typeof surface === 'string' ? surface.trim() : '';
  if (text.length === 0) throw new ValidationError(field, `${field} must not be empty`, 'REQUIRED');
  if (text.length > campaignContentLimits.surfaceLength) {
    throw new ValidationError(
      field,
      `${field} must be at most ${campaignContentLimits.surfaceLength} characters`,
      'TOO_LONG',
    );
  }
  return text;
}

/** Walks the value once; `path` names the offending field, e.g. `content.blocks.2.title`. */
function assertJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw new ValidationError(path, `${path} must be a finite number`, 'INVALID_CONTENT');
  }
  if (Array.isArray(value)) {
    value.forEach((item: unknown, index) => assertJson(item, `${path}.${index}`));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) assertJson(item, `${path}.${key}`);
    }
    return;
  }
  throw new ValidationError(path, `${path} is not a JSON value`, 'INVALID_CONTENT');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
