import { performance } from 'node:perf_hooks';
import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import {
  contactIdLength,
  parseSegmentConditions,
  readsOf,
  segmentLimits,
  segmentMembersPerCommand,
  type KnownSegments,
  type SegmentCommand,
} from '../../domain/segment';
import type { DocumentChange } from '../../projections/projection';
import {
  mayBeChangeOf,
  segmentCatalogCollection,
  segmentChangesCollection,
  type SegmentCatalogDocument,
  type SegmentChangeDocument,
  type SegmentEntry,
} from '../../projections/segments/segment-documents';
import { previewSegment } from '../../projections/segments/segment-preview';
import {
  canonicalContactId,
  canonicalContactIds,
  changesPage,
  chunks,
  contactsByEmail,
  contactSegments,
  countMembersAmong,
  dayCount,
  existingContacts,
  findSegment,
  maxSizeHistoryDays,
  membersPage,
  membershipAt,
  membershipNow,
  readCatalog,
  segmentPerformance,
  segmentsPage,
  sizeHistory,
  type SegmentCollection,
} from '../../projections/segments/segment-query';
import { Contact } from '../contact/contact.types';
import type { TouchlineContext } from '../context';
import { badInput, userError } from '../errors';
import { assertOrdered, commandIdOrNew, decodeCursor, pageSize } from '../shared/arguments';
import { nodesPage } from '../shared/page-info';
import { runCommand } from '../shared/commands';
import { asOfDescription, readingContext } from '../shared/consistency';
import { closingWith } from '../shared/live';
import {
  ContactSegment,
  CreateSegmentInput,
  definitionInput,
  Segment,
  SegmentChange,
  SegmentChangeArgs,
  SegmentChangeConnection,
  SegmentCommandResult,
  SegmentConnection,
  SegmentImportResult,
  SegmentImportUnmatched,
  SegmentInput,
  SegmentMember,
  SegmentMemberConnection,
  SegmentMembership,
  SegmentPerformance,
  SegmentPreview,
  SegmentSizeChange,
  SegmentSizePoint,
} from './segment.types';

const PROJECTION = 'segments';
const PROJECTIONS = [PROJECTION];
const HOUR_MS = 60 * 60 * 1000;
const MAX_SAMPLE_SIZE = 100;
const MAX_PERFORMANCE_SEGMENTS = 20;
const MAX_IMPORT_BYTES = 5 * 1024 * 1024;
const MAX_IMPORT_ROWS = 100_000;
/** First-column values of a header row, lower-cased. */
const IMPORT_HEADERS = new Set(['id', 'email', 'contactid', 'contact_id', 'userid', 'user_id']);

