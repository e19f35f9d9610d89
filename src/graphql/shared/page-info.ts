import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { encodeCursor } from './arguments';

@ObjectType({ description: 'Relay-style page information.' })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** A page of nodes, with the page's information and the count over all pages. */
export interface NodesPage<T> {
  nodes: T[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** The GraphQL type of a page of `node`s (`nodes`, `pageInfo`, `totalCount`), named `name`. */
export function nodesConnection<T extends object>(
  node: ClassType<T>,
  name: string,
): ClassType<NodesPage<T>> {
  @ObjectType(name)
  class NodesConnection implements NodesPage<T> {
    @Field(() => [node])
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return NodesConnection;
}

/**
 * A page of read-model items as a connection: each item becomes a node, and the page's
 * cursor is the last item's sort keys (as `encodeCursor` writes them).
 */
export function nodesPage<T, N>(
  page: {
    readonly items: readonly T[];
    readonly hasNextPage: boolean;
    readonly totalCount: number;
  },
  node: (item: T) => N,
  cursorKeys: (item: T) => readonly (string | number)[],
): NodesPage<N> {
  const last = page.items.at(-1);
  return {
    nodes: page.items.map(node),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      endCursor: last === undefined ? null : encodeCursor(cursorKeys(last)),
    },
    totalCount: page.totalCount,
  };
}
