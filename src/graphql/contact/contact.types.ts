import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ConsentEntry, ContactDocument } from '../../projections/contacts/contact-profile';
import type { Touch as TouchDocument } from '../../projections/contacts/contact-sessions';
import type { ContactTimelineEntry } from '../../projections/contacts/contact-timeline';
import { Money } from '../campaign/campaign.types';
import { PageInfo } from '../shared/page-info';

export const ConsentStatus = {
  SUBSCRIBED: 'SUBSCRIBED',
  UNSUBSCRIBED: 'UNSUBSCRIBED',
  UNKNOWN: 'UNKNOWN',
} as const;
export type ConsentStatus = (typeof ConsentStatus)[keyof typeof ConsentStatus];
registerEnumType(ConsentStatus, {
  name: 'ConsentStatus',
  description: "A contact's consent on one channel; UNKNOWN when they never said.",
});

export const TraitOperator = {
  eq: 'eq',
  neq: 'neq',
  contains: 'contains',
  startsWith: 'startsWith',
  exists: 'exists',
} as const;
export type TraitOperator = (typeof TraitOperator)[keyof typeof TraitOperator];
registerEnumType(TraitOperator, {
  name: 'TraitOperator',
  description:
    'eq / neq compare with a JSON scalar (a missing trait satisfies neq only); contains and startsWith take a string and are case-sensitive; exists ignores the value.',
});

@ObjectType({ description: 'Consent on one channel and when it last changed (event time).' })
export class ChannelConsent {
  @Field(() => ConsentStatus)
  status!: ConsentStatus;

  @Field(() => Date, { nullable: true })
  changedAt!: Date | null;

  static from(entry: ConsentEntry | null): ChannelConsent {
    return Object.assign(new ChannelConsent(), {
      status: entry === null ? ConsentStatus.UNKNOWN : toConsentStatus(entry.status),
      changedAt: entry === null ? null : new Date(entry.at),
    });
  }
}

@ObjectType({
  description:
    'Consent per channel. Email: an `Unsubscribed` event unsubscribes; an identify trait `unsubscribed` (boolean) unsubscribes or resubscribes; the latest by event time wins.',
})
export class Consent {
  @Field(() => ChannelConsent)
  email!: ChannelConsent;
}

@ObjectType({ description: 'How many times the contact did one thing (`page` for page views).' })
export class EventCount {
  @Field()
  name!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: "A session's origin: its first page hit's channel and UTM values." })
export class Touch {
  @Field({ description: 'ANALYTICS.md channel, e.g. paid_search, email, direct.' })
  channel!: string;

  @Field(() => String, { nullable: true })
  source!: string | null;

  @Field(() => String, { nullable: true })
  medium!: string | null;

  @Field(() => String, { nullable: true, description: 'The UTM campaign value.' })
  campaign!: string | null;

  @Field(() => String, { nullable: true, description: 'The campaign_id the first hit names.' })
  campaignId!: string | null;

  @Field(() => Date, { description: 'Event time of the session start.' })
  at!: Date;

  static from(touch: TouchDocument | null): Touch | null {
    return (
      touch &&
      Object.assign(new Touch(), {
        channel: touch.channel,
        source: touch.source,
        medium: touch.medium,
        campaign: touch.campaign,
        campaignId: touch.campaignId,
        at: new Date(touch.at),
      })
    );
  }
}

@ObjectType({ description: 'A person: every identity that names them, joined into one profile.' })
export class Contact {
  @Field(() => ID, { description: 'The canonical id: the userId when known.' })
  id!: string;

  @Field(() => String, { nullable: true })
  userId!: string | null;

  @Field(() => [String], { description: 'Every userId of this person (more after an alias).' })
  userIds!: string[];

  @Field(() => [String])
  anonymousIds!: string[];

  @Field(() => GraphQLJSONObject, {
    description: 'Traits from identify calls; per trait, the latest by event time.',
  })
  traits!: Record<string, unknown>;

  @Field(() => Consent)
  consent!: Consent;

  @Field(() => Date, { nullable: true })
  firstSeenAt!: Date | null;

  @Field(() => Date, { nullable: true })
  lastSeenAt!: Date | null;

  @Field(() => [EventCount], { description: 'Counts by event name, sorted by name.' })
  eventCounts!: EventCount[];

  @Field(() => Int, { description: 'Order Completed events, a repeated order_id once.' })
  conversions!: number;

