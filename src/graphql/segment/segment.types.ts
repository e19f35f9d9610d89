import { GraphQLJSON } from 'graphql-scalars';
import {
  ArgsType,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from 'type-graphql';
import {
  conditionTreeInput,
  contactIdLength,
  type SegmentDefinitionInput,
} from '../../domain/segment';
import type {
  SegmentBackfill as BackfillDocument,
  SegmentChangeDocument,
  SegmentChangeReason as ReasonDocument,
  SegmentEntry,
} from '../../projections/segments/segment-documents';
import type {
  MembershipStanding,
  SegmentPerformance as Performance,
  SizePoint,
} from '../../projections/segments/segment-query';
import { Money } from '../campaign/campaign.types';
import { CommandArgs, CommandResultFields } from '../shared/commands';
import { nodesConnection, type NodesPage } from '../shared/page-info';

export const SegmentKind = { DYNAMIC: 'dynamic', STATIC: 'static' } as const;
registerEnumType(SegmentKind, {
  name: 'SegmentKind',
  description:
    'DYNAMIC: members are the contacts that satisfy the conditions, kept current as events arrive and time passes. STATIC: members are added and removed by hand or by import.',
});

export const SegmentStatus = { ACTIVE: 'active', ARCHIVED: 'archived' } as const;
registerEnumType(SegmentStatus, {
  name: 'SegmentStatus',
  description: 'An archived segment keeps its history but no longer has members kept.',
});

export const SegmentChangeKind = { ENTERED: 'entered', LEFT: 'left' } as const;
registerEnumType(SegmentChangeKind, { name: 'SegmentChangeKind' });

export const SegmentChangeCause = {
  CONDITIONS: 'conditions',
  TIME: 'time',
  DEFINITION: 'definition',
  MANUAL: 'manual',
  IMPORT: 'import',
  MERGE: 'merge',
} as const;
registerEnumType(SegmentChangeCause, {
  name: 'SegmentChangeCause',
  description:
    "CONDITIONS: a condition's answer changed with the contact's data (see `conditions`). TIME: a time window passed or a dated event came due. DEFINITION: a new version of the definition was applied to every contact. MANUAL / IMPORT: a static segment's members were changed by hand or by an import. MERGE: two contacts turned out to be one person.",
});

@ObjectType({ description: 'Evaluating every known contact against a new definition version.' })
export class SegmentBackfillProgress {
  @Field(() => Int, { description: 'The definition version being evaluated.' })
  version!: number;

  @Field(() => Int, { description: 'Contacts known when it started.' })
  total!: number;

  @Field(() => Int)
  processed!: number;

  @Field(() => Float, { description: 'processed / total, from 0 to 1 (1 when there is nobody).' })
  progress!: number;

  @Field()
  startedAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field()
  done!: boolean;

  static from(backfill: BackfillDocument): SegmentBackfillProgress {
    const done = backfill.finishedAt !== null;
    return Object.assign(new SegmentBackfillProgress(), {
      version: backfill.version,
      total: backfill.total,
      processed: backfill.processed,
      progress: done || backfill.total === 0 ? 1 : Math.min(1, backfill.processed / backfill.total),
      startedAt: new Date(backfill.startedAt),
      finishedAt: backfill.finishedAt === null ? null : new Date(backfill.finishedAt),
      done,
    });
  }
}

@ObjectType({ description: 'A segment: a group of contacts (ANALYTICS.md, Segments).' })
export class Segment {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => SegmentKind)
  kind!: string;

  @Field(() => Int, { description: 'The latest version of the definition (1 when created).' })
  version!: number;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'The condition tree as validated (null for a static segment).',
  })
  conditions!: unknown;

  @Field(() => SegmentStatus)
  status!: string;

  @Field(() => Int, { description: 'Current number of members.' })
  size!: number;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  archivedAt!: Date | null;

  @Field(() => SegmentBackfillProgress, {
    nullable: true,
    description:
      'The last evaluation of every known contact against a new definition version (dynamic segments); null for a static segment.',
  })
  backfill!: SegmentBackfillProgress | null;

  static from(entry: SegmentEntry): Segment {
    return Object.assign(new Segment(), {
      id: entry.segmentId,
      name: entry.name,
      description: entry.description,
      kind: entry.kind,
      version: entry.version,
      conditions: entry.conditions === null ? null : conditionTreeInput(entry.conditions),
      status: entry.status,
      size: entry.size,
      createdAt: new Date(entry.createdAt),
      updatedAt: new Date(entry.updatedAt),
      archivedAt: entry.archivedAt === null ? null : new Date(entry.archivedAt),
      backfill: entry.backfill && SegmentBackfillProgress.from(entry.backfill),
    });
  }
}

