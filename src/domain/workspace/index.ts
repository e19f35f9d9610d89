export * from './workspace.commands';
export * from './workspace.events';
export * from './workspace.decider';
export * from './workspace.stream';
export * from './roles';
