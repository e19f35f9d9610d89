export * from './funnel.commands';
export * from './funnel.events';
export { defaultWindowSeconds, funnelLimits, parseFunnelDefinition } from './funnel.definition';
export { funnelDecider, type FunnelState } from './funnel.decider';
export * from './funnel.stream';