export const SegmentConnection = nodesConnection(Segment, 'SegmentConnection');
export type SegmentConnection = NodesPage<Segment>;

@ObjectType({ description: 'A current member of a segment.' })
export class SegmentMember {
  @Field(() => ID, { description: 'The canonical contact id.' })
  contactId!: string;

  @Field({ description: 'When the current stay began.' })
  enteredAt!: Date;
}

export const SegmentMemberConnection = nodesConnection(SegmentMember, 'SegmentMemberConnection');
export type SegmentMemberConnection = NodesPage<SegmentMember>;

@ObjectType({ description: 'Why a membership changed.' })
export class SegmentChangeReason {
  @Field(() => SegmentChangeCause)
  cause!: string;

  @Field(() => [String], {
    description:
      'Paths of the leaf conditions whose answer flipped (`conditions.0.conditions.1`), for CONDITIONS and TIME.',
  })
  conditions!: string[];

  @Field({ description: 'A sentence for people.' })
  text!: string;

  static from(reason: ReasonDocument): SegmentChangeReason {
    return Object.assign(new SegmentChangeReason(), {
      cause: reason.cause,
      conditions: [...reason.conditions],
      text: reason.text,
    });
  }
}

@ObjectType({ description: "A contact's standing in a segment, now or at an instant." })
export class SegmentMembership {
  @Field(() => ID)
  segmentId!: string;

  @Field(() => ID, { description: 'The canonical contact id the given identity resolved to.' })
  contactId!: string;

  @Field()
  member!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the current stay began.' })
  enteredAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the contact last left, if ever.' })
  leftAt!: Date | null;

  @Field(() => SegmentChangeReason, {
    nullable: true,
    description: 'Why the last change (up to the instant asked) happened; null without one.',
  })
  reason!: SegmentChangeReason | null;

  static of(segmentId: string, contactId: string, standing: MembershipStanding) {
    return Object.assign(new SegmentMembership(), {
      segmentId,
      contactId,
      member: standing.member,
      enteredAt: standing.enteredAt === null ? null : new Date(standing.enteredAt),
      leftAt: standing.leftAt === null ? null : new Date(standing.leftAt),
      reason: standing.reason && SegmentChangeReason.from(standing.reason),
    });
  }
}

@ObjectType({ description: 'A segment a contact is a member of.' })
export class ContactSegment {
  @Field(() => Segment)
  segment!: Segment;

  @Field()
  enteredAt!: Date;
}

@ObjectType({ description: "A segment's size on one UTC day." })
export class SegmentSizePoint {
  @Field({ description: 'YYYY-MM-DD (UTC).' })
  day!: string;

  @Field(() => Int, { description: "The size after the day's last change." })
  size!: number;

  @Field(() => Int, { description: 'Entries during the day.' })
  entered!: number;

  @Field(() => Int, { description: 'Exits during the day.' })
  left!: number;

  static from(point: SizePoint): SegmentSizePoint {
    return Object.assign(new SegmentSizePoint(), point);
  }
}

@ObjectType({ description: 'A contact entering or leaving a segment.' })
export class SegmentChange {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  segmentId!: string;

  @Field(() => ID)
  contactId!: string;

  @Field(() => SegmentChangeKind)
  change!: string;

  @Field()
  at!: Date;

  @Field(() => Int, { description: 'The definition version that decided it.' })
  version!: number;

  @Field(() => SegmentChangeReason)
  reason!: SegmentChangeReason;

  @Field({ description: 'Log position of the event that caused it.' })
  position!: string;

  static from(document: SegmentChangeDocument): SegmentChange {
    return Object.assign(new SegmentChange(), {
      id: document._id,
      segmentId: document.segmentId,
      contactId: document.contactId,
      change: document.change,
      at: new Date(document.at),
      version: document.version,
      reason: SegmentChangeReason.from(document.reason),
      position: document.position,
    });
  }
}

export const SegmentChangeConnection = nodesConnection(SegmentChange, 'SegmentChangeConnection');
export type SegmentChangeConnection = NodesPage<SegmentChange>;

@ObjectType({ description: 'What an unsaved condition tree would select now.' })
export class SegmentPreview {
  @Field(() => Int, { description: 'Contacts that satisfy the conditions.' })
  size!: number;

  @Field(() => [ID], { description: 'Up to sampleSize of them (canonical contact ids).' })
  sample!: string[];

  @Field(() => Int, { description: 'Contacts evaluated.' })
  evaluated!: number;

  @Field(() => Float, { description: 'Time taken to evaluate, in milliseconds.' })
  tookMs!: number;
}

