import type { CommandMetadata } from '../shared/events';

export type ConfigureAttribution = {
  readonly type: 'ConfigureAttribution';
  readonly data: { readonly lookbackDays: number; readonly halfLifeDays: number };
  readonly metadata: CommandMetadata;
};

export type AttributionSettingsCommand = ConfigureAttribution;
