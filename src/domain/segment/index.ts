export * from './condition-tree';
export * from './segment.commands';
export * from './segment.events';
export {
  parseSegmentConditions,
  parseSegmentDefinition,
  parseSegmentKind,
  segmentDefinitionLimits,
  type SegmentDefinitionContext,
} from './segment.definition';
export { contactIdLength, segmentDecider, type SegmentState } from './segment.decider';
export * from './segment.stream';