@Resolver()
export class SegmentResolver {
  @Query(() => Segment, {
    nullable: true,
    description: 'One segment, or null when it does not exist.',
  })
  async segment(
    @Arg('id', () => ID) id: string,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<Segment | null> {
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const entry = findSegment(await catalog(reading), id);
    return entry && Segment.from(entry);
  }

  @Query(() => SegmentConnection, { description: 'Segments, oldest first (creation, then id).' })
  async segments(
    @Arg('includeArchived', () => Boolean, { defaultValue: false }) includeArchived: boolean,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentConnection> {
    const limit = pageSize(first);
    const cursor = after ? textKeys('after', after) : null;
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const page = segmentsPage(await catalog(reading), {
      includeArchived,
      limit,
      after: cursor && { createdAt: cursor[0], segmentId: cursor[1] },
    });
    return nodesPage(
      page,
      (entry) => Segment.from(entry),
      (entry) => [entry.createdAt, entry.segmentId],
    );
  }

  @Query(() => SegmentMemberConnection, {
    description: "A segment's current members, the latest to enter first (then by contact id).",
  })
  async segmentMembers(
    @Arg('segmentId', () => ID) segmentId: string,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentMemberConnection> {
    const limit = pageSize(first);
    const cursor = after ? textKeys('after', after) : null;
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    await requireSegment(reading, segmentId);
    const page = await membersPage(collection(reading), context.workspaceId, segmentId, {
      limit,
      after: cursor && { enteredAt: cursor[0], contactId: cursor[1] },
    });
    return nodesPage(
      page,
      (member) =>
        Object.assign(new SegmentMember(), {
          contactId: member.contactId,
          enteredAt: new Date(member.enteredAt),
        }),
      (member) => [member.enteredAt, member.contactId],
    );
  }

  @Query(() => SegmentMembership, {
    description:
      "A contact's standing in a segment: now, or with `at` as it was then (from the recorded entries and exits).",
  })
  async segmentMembership(
    @Arg('segmentId', () => ID) segmentId: string,
    @Arg('contactId', () => ID, {
      description: 'The contact id or any of its userIds / anonymousIds.',
    })
    contactId: string,
    @Arg('at', () => Date, { nullable: true }) at: Date | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentMembership> {
    assertContactId(contactId, 'contactId');
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    await requireSegment(reading, segmentId);
    const read = collection(reading);
    const { workspaceId } = context;
    const canonical = await canonicalContactId(read, workspaceId, contactId);
    const standing =
      at == null
        ? await membershipNow(read, workspaceId, segmentId, canonical)
        : await membershipAt(read, workspaceId, segmentId, canonical, at);
    return SegmentMembership.of(segmentId, canonical, standing);
  }

  @Query(() => [ContactSegment], {
    description: 'The active segments a contact is a member of now, oldest segment first.',
  })
  async contactSegments(
    @Arg('contactId', () => ID, {
      description: 'The contact id or any of its userIds / anonymousIds.',
    })
    contactId: string,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<ContactSegment[]> {
    assertContactId(contactId, 'contactId');
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const read = collection(reading);
    const { workspaceId } = context;
    const canonical = await canonicalContactId(read, workspaceId, contactId);
    const found = await contactSegments(read, await catalog(reading), workspaceId, canonical);
    return found.map(({ segment, enteredAt }) =>
      Object.assign(new ContactSegment(), {
        segment: Segment.from(segment),
        enteredAt: new Date(enteredAt),
      }),
    );
  }

  @Query(() => [SegmentSizePoint], {
    description: `A segment's size per UTC day from the day of \`from\` to that of \`to\` (at most ${maxSizeHistoryDays} days): the size after each day's last change, carried across days without changes; 0 before the segment existed.`,
  })
  async segmentSizeHistory(
    @Arg('segmentId', () => ID) segmentId: string,
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentSizePoint[]> {
    assertOrdered(from, to);
    if (dayCount(from, to) > maxSizeHistoryDays) {
      throw badInput(
        'to',
        `a size history covers at most ${maxSizeHistoryDays} days; narrow the range`,
        'INVALID_RANGE',
      );
    }
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const segment = await requireSegment(reading, segmentId);
    const points = await sizeHistory(collection(reading), context.workspaceId, segment, from, to);
    return points.map((point) => SegmentSizePoint.from(point));
  }

  @Query(() => SegmentChangeConnection, {
    description:
      "A segment's entries and exits, newest first; optionally one contact's (any of its identities) and a range of times (both ends included).",
  })
  async segmentChanges(
    @Arg('segmentId', () => ID) segmentId: string,
    @Arg('contactId', () => ID, { nullable: true }) contactId: string | null,
    @Arg('from', () => Date, { nullable: true }) from: Date | null,
    @Arg('to', () => Date, { nullable: true }) to: Date | null,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentChangeConnection> {
    const limit = pageSize(first);
    const cursor = after ? textKeys('after', after) : null;
    if (contactId != null) assertContactId(contactId, 'contactId');
    if (from != null && to != null) assertOrdered(from, to);
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    await requireSegment(reading, segmentId);
    const read = collection(reading);
    const { workspaceId } = context;
    const page = await changesPage(
      read,
      workspaceId,
      segmentId,
      {
        contactId:
          contactId == null ? null : await canonicalContactId(read, workspaceId, contactId),
        from: from ?? null,
        to: to ?? null,
      },
      { limit, after: cursor && { at: cursor[0], id: cursor[1] } },
    );
    return nodesPage(
      page,
      (document) => SegmentChange.from(document),
      (document) => [document.at, document._id],
    );
  }

  @Query(() => SegmentPreview, {
    description:
      "What a condition tree (as createSegment takes it) would select now, evaluated on every contact of the workspace without saving anything; `memberOf` reads the other segments' current members.",
  })
  async previewSegment(
    @Arg('conditions', () => GraphQLJSON) conditions: unknown,
    @Arg('sampleSize', () => Int, {
      defaultValue: 20,
      description: `How many matching contact ids to return, 1 to ${MAX_SAMPLE_SIZE}.`,
    })
    sampleSize: number,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentPreview> {
    if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE_SIZE) {
      throw badInput(
        'sampleSize',
        `sampleSize must be from 1 to ${MAX_SAMPLE_SIZE}`,
        'INVALID_LIMIT',
      );
    }
    const known = activeSegments(await catalog(context), null);
    // Validated as createSegment validates it: fields named under `conditions`.
    const tree = parseSegmentConditions(conditions, known);
    const started = performance.now();
    const preview = await previewSegment(
      collection(context),
      context.workspaceId,
      tree,
      context.services.clock().getTime(),
      { sampleSize, pause: () => new Promise((resolve) => setImmediate(resolve)) },
    );
    return Object.assign(new SegmentPreview(), {
      ...preview,
      tookMs: Math.round((performance.now() - started) * 10) / 10,
    });
  }

  @Query(() => [SegmentPerformance], {
    description: `How the current members of 1 to ${MAX_PERFORMANCE_SEGMENTS} segments did in [from, to] (event time, a range of at least one hour): conversions, revenue per member and events per member per day; see the fields for the definitions.`,
  })
  async segmentPerformance(
    @Arg('segmentIds', () => [ID]) segmentIds: string[],
    @Arg('from', () => Date) from: Date,
    @Arg('to', () => Date) to: Date,
    @Arg('minPosition', () => String, { nullable: true }) minPosition: string | null,
    @Arg('asOf', () => Date, { nullable: true, description: asOfDescription })
    asOf: Date | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentPerformance[]> {
    const ids = [...new Set(segmentIds)];
    if (ids.length < 1 || ids.length > MAX_PERFORMANCE_SEGMENTS) {
      throw badInput(
        'segmentIds',
        `give 1 to ${MAX_PERFORMANCE_SEGMENTS} segments`,
        'INVALID_LIMIT',
      );
    }
    assertOrdered(from, to);
    if (to.getTime() - from.getTime() < HOUR_MS) {
      throw badInput('to', 'the range must span at least one hour', 'INVALID_RANGE');
    }
    const reading = await readingContext(context, { minPosition, asOf }, PROJECTIONS);
    const current = await catalog(reading);
    ids.forEach((id) => {
      if (findSegment(current, id) === null) {
        throw notFound(id, `segmentIds.${segmentIds.indexOf(id)}`);
      }
    });
    const results: SegmentPerformance[] = [];
    for (const id of ids) {
      const performanceOf = await segmentPerformance(collection(reading), context.workspaceId, id, {
        from,
        to,
      });
      results.push(SegmentPerformance.from(performanceOf));
    }
    return results;
  }

  @Mutation(() => SegmentCommandResult, {
    description:
      'Creates a segment (version 1). A dynamic segment is then evaluated for every known contact (see Segment.backfill).',
  })
  async createSegment(
    @Arg('input', () => CreateSegmentInput) input: CreateSegmentInput,
    @Arg('commandId', () => String, { nullable: true }) commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentCommandResult> {
    const segmentId = input.id ?? context.services.newId();
    const knownSegments = await knownSegmentsFor(context, segmentId, input.conditions);
    const result = await execute(context, commandId, null, (metadata) => ({
      type: 'CreateSegment',
      metadata,
      data: { segmentId, definition: definitionInput(input), knownSegments },
    }));
    return Object.assign(result, { version: 1 });
  }

  @Mutation(() => SegmentCommandResult, {
    description:
      'States the whole definition again; a new version when it differs (the kind cannot change). A dynamic segment is re-evaluated for every contact while the previous members stay until then.',
  })
  async updateSegment(
    @Args(() => SegmentChangeArgs) { id, expectedRevision, commandId }: SegmentChangeArgs,
    @Arg('input', () => SegmentInput) input: SegmentInput,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentCommandResult> {
    const knownSegments = await knownSegmentsFor(context, id, input.conditions);
    const result = await execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'UpdateSegment',
      metadata,
      data: { segmentId: id, definition: definitionInput(input), knownSegments },
    }));
    const state = await context.services.segments.load(context.workspaceId, id);
    return Object.assign(result, {
      version: state.status === 'Nonexistent' ? null : state.version,
    });
  }

  @Mutation(() => SegmentCommandResult, {
    description:
      'Archives a segment: its members are no longer kept. Refused (CONFLICT, SEGMENT_IN_USE) while an active segment includes it with memberOf.',
  })
  async archiveSegment(
    @Args(() => SegmentChangeArgs) { id, expectedRevision, commandId }: SegmentChangeArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentCommandResult> {
    const referencedBy = (await catalog(context))?.segments
      .filter(
        (segment) =>
          segment.status === 'active' &&
          segment.segmentId !== id &&
          segment.conditions !== null &&
          readsOf(segment.conditions).segments.includes(id),
      )
      .map((segment) => segment.segmentId);
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'ArchiveSegment',
      metadata,
      data: { segmentId: id, referencedBy: referencedBy ?? [] },
    }));
  }

  @Mutation(() => SegmentCommandResult, {
    description: `Adds contacts to a static segment (1 to ${segmentMembersPerCommand} ids; a userId or anonymousId is taken for its contact, an id no contact has yet is kept as given).`,
  })
  async addSegmentMembers(
    @Args(() => SegmentChangeArgs) { id, expectedRevision, commandId }: SegmentChangeArgs,
    @Arg('contactIds', () => [ID]) contactIds: string[],
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentCommandResult> {
    const canonical = await canonicalMembers(context, contactIds);
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'AddSegmentMembers',
      metadata,
      data: { segmentId: id, contactIds: canonical, source: 'manual' },
    }));
  }

  @Mutation(() => SegmentCommandResult, {
    description: `Removes contacts from a static segment (1 to ${segmentMembersPerCommand} ids, any identity of each).`,
  })
  async removeSegmentMembers(
    @Args(() => SegmentChangeArgs) { id, expectedRevision, commandId }: SegmentChangeArgs,
    @Arg('contactIds', () => [ID]) contactIds: string[],
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentCommandResult> {
    const canonical = await canonicalMembers(context, contactIds);
    return execute(context, commandId, expectedRevision, (metadata) => ({
      type: 'RemoveSegmentMembers',
      metadata,
      data: { segmentId: id, contactIds: canonical },
    }));
  }

  @Mutation(() => SegmentImportResult, {
    description: `Adds the contacts a CSV file names to a static segment. At most 5 MiB and ${MAX_IMPORT_ROWS.toLocaleString('en')} rows; the first column of each row is a contact id, userId, anonymousId or email (emails match the \`email\` trait, ignoring case); a first row whose first value is a header (id, email, contactId, userId) is skipped. Rows naming no contact are listed, the rest added in commands of ${segmentMembersPerCommand.toLocaleString('en')} contacts.`,
  })
  async importSegmentMembers(
    @Arg('id', () => ID) id: string,
    @Arg('csv', () => String) csv: string,
    @Arg('commandId', () => String, {
      nullable: true,
      description:
        'Makes the import idempotent: a retry with the same id adds nothing twice (each chunk gets `<commandId>:<n>`).',
    })
    commandId: string | null,
    @Ctx() context: TouchlineContext,
  ): Promise<SegmentImportResult> {
    if (Buffer.byteLength(csv, 'utf8') > MAX_IMPORT_BYTES) {
      throw badInput('csv', 'the file must be at most 5 MiB', 'TOO_LARGE');
    }
    const baseCommandId = commandIdOrNew(commandId, context.services.newId);
    const existing = findSegment(await catalog(context), id);
    if (existing?.kind === 'dynamic') {
      throw userError(
        'CONFLICT',
        `cannot import members into segment ${id}: it is dynamic, its members follow its conditions`,
        { field: 'id', reason: 'NOT_STATIC' },
      );
    }
    const rows = importRows(csv);
    const { matches, unmatched } = await matchImportRows(context, rows);
    const contactIds = [...new Set(matches.map((match) => match.contactId))];
    const members = await countMembersAmong(
      collection(context),
      context.workspaceId,
      id,
      contactIds,
    );
    let position: string | null = null;
    for (const [index, chunk] of chunks(contactIds, segmentMembersPerCommand).entries()) {
      const chunkCommandId = index === 0 ? baseCommandId : `${baseCommandId}:${index}`;
      const result = await execute(context, chunkCommandId, null, (metadata) => ({
        type: 'AddSegmentMembers',
        metadata,
        data: { segmentId: id, contactIds: chunk, source: 'import' },
      }));
      position = result.position;
    }
    return Object.assign(new SegmentImportResult(), {
      segmentId: id,
      matched: matches.length,
      added: contactIds.length - members,
      alreadyMembers: members,
      unmatched: unmatched.map((row) => Object.assign(new SegmentImportUnmatched(), row)),
      position,
    });
  }

  @Subscription(() => SegmentChange, {
    description: 'Pushes each entry into and exit from the segment as the read model records it.',
    subscribe: ({ args, context }) =>
      membershipChanges(context as TouchlineContext, args.segmentId as string),
  })
  segmentMembershipChanged(
    @Arg('segmentId', () => ID) _segmentId: string,
    @Root() change: SegmentChange,
  ): SegmentChange {
    return change;
  }

  @Subscription(() => SegmentSizeChange, {
    description:
      "Pushes a segment's size each time it differs from the last one sent (or from the size when the subscription started); every segment of the workspace when segmentId is omitted.",
    subscribe: ({ args, context }) =>
      sizeChanges(
        context as TouchlineContext,
        (args.segmentId as string | null | undefined) ?? null,
      ),
  })
  segmentSizeChanged(
    @Arg('segmentId', () => ID, { nullable: true }) _segmentId: string | null,
    @Root() change: SegmentSizeChange,
  ): SegmentSizeChange {
    return change;
  }
}

@Resolver(() => SegmentMember)
export class SegmentMemberResolver {
  @FieldResolver(() => Contact, {
    nullable: true,
    description: "The member's contact profile (null when the contacts read model lacks it).",
  })
  async contact(
    @Root() member: SegmentMember,
    @Ctx() context: TouchlineContext,
  ): Promise<Contact | null> {
    const document = await context.loaders.contact.load(member.contactId);
    return document && Contact.from(document);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** The segments read model's collections, resolved at each use (a rebuild may switch them). */
function collection(context: TouchlineContext): SegmentCollection {
  return (logical) => context.services.readModels.collection(logical);
}

function catalog(context: TouchlineContext): Promise<SegmentCatalogDocument | null> {
  return readCatalog(collection(context), context.workspaceId);
}

function notFound(segmentId: string, field: string) {
  return userError('NOT_FOUND', `segment ${segmentId} does not exist`, {
    field,
    reason: 'NOT_FOUND',
  });
}

async function requireSegment(context: TouchlineContext, segmentId: string): Promise<SegmentEntry> {
  const entry = findSegment(await catalog(context), segmentId);
  if (entry === null) throw notFound(segmentId, 'segmentId');
  return entry;
}

/** The workspace's active segments but `except`, as the domain checks memberOf against them. */
function activeSegments(
  current: SegmentCatalogDocument | null,
  except: string | null,
): KnownSegments {
  const known: Record<string, KnownSegments[string]> = {};
  for (const segment of current?.segments ?? []) {
    if (segment.status !== 'active' || segment.segmentId === except) continue;
    known[segment.segmentId] =
      segment.kind === 'static' || segment.conditions === null
        ? { kind: 'static' }
        : { kind: 'dynamic', conditions: segment.conditions };
  }
  return known;
}

/**
 * The segments a definition may read: the catalog's active ones, and any it references that
 * the read model does not show yet (created a moment ago), read from the write side, with what
 * those reference in turn, so `memberOf` checks never depend on the projection's lag.
 */
async function knownSegmentsFor(
  context: TouchlineContext,
  except: string,
  conditions: unknown,
): Promise<KnownSegments> {
  const known: Record<string, KnownSegments[string]> = activeSegments(
    await catalog(context),
    except,
  );
  const pending = referencedSegments(conditions);
  const looked = new Set<string>();
  while (pending.length > 0 && looked.size < segmentLimits.conditions) {
    const segmentId = pending.pop()!;
    if (segmentId === except || looked.has(segmentId) || Object.hasOwn(known, segmentId)) continue;
    looked.add(segmentId);
    let state: Awaited<ReturnType<typeof context.services.segments.load>>;
    try {
      state = await context.services.segments.load(context.workspaceId, segmentId);
    } catch {
      continue; // Not a valid id: validation reports the reference as unknown.
    }
    if (state.status !== 'Active') continue;
    const tree = state.definition.conditions;
    known[segmentId] = tree === null ? { kind: 'static' } : { kind: 'dynamic', conditions: tree };
    if (tree !== null) pending.push(...readsOf(tree).segments);
  }
  return known;
}

/** The `memberOf` ids of a raw (not yet validated) tree, within the size a tree may have. */
function referencedSegments(input: unknown): string[] {
  const found: string[] = [];
  const pending: unknown[] = [input];
  for (let visited = 0; pending.length > 0 && visited <= segmentLimits.conditions; visited += 1) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    const { kind, segmentId, conditions, condition } = node as Record<string, unknown>;
    if (kind === 'memberOf' && typeof segmentId === 'string') found.push(segmentId);
    if (Array.isArray(conditions)) pending.push(...(conditions as unknown[]));
    if (condition !== undefined) pending.push(condition);
  }
  return found;
}

function assertContactId(contactId: string, field: string): void {
  if (contactId.length < 1 || contactId.length > contactIdLength) {
    throw badInput(field, `${field} must be 1 to ${contactIdLength} characters`, 'INVALID_ID');
  }
}

/** A cursor of two text keys. */
function textKeys(field: string, cursor: string): [string, string] {
  const keys = decodeCursor(field, cursor, 2);
  if (typeof keys[0] !== 'string' || typeof keys[1] !== 'string') {
    throw badInput(field, `${field} is not a cursor returned by this API`, 'INVALID_CURSOR');
  }
  return [keys[0], keys[1]];
}

/** Member ids as the domain keeps them: each identity's canonical contact, else as given. */
async function canonicalMembers(
  context: TouchlineContext,
  contactIds: readonly string[],
): Promise<string[]> {
  if (contactIds.length > segmentMembersPerCommand) {
    throw badInput(
      'contactIds',
      `at most ${segmentMembersPerCommand} contacts per call, got ${contactIds.length}`,
      'TOO_MANY_CONTACTS',
    );
  }
  contactIds.forEach((contactId, index) => assertContactId(contactId, `contactIds.${index}`));
  const canonical = await canonicalContactIds(collection(context), context.workspaceId, contactIds);
  return contactIds.map((contactId) => canonical.get(contactId) ?? contactId);
}

// ---------------------------------------------------------------------------------------------
// Import

interface ImportRow {
  /** 1-based record number in the file. */
  readonly row: number;
  readonly value: string;
}

interface ImportMatch extends ImportRow {
  readonly contactId: string;
}

type Unmatched = ImportRow & { readonly reason: string };

/**
 * The first column of each record (RFC 4180: quoted fields may hold commas, quotes and line
 * breaks), blank lines left out, a header row skipped. Rows are numbered as records of the
 * file, the header included.
 */
export function importRows(csv: string): ImportRow[] {
  const rows: ImportRow[] = [];
  const text = csv.startsWith('\uFEFF') ? csv.slice(1) : csv;
  let record = 0;
  let index = 0;
  let headerChecked = false;
  while (index < text.length) {
    record += 1;
    const { first, blank, next } = readRecord(text, index);
    index = next;
    if (blank) continue;
    if (!headerChecked) {
      headerChecked = true;
      if (isHeader(first)) continue;
    }
    rows.push({ row: record, value: first });
    if (rows.length > MAX_IMPORT_ROWS) {
      throw badInput('csv', `the file has more than ${MAX_IMPORT_ROWS} rows`, 'TOO_MANY_ROWS');
    }
  }
  return rows;
}

function isHeader(value: string): boolean {
  return IMPORT_HEADERS.has(value.toLowerCase());
}

/** One record from `start`: its first field (trimmed unless quoted) and where the next begins. */
function readRecord(text: string, start: number): { first: string; blank: boolean; next: number } {
  let index = start;
  let field = 0;
  let first = '';
  let blank = true;
  while (index < text.length) {
    let value = '';
    if (text[index] === '"') {
      index += 1;
      while (index < text.length) {
        if (text[index] === '"') {
          if (text[index + 1] === '"') {
            value += '"';
            index += 2;
            continue;
          }
          index += 1;
          break;
        }
        value += text[index];
        index += 1;
      }
      // Anything between the closing quote and the separator is kept, as lenient readers do.
      while (index < text.length && !isSeparator(text[index])) value += text[index++];
      blank = false;
    } else {
      while (index < text.length && !isSeparator(text[index])) value += text[index++];
      if (value.trim() !== '' || text[index] === ',') blank = false;
      value = value.trim();
    }
    if (field === 0) first = value;
    field += 1;
    if (text[index] === ',') {
      index += 1;
      continue;
    }
    // A line break ends the record (CRLF, LF or CR).
    if (text[index] === '\r' && text[index + 1] === '\n') index += 2;
    else if (index < text.length) index += 1;
    return { first, blank, next: index };
  }
  return { first, blank, next: index };
}

function isSeparator(character: string): boolean {
  return character === ',' || character === '\n' || character === '\r';
}

/**
 * Matches each value to a canonical contact: as an identity (segment_identities, one `$in` per
 * 2,000 values), as a canonical contact id, then, for values with an `@` still unmatched, as an
 * email: one read of the workspace's contacts projected to their `email` trait builds a map of
 * lower-cased emails (a contact's email is matched whatever its case, which an `$in` on the
 * stored values could not do).
 */
async function matchImportRows(
  context: TouchlineContext,
  rows: readonly ImportRow[],
): Promise<{ matches: ImportMatch[]; unmatched: Unmatched[] }> {
  const read = collection(context);
  const { workspaceId } = context;
  const matches: ImportMatch[] = [];
  const unmatched: Unmatched[] = [];
  const candidates: ImportRow[] = [];
  for (const row of rows) {
    if (row.value === '') unmatched.push({ ...row, reason: 'EMPTY' });
    else if (row.value.length > contactIdLength) unmatched.push({ ...row, reason: 'TOO_LONG' });
    else candidates.push(row);
  }
  const values = candidates.map((row) => row.value);
  const byIdentity = await canonicalContactIds(read, workspaceId, values);
  const canonical = await existingContacts(
    read,
    workspaceId,
    values.filter((value) => !byIdentity.has(value)),
  );
  const emailRows = candidates.filter(
    (row) => !byIdentity.has(row.value) && !canonical.has(row.value) && row.value.includes('@'),
  );
  const byEmail = emailRows.length > 0 ? await contactsByEmail(read, workspaceId) : new Map();
  for (const row of candidates) {
    const contactId =
      byIdentity.get(row.value) ?? (canonical.has(row.value) ? row.value : undefined);
    if (contactId !== undefined) {
      matches.push({ ...row, contactId });
      continue;
    }
    if (!row.value.includes('@')) {
      unmatched.push({ ...row, reason: 'UNKNOWN_CONTACT' });
      continue;
    }
    const owners = byEmail.get(row.value.toLowerCase());
    if (owners === undefined) unmatched.push({ ...row, reason: 'UNKNOWN_EMAIL' });
    else if (owners.size > 1) unmatched.push({ ...row, reason: 'AMBIGUOUS_EMAIL' });
    else matches.push({ ...row, contactId: [...owners][0] });
  }
  unmatched.sort((a, b) => a.row - b.row);
  return { matches, unmatched };
}

// ---------------------------------------------------------------------------------------------
// Commands

async function execute(
  context: TouchlineContext,
  commandId: string | null | undefined,
  expectedRevision: string | null | undefined,
  build: (metadata: SegmentCommand['metadata']) => SegmentCommand,
): Promise<SegmentCommandResult> {
  const { command, ...outcome } = await runCommand(
    context,
    { commandId, expectedRevision },
    build,
    (built, options) => context.services.segments.execute(built, options),
  );
  return Object.assign(new SegmentCommandResult(), {
    segmentId: command.data.segmentId,
    version: null,
    ...outcome,
  });
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

/** Each new change document of the segment, read from the store as committed. */
async function membershipChanges(
  context: TouchlineContext,
  segmentId: string,
): Promise<AsyncIterableIterator<SegmentChange>> {
  // An unknown segment fails the subscription at once rather than staying silent.
  await requireSegment(context, segmentId);
  const changes = context.services.live.changes(segmentChangesCollection, context.workspaceId);
  return closingWith(changes, freshChanges(context, changes, segmentId));
}

async function* freshChanges(
  context: TouchlineContext,
  changes: AsyncIterable<DocumentChange>,
  segmentId: string,
): AsyncGenerator<SegmentChange> {
  for await (const change of changes) {
    if (!mayBeChangeOf(change.id, context.workspaceId, segmentId)) continue;
    const document = await context.services.readModels
      .collection<SegmentChangeDocument>(segmentChangesCollection)
      .findOne({ _id: change.id });
    if (document !== null && document.segmentId === segmentId) {
      yield SegmentChange.from(document);
    }
  }
}

/**
 * Sizes from the catalog. "Last sent" starts as the sizes when the subscription starts, read
 * right after listening (so no change falls between) and before the first push is asked for.
 */
async function sizeChanges(
  context: TouchlineContext,
  segmentId: string | null,
): Promise<AsyncIterableIterator<SegmentSizeChange>> {
  if (segmentId !== null) await requireSegment(context, segmentId);
  const changes = context.services.live.changes(segmentCatalogCollection, context.workspaceId);
  try {
    const sent = new Map(
      sizesOf(await catalog(context), segmentId).map((segment) => [
        segment.segmentId,
        segment.size,
      ]),
    );
    return closingWith(changes, freshSizes(context, changes, segmentId, sent));
  } catch (error) {
    await changes.return?.();
    throw error;
  }
}

function sizesOf(current: SegmentCatalogDocument | null, segmentId: string | null) {
  return (current?.segments ?? []).filter(
    (segment) => segmentId === null || segment.segmentId === segmentId,
  );
}

async function* freshSizes(
  context: TouchlineContext,
  changes: AsyncIterable<DocumentChange>,
  segmentId: string | null,
  sent: Map<string, number>,
): AsyncGenerator<SegmentSizeChange> {
  for await (const _change of changes) {
    const at = context.services.clock();
    for (const segment of sizesOf(await catalog(context), segmentId)) {
      if (sent.get(segment.segmentId) === segment.size) continue;
      sent.set(segment.segmentId, segment.size);
      yield Object.assign(new SegmentSizeChange(), {
        segmentId: segment.segmentId,
        size: segment.size,
        at,
      });
    }
  }
}
