/**
 * Which variant a contact sees: a deterministic hash of (experiment key, contact id), so the
 * same person always gets the same variant, on every server and after every restart, with
 * nothing stored. It is GrowthBook's hash version 2, so assignments agree with its SDKs:
 *
 *   fnv32a(s)              = FNV-1a 32-bit over the UTF-16 code units of s (`charCodeAt`, as
 *                            GrowthBook's JavaScript SDK does): h = 0x811c9dc5; for each unit
 *                            c: h = (h XOR c) × 0x01000193 mod 2³²
 *   bucket(key, contactId) = fnv32a(String(fnv32a(key + contactId))) mod 10000   (0 … 9999)
 *   assignmentHash         = bucket / 10000                                       in [0, 1)
 *
 * Hashing the decimal string of the first hash again is what makes v2 unbiased: the first
 * hash of similar ids (`user-1`, `user-2`) differs mostly in its last bits. The key seeds the
 * hash, so two experiments split the same contacts independently of each other.
 */
import { ValidationError } from '../shared/errors';

const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;
/** Looked up once: a global lookup per character is slow inside vm sandboxes (jest's). */
const { imul } = Math;
/** Buckets per unit interval: hundredths of a percent, the precision of a weight. */
const buckets = 10000;

/** A number in [0, 1): fnv32a(String(fnv32a(experimentKey + contactId))) % 10000 / 10000. */
export function assignmentHash(experimentKey: string, contactId: string): number {
  return assignmentBucket(experimentKey, contactId) / buckets;
}

/**
 * The variant index for these weights (percent, summing to 100, at most 2 decimals): the
 * first variant whose cumulative share exceeds the hash (GrowthBook's bucket ranges with full
 * coverage). Compared in whole hundredths of a percent against the bucket, so a weight of
 * 33.33 is exactly 3333 buckets and no float rounding moves a contact.
 */
export function assignVariant(
  experimentKey: string,
  contactId: string,
  weights: readonly number[],
): number {
  const shares = weights.map((weight) => Math.round(weight * 100));
  const total = shares.reduce((sum, share) => sum + share, 0);
  if (shares.length === 0 || shares.some((share) => !(share > 0)) || total !== buckets) {
    throw new ValidationError(
      'weights',
      `weights must be percentages > 0 summing to 100, got [${weights.join(', ')}]`,
      'WEIGHTS_NOT_100',
    );
  }
  const bucket = assignmentBucket(experimentKey, contactId);
  let cumulative = 0;
  for (const [index, share] of shares.entries()) {
    cumulative += share;
    if (bucket < cumulative) return index;
  }
  return shares.length - 1; // unreachable: the last cumulative share is 10000 > bucket
}

function assignmentBucket(experimentKey: string, contactId: string): number {
  return fnv32a(String(fnv32a(experimentKey + contactId))) % buckets;
}

/** FNV-1a, 32 bits, over UTF-16 code units; `imul` keeps the product exact mod 2³². */
function fnv32a(text: string): number {
  let hash = fnvOffsetBasis;
  for (let index = 0; index < text.length; index += 1) {
    hash = imul(hash ^ text.charCodeAt(index), fnvPrime);
  }
  return hash >>> 0;
}
