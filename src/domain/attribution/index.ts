export * from './attribution.commands';
export * from './attribution.events';
export {
  attributionLimits,
  attributionSettingsDecider,
  defaultHalfLifeDays,
  defaultLookbackDays,
  type AttributionSettingsState,
} from './attribution.decider';
export * from './attribution.stream';
