/**
 * Adjusted p-values for several treatments or metrics, returned in input order, monotone in
 * the sorted p-values and capped at 1.
 * - Holm (family-wise error, the default): with p₍₁₎ ≤ … ≤ p₍ₘ₎,
 *   p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)·p₍ⱼ₎).
 * - Benjamini–Hochberg (false discovery rate):
 *   p̃₍ᵢ₎ = min_{j ≥ i} min(1, m/j·p₍ⱼ₎).
 * These are the definitions of R's p.adjust(method = "holm" | "BH").
 */
import { ValidationError } from '../../shared/errors';

export type Correction = 'holm' | 'benjamini-hochberg';

export const adjustPValues = (
  pValues: readonly number[],
  correction: Correction = 'holm',
): number[] => {
  if (!pValues.every((p) => p >= 0 && p <= 1)) {
    throw new ValidationError('pValues', 'p-values must lie in [0, 1]');
  }
  const m = pValues.length;
  // Stable ascending order of the indices, so ties keep their input order.
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i] - pValues[j] || i - j);
  const adjusted = new Array<number>(m);
  if (correction === 'holm') {
    let runningMax = 0;
    order.forEach((index, rank) => {
      runningMax = Math.max(runningMax, Math.min(1, (m - rank) * pValues[index]));
      adjusted[index] = runningMax;
    });
  } else {
    let runningMin = 1;
    for (let rank = m - 1; rank >= 0; rank--) {
      const index = order[rank];
      runningMin = Math.min(runningMin, (m / (rank + 1)) * pValues[index]);
      adjusted[index] = runningMin;
    }
  }
  return adjusted;
};