@ObjectType({
  description:
    "How a segment's current members did in a range [from, to] (event time, both ends included).",
})
export class SegmentPerformance {
  @Field(() => ID)
  segmentId!: string;

  @Field(() => Int, { description: 'Current members.' })
  members!: number;

  @Field(() => Int, {
    description:
      'Members with at least one conversion in the range: a conversion is one of the contact’s orders (Order Completed, a repeated order id once) whose event time lies in [from, to].',
  })
  convertedMembers!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'convertedMembers / members; null when there are no members.',
  })
  conversionRate!: number | null;

  @Field(() => [Money], {
    description:
      "Per currency, the sum of the amounts of the members' conversions in the range divided by the number of members, rounded to the currency's minor unit (half away from zero); currencies are never mixed. Empty without members or revenue.",
  })
  revenuePerMember!: Money[];

  @Field(() => Float, {
    nullable: true,
    description:
      "Engagement: the number of the members' behavioural events (track and page calls) with an event time in [from, to], divided by the members and by the length of the range in days (fractional days count as such: 36 hours is 1.5 days); null when there are no members.",
  })
  eventsPerMemberPerDay!: number | null;

  static from(performance: Performance): SegmentPerformance {
    return Object.assign(new SegmentPerformance(), {
      ...performance,
      revenuePerMember: performance.revenuePerMember.map((money) => Money.from(money)),
    });
  }
}

@ObjectType()
export class SegmentCommandResult extends CommandResultFields {
  @Field(() => ID)
  segmentId!: string;

  @Field(() => Int, {
    nullable: true,
    description:
      'The definition version after a create or an update (unchanged when the update changed nothing); null for the other commands.',
  })
  version!: number | null;
}

@ArgsType()
export class SegmentChangeArgs extends CommandArgs {
  @Field(() => ID)
  id!: string;
}

@InputType({ description: 'A segment definition as it is updated: the whole definition again.' })
export class SegmentInput {
  @Field({ description: '1 to 200 characters.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'At most 2,000 characters.' })
  description?: string | null;

  @Field(() => SegmentKind, {
    nullable: true,
    description: "Default DYNAMIC on create; on update the segment's kind, which cannot change.",
  })
  kind?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'The condition tree of a dynamic segment (required for one, absent for a static one): nodes `and` / `or` ({ kind, conditions }), `not` ({ kind, condition }), `trait`, `performed`, `neverPerformed`, `firstPerformedWithin`, `totalRevenue`, `conversionCount`, `lastSeen`, `memberOf` (ANALYTICS.md, Segments). At most 200 nodes.',
  })
  conditions?: unknown;
}

@InputType({ description: 'A new segment.' })
export class CreateSegmentInput extends SegmentInput {
  @Field(() => ID, {
    nullable: true,
    description: 'The segment id: 1 to 100 of A-Z a-z 0-9 _ . : - (default: a new UUID).',
  })
  id?: string | null;
}

/** The domain's input for a definition given over the API. */
export function definitionInput(input: SegmentInput): SegmentDefinitionInput {
  return {
    name: input.name,
    description: input.description ?? null,
    kind: input.kind ?? null,
    conditions: input.conditions ?? null,
  };
}

@ObjectType({ description: 'A row of an import that named no contact.' })
export class SegmentImportUnmatched {
  @Field(() => Int, { description: '1-based row number in the file (the header counts).' })
  row!: number;

  @Field()
  value!: string;

  @Field({
    description: `UNKNOWN_CONTACT (no contact has this id), UNKNOWN_EMAIL (no contact has this email), AMBIGUOUS_EMAIL (several contacts have it), EMPTY (no value), TOO_LONG (more than ${contactIdLength} characters).`,
  })
  reason!: string;
}

@ObjectType()
export class SegmentImportResult {
  @Field(() => ID)
  segmentId!: string;

  @Field(() => Int, { description: 'Rows that named a contact.' })
  matched!: number;

  @Field(() => Int, { description: 'Contacts that were not members before.' })
  added!: number;

  @Field(() => Int, { description: 'Contacts that were members already.' })
  alreadyMembers!: number;

  @Field(() => [SegmentImportUnmatched])
  unmatched!: SegmentImportUnmatched[];

  @Field(() => String, {
    nullable: true,
    description:
      'Log position of the last write; pass it as minPosition to read your own write. Null when nothing was added.',
  })
  position!: string | null;
}

@ObjectType({ description: "A segment's size changed." })
export class SegmentSizeChange {
  @Field(() => ID)
  segmentId!: string;

  @Field(() => Int)
  size!: number;

  @Field({ description: 'When the change was seen by the server.' })
  at!: Date;
}
