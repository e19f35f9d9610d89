import { Arg, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import type { ContactDocument } from '../../projections/contacts/contact-profile';
import {
  timelineEntryTypes,
  type ContactTimelineDocument,
} from '../../projections/contacts/contact-timeline';
import {
  contactIdentitiesCollection,
  contactsCollection,
  contactTimelineCollection,
  type ContactIdentityDocument,
} from '../../projections/contacts/contacts.projection';
import type { Filter } from '../../projections/read-store';
import type { TouchlineContext } from '../context';
import { awaitPosition } from '../shared/consistency';
import { badInput } from '../errors';
import { documentKey } from '../loaders';
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
    const { readModels } = context.services;
    const mapped = await readModels
      .collection<ContactIdentityDocument>(contactIdentitiesCollection)
      .findOne({ _id: documentKey(context.workspaceId, id) });
    const document = await readModels
      .collection<ContactDocument>(contactsCollection)
      .findOne({ _id: documentKey(context.workspaceId, mapped?.contactId ?? id) });
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
    description: 'What the contact did, newest first (event time, then log position).',
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
    const matching = timelineFilter(context.workspaceId, contact.identities, types);
    const page: Filter = after ? { $and: [matching, timelineAfter(after)] } : matching;
    const collection =
      context.services.readModels.collection<ContactTimelineDocument>(contactTimelineCollection);
    const [documents, totalCount] = await Promise.all([
      collection.find(page, { sort: { occurredAt: -1, positionKey: -1 }, limit: limit + 1 }),
      collection.count(matching),
    ]);
    const edges = documents.slice(0, limit).map((document) => ({
      cursor: encodeCursor([document.occurredAt, document.positionKey]),
      node: TimelineEntry.from(document),
    }));
    return {
      edges,
      pageInfo: { hasNextPage: documents.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
      totalCount,
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

function timelineFilter(
  workspaceId: string,
  identities: readonly string[],
  types: readonly string[] | null | undefined,
): Filter {
  const filter: Filter = { workspaceId, identity: { $in: identities } };
  if (!types?.length) return filter;
  const known: readonly string[] = timelineEntryTypes;
  const unknown = types.find((type) => !known.includes(type));
  if (unknown !== undefined) {
    throw badInput(
      'types',
      `unknown timeline type "${unknown}"; expected ${known.join(', ')}`,
      'INVALID_TYPE',
    );
  }
  return { ...filter, type: { $in: [...types] } };
}

function contactsAfter(cursor: string): Filter {
  const [lastSeenAt, id] = decodeCursor('after', cursor, 2);
  return {
    $or: [{ lastSeenAt: { $lt: lastSeenAt } }, { lastSeenAt, _id: { $lt: id } }],
  };
}

function timelineAfter(cursor: string): Filter {
  const [occurredAt, key] = decodeCursor('after', cursor, 2);
  return {
    $or: [{ occurredAt: { $lt: occurredAt } }, { occurredAt, positionKey: { $lt: key } }],
  };
}
