/**
 * How spend measures against a budget. The decider, the campaigns read model and the budget
 * guard all ask these questions, so they share one answer.
 */
import type { Money } from '../shared/money';

/** Percentages of the budget at which an alert is raised; at 100 the campaign is paused. */
export const budgetThresholds = [75, 90, 100] as const;
export type BudgetThreshold = (typeof budgetThresholds)[number];

export function isBudgetThreshold(value: unknown): value is BudgetThreshold {
  return (budgetThresholds as readonly unknown[]).includes(value);
}

/**
 * Whether `spent` is at least `threshold` % of `budget`. Amounts in different currencies are
 * never compared (the decider keeps them apart), so that answer is no.
 */
export function hasReachedThreshold(
  spent: Money | null,
  budget: Money | null,
  threshold: BudgetThreshold,
): boolean {
  if (spent === null || budget === null || spent.currency !== budget.currency) return false;
  // BigInt: 100 × a large amount in minor units is beyond a double's exact integers.
  return BigInt(spent.amountMinor) * 100n >= BigInt(budget.amountMinor) * BigInt(threshold);
}

/** The thresholds that `spent` has reached against `budget`, ascending. */
export function thresholdsReachedBy(spent: Money | null, budget: Money | null): BudgetThreshold[] {
  return budgetThresholds.filter((threshold) => hasReachedThreshold(spent, budget, threshold));
}

/**
 * A threshold is reported once per budget: when the budget changes, the thresholds that the
 * spend no longer reaches under the new budget are armed again (so raising the budget of an
 * exhausted campaign lets the guard pause it again at the new 100 %), the others stay reported.
 */
export function thresholdsStillReached(
  reached: readonly BudgetThreshold[],
  spent: Money | null,
  budget: Money | null,
): BudgetThreshold[] {
  return reached.filter((threshold) => hasReachedThreshold(spent, budget, threshold));
}

/** `total` + `delta` − `removed`, in the currency they share; null before any spend. */
export function addSpend(total: Money | null, delta: Money, removed: Money | null = null): Money {
  const base = total?.amountMinor ?? 0;
  return {
    amountMinor: base + delta.amountMinor - (removed?.amountMinor ?? 0),
    currency: delta.currency,
  };
}
