import {
  attributionSettingsDecider,
  attributionSettingsStreamId,
  defaultHalfLifeDays,
  defaultLookbackDays,
  type AttributionConfigured,
  type AttributionSettingsEvent,
  type ConfigureAttribution,
} from '../../src/domain/attribution';
import { DomainError } from '../../src/domain/shared/errors';
import type { CommandMetadata } from '../../src/domain/shared/events';
import { defaultAttributionSettings } from '../../src/projections/attribution/journeys';
import { DAY_MS } from '../../src/projections/attribution/models';

const now = new Date('2026-03-01T12:00:00.000Z');
const metadata: CommandMetadata = { workspaceId: 'acme', commandId: 'command-1', now };

function configure(lookbackDays: number, halfLifeDays: number): ConfigureAttribution {
  return { type: 'ConfigureAttribution', data: { lookbackDays, halfLifeDays }, metadata };
}

function configured(lookbackDays: number, halfLifeDays: number): AttributionConfigured {
  return {
    type: 'AttributionConfigured',
    data: { lookbackDays, halfLifeDays, configuredAt: '2026-02-01T09:00:00.000Z' },
  };
}

/** Given these events, when this command: the events it decides. */
function given(...events: AttributionSettingsEvent[]) {
  const { initialState, evolve, decide } = attributionSettingsDecider;
  const state = events.reduce(evolve, initialState());
  return { when: (command: ConfigureAttribution) => decide(command, state) };
}

function refusal(decide: () => unknown): { field?: string; reason: string } {
  try {
    decide();
  } catch (error) {
    if (error instanceof DomainError) return { field: error.field, reason: error.reason };
    throw error;
  }
  throw new Error('expected the command to be refused');
}

describe('attribution settings', () => {
  it('names one stream per workspace', () => {
    expect(attributionSettingsStreamId('acme')).toBe('attribution-settings-acme');
    expect(() => attributionSettingsStreamId('a:b')).toThrow(DomainError);
  });

  it('starts from the projections’ defaults (30-day lookback, 7-day half-life)', () => {
    expect(defaultLookbackDays * DAY_MS).toBe(defaultAttributionSettings.lookbackMs);
    expect(defaultHalfLifeDays * DAY_MS).toBe(defaultAttributionSettings.halfLifeMs);
  });

  it('records new settings, with the time from the metadata', () => {
    expect(given().when(configure(7, 2.5))).toEqual([
      {
        type: 'AttributionConfigured',
        data: { lookbackDays: 7, halfLifeDays: 2.5, configuredAt: now.toISOString() },
      },
    ]);
  });

  it('records a change of either setting', () => {
    expect(given(configured(7, 2)).when(configure(14, 2))).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ lookbackDays: 14 }) }),
    ]);
    expect(given(configured(7, 2)).when(configure(7, 3))).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ halfLifeDays: 3 }) }),
    ]);
  });

  it('records nothing when the settings do not change', () => {
    expect(given(configured(7, 2)).when(configure(7, 2))).toEqual([]);
    expect(given().when(configure(30, 7))).toEqual([]);
    expect(given(configured(7, 2), configured(30, 7)).when(configure(30, 7))).toEqual([]);
  });

  it.each([0, -3, 366, 7.5, Number.NaN])('refuses a lookback of %p days', (lookbackDays) => {
    expect(refusal(() => given().when(configure(lookbackDays, 7)))).toEqual({
      field: 'lookbackDays',
      reason: 'INVALID_LOOKBACK',
    });
  });

  it.each([0, -1, 365.5, Number.POSITIVE_INFINITY, Number.NaN])(
    'refuses a half-life of %p days',
    (halfLifeDays) => {
      expect(refusal(() => given().when(configure(30, halfLifeDays)))).toEqual({
        field: 'halfLifeDays',
        reason: 'INVALID_HALF_LIFE',
      });
    },
  );

  it('accepts the bounds: 1 and 365 days of lookback, up to 365 days of half-life', () => {
    expect(given().when(configure(1, 0.01))).toHaveLength(1);
    expect(given().when(configure(365, 365))).toHaveLength(1);
  });
});
