export * from './experiment.commands';
export * from './experiment.events';
export {
  experimentDefaults,
  experimentLimits,
  parseExperimentDefinition,
  parseWeights,
} from './experiment.definition';
export * from './experiment.state';
export { decide, experimentDecider } from './experiment.decider';
export * from './experiment.stream';
export { assignmentHash, assignVariant } from './assignment';