  @Field(() => [Money], { description: 'Revenue per currency (never mixed), sorted by currency.' })
  revenue!: Money[];

  @Field(() => Int)
  sessionCount!: number;

  @Field(() => Touch, { nullable: true, description: 'The first session (by event time).' })
  firstTouch!: Touch | null;

  @Field(() => Touch, { nullable: true, description: 'The last session (by event time).' })
  lastTouch!: Touch | null;

  @Field({ description: 'Log position of the last event reflected here.' })
  position!: string;

  /** Not a field: the identities whose events make up the timeline. */
  identities!: string[];

  static from(document: ContactDocument): Contact {
    return Object.assign(new Contact(), {
      id: document.contactId,
      userId: document.userId,
      userIds: [...document.userIds],
      anonymousIds: [...document.anonymousIds],
      traits: { ...document.traits },
      consent: Object.assign(new Consent(), { email: ChannelConsent.from(document.consent.email) }),
      firstSeenAt: document.firstSeenAt === null ? null : new Date(document.firstSeenAt),
      lastSeenAt: document.lastSeenAt === null ? null : new Date(document.lastSeenAt),
      eventCounts: Object.entries(document.eventCounts)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, count]) => Object.assign(new EventCount(), { name, count })),
      conversions: document.conversions,
      revenue: document.revenue.map((money) => Money.from(money)),
      sessionCount: document.sessions.length,
      firstTouch: Touch.from(document.firstTouch),
      lastTouch: Touch.from(document.lastTouch),
      position: document.position,
      identities: [...document.userIds, ...document.anonymousIds],
    });
  }
}

@ObjectType({ description: 'One tracked call in a contact timeline.' })
export class TimelineEntry {
  @Field(() => ID, { description: 'The event id.' })
  id!: string;

  @Field()
  messageId!: string;

  @Field({ description: 'The call: page, track, identify or alias.' })
  type!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Event name (track) or page name (page).',
  })
  name!: string | null;

  @Field({ description: 'The identity (userId or anonymousId) the call was filed under.' })
  identity!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => Date)
  receivedAt!: Date;

  @Field(() => GraphQLJSONObject, {
    description: 'Properties (track, page), traits (identify) or { previousId } (alias).',
  })
  properties!: Record<string, unknown>;

  @Field({ description: 'True when the properties were cut to a bounded size.' })
  propertiesTruncated!: boolean;

  @Field(() => String, { nullable: true })
  pageUrl!: string | null;

  @Field(() => String, { nullable: true })
  referrer!: string | null;

  @Field({ description: 'Log position of the event.' })
  position!: string;

  static from(entry: ContactTimelineEntry): TimelineEntry {
    return Object.assign(new TimelineEntry(), {
      id: entry.eventId,
      messageId: entry.messageId,
      type: entry.type,
      name: entry.name,
      identity: entry.identity,
      occurredAt: new Date(entry.occurredAt),
      receivedAt: new Date(entry.receivedAt),
      properties: { ...entry.properties },
      propertiesTruncated: entry.propertiesTruncated,
      pageUrl: entry.page?.url ?? null,
      referrer: entry.page?.referrer ?? null,
      position: entry.position,
    });
  }
}

@ObjectType()
export class ContactEdge {
  @Field()
  cursor!: string;

  @Field(() => Contact)
  node!: Contact;
}

@ObjectType()
export class ContactConnection {
  @Field(() => [ContactEdge])
  edges!: ContactEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Contacts matching the filters, over all pages.' })
  totalCount!: number;
}

@ObjectType()
export class TimelineEntryEdge {
  @Field()
  cursor!: string;

  @Field(() => TimelineEntry)
  node!: TimelineEntry;
}

@ObjectType()
export class TimelineConnection {
  @Field(() => [TimelineEntryEdge])
  edges!: TimelineEntryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType({ description: 'A condition on one trait; several are ANDed.' })
export class TraitFilterInput {
  @Field({
    description: 'Trait name: letters, digits, _ . - (a dot reads into a nested object), ≤ 64.',
  })
  name!: string;

  @Field(() => TraitOperator)
  operator!: TraitOperator;

  @Field(() => GraphQLJSON, { nullable: true })
  value?: unknown;
}

function toConsentStatus(status: ConsentEntry['status']): ConsentStatus {
  return status === 'subscribed' ? ConsentStatus.SUBSCRIBED : ConsentStatus.UNSUBSCRIBED;
}
