/**
 * A workspace's attribution settings and the events of their life: the lookback window of
 * a conversion's journey and time decay's half-life, both in days.
 */
import type { DomainEvent } from '../shared/events';

export type AttributionConfigured = DomainEvent<
  'AttributionConfigured',
  {
    readonly lookbackDays: number;
    readonly halfLifeDays: number;
    readonly configuredAt: string;
  }
>;

export type AttributionSettingsEvent = AttributionConfigured;

export const attributionSettingsEventTypes = [
  'AttributionConfigured',
] as const satisfies readonly AttributionSettingsEvent['type'][];
