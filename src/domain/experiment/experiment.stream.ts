/**
 * The one place an experiment's stream name is built. An experiment's id is its key: the key
 * also seeds the assignment hash, so it is a short slug that never changes.
 */
import { assertValidWorkspaceId } from '../campaign/campaign.stream';
import { ValidationError } from '../shared/errors';

export const experimentStreamPrefix = 'experiment-';

const keyPattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** A slug: 1 to 64 of a-z 0-9 _ -, starting with a letter or digit (experiment keys, variant keys, metric keys). */
export function assertValidKey(key: string, field: string): void {
  if (typeof key !== 'string' || !keyPattern.test(key)) {
    throw new ValidationError(
      field,
      `"${key}" is not a valid key: use 1 to 64 characters of a-z 0-9 _ -, starting with a letter or digit`,
      'INVALID_KEY',
    );
  }
}

export function assertValidExperimentKey(key: string, field = 'experimentId'): void {
  assertValidKey(key, field);
}

export function experimentStreamId(workspaceId: string, key: string): string {
  assertValidWorkspaceId(workspaceId);
  assertValidExperimentKey(key, 'key');
  return `${experimentStreamPrefix}${workspaceId}:${key}`;
}
