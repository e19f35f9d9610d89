/**
 * A workspace's attribution settings: configured as a whole, recorded only when they change.
 * A workspace that never configured them has the defaults (ANALYTICS.md: a 30-day lookback,
 * a 7-day half-life). Pure: time comes from `metadata.now`.
 */
import { ValidationError } from '../shared/errors';
import type { Decider } from '../shared/events';
import type { AttributionSettingsCommand } from './attribution.commands';
import type { AttributionSettingsEvent } from './attribution.events';

export const defaultLookbackDays = 30;
export const defaultHalfLifeDays = 7;

export const attributionLimits = {
  /** Lookback windows are whole days, from one day to a year. */
  maxLookbackDays: 365,
  maxHalfLifeDays: 365,
} as const;

export type AttributionSettingsState =
  | {
      readonly status: 'Default';
      readonly lookbackDays: typeof defaultLookbackDays;
      readonly halfLifeDays: typeof defaultHalfLifeDays;
    }
  | {
      readonly status: 'Configured';
      readonly lookbackDays: number;
      readonly halfLifeDays: number;
    };

export function initialState(): AttributionSettingsState {
  return {
    status: 'Default',
    lookbackDays: defaultLookbackDays,
    halfLifeDays: defaultHalfLifeDays,
  };
}

export function evolve(
  _state: AttributionSettingsState,
  event: AttributionSettingsEvent,
): AttributionSettingsState {
  switch (event.type) {
    case 'AttributionConfigured': {
      const { lookbackDays, halfLifeDays } = event.data;
      return { status: 'Configured', lookbackDays, halfLifeDays };
    }
    default: {
      const _exhaustive: never = event.type;
      return _exhaustive;
    }
  }
}

export function decide(
  command: AttributionSettingsCommand,
  state: AttributionSettingsState,
): AttributionSettingsEvent[] {
  switch (command.type) {
    case 'ConfigureAttribution': {
      const lookbackDays = parseLookbackDays(command.data.lookbackDays);
      const halfLifeDays = parseHalfLifeDays(command.data.halfLifeDays);
      if (lookbackDays === state.lookbackDays && halfLifeDays === state.halfLifeDays) return [];
      return [
        {
          type: 'AttributionConfigured',
          data: { lookbackDays, halfLifeDays, configuredAt: command.metadata.now.toISOString() },
        },
      ];
    }
    default: {
      const _exhaustive: never = command.type;
      return _exhaustive;
    }
  }
}

export const attributionSettingsDecider: Decider<
  AttributionSettingsCommand,
  AttributionSettingsEvent,
  AttributionSettingsState
> = { initialState, evolve, decide };

function parseLookbackDays(lookbackDays: number): number {
  const max = attributionLimits.maxLookbackDays;
  if (!Number.isInteger(lookbackDays) || lookbackDays < 1 || lookbackDays > max) {
    throw new ValidationError(
      'lookbackDays',
      `lookbackDays must be a whole number of days from 1 to ${max}, got ${lookbackDays}`,
      'INVALID_LOOKBACK',
    );
  }
  return lookbackDays;
}

function parseHalfLifeDays(halfLifeDays: number): number {
  const max = attributionLimits.maxHalfLifeDays;
  if (
    typeof halfLifeDays !== 'number' ||
    !Number.isFinite(halfLifeDays) ||
    halfLifeDays <= 0 ||
    halfLifeDays > max
  ) {
    throw new ValidationError(
      'halfLifeDays',
      `halfLifeDays must be a number of days above 0 and at most ${max}, got ${halfLifeDays}`,
      'INVALID_HALF_LIFE',
    );
  }
  return halfLifeDays;
}
