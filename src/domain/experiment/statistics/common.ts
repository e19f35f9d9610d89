/** What the statistics share: the default level, the interval shape and argument checks. */
import { ValidationError } from '../../shared/errors';

/** Two-sided significance level (and 1 − credible mass) unless one is given. */
export const DEFAULT_ALPHA = 0.05;

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

export const requireFinite = (field: string, value: number): number => {
  if (!Number.isFinite(value)) throw new ValidationError(field, `${field} must be finite`);
  return value;
};

/** Open interval (0, 1): significance levels, powers, rates, quantile arguments. */
export const requireProbability = (field: string, value: number): number => {
  if (!(value > 0 && value < 1)) throw new ValidationError(field, `${field} must lie in (0, 1)`);
  return value;
};

export const requirePositiveFinite = (field: string, value: number): number => {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new ValidationError(field, `${field} must be a finite number > 0`);
  }
  return value;
};

export const intervalAround = (centre: number, halfWidth: number): Interval => ({
  lower: centre - halfWidth,
  upper: centre + halfWidth,
});
