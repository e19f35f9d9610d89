import { Arg, Ctx, Int, Query, Resolver } from 'type-graphql';
import { identitiesOf } from '../../projections/contacts/contact-profile';
import type { Services, TouchlineContext } from '../context';
import { contactsByIdentity } from '../loaders';
import { awaitPosition } from '../shared/consistency';
import {
  decodePositionCursor,
  encodePositionCursor,
  eventsPageSize,
  parseEventFilter,
  streamOfWorkspace,
  withContactStreams,
  type EventFilterFields,
  type EventQuery,
} from './event-query';
import {
  EventConnection,
  EventFilterInput,
  LogEvent,
  LogEventEdge,
  StreamEntry,
} from './history.types';
import { streamSteps } from './stream-states';

@Resolver()
export class HistoryResolver {
  @Query(() => EventConnection, {
    description:
      "The workspace's event log in position order, filtered, with cursor pagination that is stable while events are appended (a cursor is a log position). endCursor is where the next page starts: the last event returned while more match, else the last event read (past events that did not match). A page reads at most 100,000 events of the log: when a rare filter reaches that bound, the page holds what was found, hasNextPage is true and endCursor continues after the last event read.",
  })
  async events(
    @Arg('filter', () => EventFilterInput, { nullable: true })
    filter: EventFilterInput | null,
    @Arg('first', () => Int, {
      nullable: true,
      defaultValue: 50,
      description: '1 to 500.',
    })
    first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, {
      nullable: true,
      description:
        'With a contactId filter: wait (bounded) until the contacts read model, which joins its identities, reflects this log position.',
    })
    minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<EventConnection> {
    const limit = eventsPageSize(first);
    const start = decodePositionCursor(after);
    const fields = filter ?? {};
    const query = parseEventFilter(context.workspaceId, fields);
    if (query.contactId !== undefined) await awaitPosition(context, minPosition, ['contacts']);
    const page = await context.services.log.events(await withIdentities(context.services, query), {
      first: limit,
      ...(start !== undefined && { after: start }),
    });
    const edges = page.events.map((event) => LogEventEdge.from(event));
    return {
      edges,
      nodes: edges.map((edge) => edge.node),
      pageInfo: {
        hasNextPage: page.hasNextPage,
        endCursor: page.endPosition === null ? null : encodePositionCursor(page.endPosition),
      },
    };
  }

  @Query(() => [StreamEntry], {
    description:
      "One stream of the workspace in revision order (its first 10,000 events), with the aggregate's state after each event for campaign, funnel, experiment and segment streams. A stream that does not exist, or belongs to another workspace, is an empty list.",
  })
  async stream(
    @Arg('id', () => String) id: string,
    @Ctx() context: TouchlineContext,
  ): Promise<StreamEntry[]> {
    const { workspaceId } = context;
    if (!streamOfWorkspace(id, workspaceId)) return [];
    const events = await context.services.log.stream(id);
    if (events.some((event) => event.metadata.workspaceId !== workspaceId)) return [];
    return streamSteps(id, events).map(({ event, state }) =>
      Object.assign(new StreamEntry(), { event: LogEvent.from(event), state }),
    );
  }
}

/** The checked filter of one workspace, a contact's identities resolved. */
export async function eventQuery(
  services: Services,
  workspaceId: string,
  fields: EventFilterFields,
): Promise<EventQuery> {
  return withIdentities(services, parseEventFilter(workspaceId, fields));
}

/**
 * A contact's identities as the contacts read model joins them (any identity finds its
 * contact); an id it does not know is taken as one identity.
 */
async function withIdentities(services: Services, query: EventQuery): Promise<EventQuery> {
  const { contactId, workspaceId } = query;
  if (contactId === undefined) return query;
  const [contact] = await contactsByIdentity(services, workspaceId, [contactId]);
  return withContactStreams(query, contact ? identitiesOf(contact) : [contactId]);
}
