import { GraphQLDateTime } from 'graphql-scalars';
import type { BuildSchemaOptions } from 'type-graphql';

/** `Date` fields travel as ISO-8601 `DateTime` strings. */
export const scalarsMap: NonNullable<BuildSchemaOptions['scalarsMap']> = [
  { type: Date, scalar: GraphQLDateTime },
];
