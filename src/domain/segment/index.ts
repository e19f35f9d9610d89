export * from './condition-tree';
