import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { ContactDocument } from '../../projections/contacts/contact-profile';
import {
  newestFirst,
  timelineEntry,
  timelineEntryTypes,
  timelineOf,
  type TimelineEntryType,
  type TimelinePlace,
} from '../../projections/contacts/contact-timeline';
import { contactsCollection } from '../../projections/contacts/contacts.projection';
import type { Filter } from '../../projections/read-store';
import type { TouchlineContext } from '../context';
import { awaitPosition } from '../shared/consistency';
import { badInput } from '../errors';
import { decodeCursor, encodeCursor, pageSize } from '../shared/arguments';
import {
  Contact,
  ContactConnection,
  TimelineConnection,
  TimelineEntry,
  TraitFilterInput,
} from './contact.types';

const PROJECTION = 'contacts';
const TRAIT_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const MAX_TRAIT_NAME_LENGTH = 64;
const MAX_TRAIT_FILTERS = 20;
/** A log position in a timeline cursor, zero-padded to 20 digits. */
const POSITION_KEY = /^[0-9]{20}$/;

@Resolver(() => Contact)
export class ContactResolver {
  @Query(() => Contact, {
    nullable: true,
    description:
      'One contact by its id or any of its userIds / anonymousIds, or null when unknown.',
  })
  async contact(
    @Arg('id', () => ID) id: string,
    @Arg('minPosition', () => String, {
      nullable: true,
      description: 'Wait (bounded) until the read model reflects this log position.',
    })
    minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<Contact | null> {
    await awaitPosition(context, minPosition, [PROJECTION]);
    const document = await context.loaders.contact.load(id);
    return document && Contact.from(document);
  }

  @Query(() => ContactConnection, {
    description: 'Contacts, most recently seen first, filtered by traits, with cursor pagination.',
  })
  async contacts(
    @Arg('traitFilter', () => [TraitFilterInput], { nullable: true })
    traitFilter: TraitFilterInput[] | null | undefined,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ContactConnection> {
    const limit = pageSize(first);
    const matching = contactFilter(context.workspaceId, traitFilter ?? []);
    const page: Filter = after ? { $and: [matching, contactsAfter(after)] } : matching;
    await awaitPosition(context, minPosition, [PROJECTION]);
    const collection = context.services.readModels.collection<ContactDocument>(contactsCollection);
    const [documents, totalCount] = await Promise.all([
      collection.find(page, { sort: { lastSeenAt: -1, _id: -1 }, limit: limit + 1 }),
      collection.count(matching),
    ]);
    const edges = documents.slice(0, limit).map((document) => ({
      cursor: encodeCursor([document.lastSeenAt ?? '', document._id]),
      node: Contact.from(document),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: documents.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
    };
  }

  @FieldResolver(() => TimelineConnection, {
    description:
      'What the contact did, newest first (event time, then log position), read from the log: at most the latest 10,000 calls per identity.',
  })
  async timeline(
    @Root() contact: Contact,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('types', () => [String], {
      nullable: true,
      description: 'Only these calls: page, track, identify, alias (all when omitted or empty).',
    })
    types: string[] | null | undefined,
    @Ctx() context: TouchlineContext,
  ): Promise<TimelineConnection> {
    const limit = pageSize(first);
    const only = timelineTypes(types);
    const cursor = after ? timelineAfter(after) : null;
    const events = await context.services.history.contactEvents(
      context.workspaceId,
      contact.identities,
    );
    const timeline = timelineOf(events, only);
    // The timeline is sorted newest first, so the entries past the cursor are a suffix.
    const start =
      cursor === null ? 0 : lowerBound(timeline, (entry) => newestFirst(entry, cursor) > 0);
    const page = timeline.slice(start, start + limit);
    const edges = page.map((entry) => ({
      cursor: encodeCursor([entry.event.data.occurredAt, positionKey(entry.position)]),
      node: TimelineEntry.from(timelineEntry(entry)),
    }));
    return {
      edges,
      pageInfo: {
        hasNextPage: start + limit < timeline.length,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      totalCount: timeline.length,
    };
  }
}

/** The contacts of the workspace whose traits meet every condition. */
export function contactFilter(
  workspaceId: string,
  conditions: readonly TraitFilterInput[],
): Filter {
  if (conditions.length > MAX_TRAIT_FILTERS) {
    throw badInput('traitFilter', `at most ${MAX_TRAIT_FILTERS} trait conditions`);
  }
  const filters: Filter[] = [
    { workspaceId },
    ...conditions.map((condition, index) => traitCondition(condition, `traitFilter.${index}`)),
  ];
  return filters.length === 1 ? filters[0] : { $and: filters };
}

function traitCondition(condition: TraitFilterInput, field: string): Filter {
  const { name, operator, value } = condition;
  if (name.length > MAX_TRAIT_NAME_LENGTH || !TRAIT_NAME.test(name)) {
    throw badInput(
      `${field}.name`,
      `a trait name is 1 to ${MAX_TRAIT_NAME_LENGTH} characters of letters, digits, _ . - (no empty segment), got "${name}"`,
      'INVALID_TRAIT_NAME',
    );
  }
  const path = `traits.${name}`;
  switch (operator) {
    case 'eq':
      return { [path]: { $eq: scalarValue(value, `${field}.value`) } };
    case 'neq':
      return { [path]: { $ne: scalarValue(value, `${field}.value`) } };
    case 'contains':
      return { [path]: { $regex: escapeRegex(textValue(value, `${field}.value`)) } };
    case 'startsWith':
      return { [path]: { $regex: `^${escapeRegex(textValue(value, `${field}.value`))}` } };
    case 'exists':
      return { [path]: { $exists: true } };
    default: {
      const _exhaustive: never = operator;
      throw badInput(`${field}.operator`, `unknown operator ${String(_exhaustive)}`);
    }
  }
}

function scalarValue(value: unknown, field: string): string | number | boolean | null {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  ) {
    return value;
  }
  if (value === undefined) throw badInput(field, 'this operator needs a value', 'MISSING_VALUE');
  throw badInput(field, 'value must be a string, number, boolean or null', 'INVALID_VALUE');
}

function textValue(value: unknown, field: string): string {
  if (typeof value === 'string' && value !== '') return value;
  throw badInput(field, 'this operator needs a non-empty string value', 'INVALID_VALUE');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The requested call types; empty for all of them. */
function timelineTypes(types: readonly string[] | null | undefined): TimelineEntryType[] {
  const known: readonly string[] = timelineEntryTypes;
  const unknown = types?.find((type) => !known.includes(type));
  if (unknown !== undefined) {
    throw badInput(
      'types',
      `unknown timeline type "${unknown}"; expected ${known.join(', ')}`,
      'INVALID_TYPE',
    );
  }
  return (types ?? []) as TimelineEntryType[];
}

function contactsAfter(cursor: string): Filter {
  const [lastSeenAt, id] = decodeCursor('after', cursor, 2);
  return {
    $or: [{ lastSeenAt: { $lt: lastSeenAt } }, { lastSeenAt, _id: { $lt: id } }],
  };
}

/** A timeline cursor: the event time and the zero-padded log position of the last entry. */
function timelineAfter(cursor: string): TimelinePlace {
  const [occurredAt, key] = decodeCursor('after', cursor, 2);
  const time = typeof occurredAt === 'string' ? Date.parse(occurredAt) : Number.NaN;
  if (Number.isNaN(time) || typeof key !== 'string' || !POSITION_KEY.test(key)) {
    throw badInput('after', 'after is not a cursor returned by this API', 'INVALID_CURSOR');
  }
  return { time, position: BigInt(key) };
}

/** The position zero-padded to 20 digits (the cursor format of the former read model). */
function positionKey(position: bigint): string {
  return position.toString().padStart(20, '0');
}

/** The first index whose item satisfies `after`, for a predicate false then true. */
function lowerBound<T>(items: readonly T[], after: (item: T) => boolean): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (after(items[middle])) high = middle;
    else low = middle + 1;
  }
  return low;
}
