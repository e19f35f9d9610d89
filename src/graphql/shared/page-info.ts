import { Field, Int, ObjectType, type ClassType } from 'type-graphql';

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
