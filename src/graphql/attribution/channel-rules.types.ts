/**
 * A channel table over the API (ANALYTICS.md, Channels): the default one as data, and a
 * what-if one a client sends with an attribution query. Output and input have the same
 * fields, so a client can copy `defaultChannelRules`, edit it and send it back; a null field
 * is an absent one.
 */
import { Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import type {
  ChannelCondition as Condition,
  ChannelRule as Rule,
  HostMatcher as Matcher,
} from '../../projections/touchpoints/channels';
import { badInput } from '../errors';

export const channelRuleLimits = {
  rules: 50,
  conditionsPerRule: 20,
  valuesPerList: 100,
  valueLength: 100,
} as const;

export const channelRulesDescription = `A channel table other than the live one (see \`defaultChannelRules\`: copy, edit, send back): rules tried in order, the first that matches wins, no match is \`other\`; at most ${channelRuleLimits.rules}. When given, the answer is recomputed from the event log with it (recomputed: true).`;

/** A channel a table may name: what reports show and group by. */
export const channelNamePattern = /^[a-z][a-z0-9_]{0,39}$/;

export const ReferrerPresence = { NONE: 'none', ANY: 'any' } as const;
export type ReferrerPresence = (typeof ReferrerPresence)[keyof typeof ReferrerPresence];
registerEnumType(ReferrerPresence, {
  name: 'ReferrerPresence',
  description: 'Whether the touch has an external referrer (a same-host referrer is none).',
  valuesConfig: {
    NONE: { description: 'No referrer, or one from the page’s own host.' },
    ANY: { description: 'A referrer from another host (parseable or not).' },
  },
});

@ObjectType('HostMatcher', {
  description:
    'A kind of host or UTM source: one of its dot-separated labels is in `labels`, or it is one of `hosts`.',
})
export class HostMatcherView {
  @Field(() => [String], { description: 'Labels, e.g. "google" matches www.google.co.uk.' })
  labels!: string[];

  @Field(() => [String], { description: 'Whole hosts, e.g. "t.co".' })
  hosts!: string[];

  static of(matcher: Matcher): HostMatcherView {
    return Object.assign(new HostMatcherView(), {
      labels: [...matcher.labels],
      hosts: [...(matcher.hosts ?? [])],
    });
  }
}

@ObjectType('ChannelCondition', {
  description:
    'One way a rule matches: every field given must hold (AND); null fields are not checked. Comparisons ignore letter case.',
})
export class ChannelConditionView {
  @Field(() => [String], { nullable: true, description: 'The UTM medium is one of these.' })
  medium!: string[] | null;

  @Field(() => [String], { nullable: true, description: 'The UTM source is one of these.' })
  source!: string[] | null;

  @Field(() => HostMatcherView, {
    nullable: true,
    description: 'The UTM source, read as a host, is of this kind.',
  })
  sourceIs!: HostMatcherView | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: at least one UTM value is present; false: none is.',
  })
  utm!: boolean | null;

  @Field(() => ReferrerPresence, {
    nullable: true,
    description: 'The touch has no external referrer (NONE) or has one (ANY).',
  })
  referrer!: ReferrerPresence | null;

  @Field(() => HostMatcherView, {
    nullable: true,
    description: 'The external referrer’s host is of this kind.',
  })
  referrerIs!: HostMatcherView | null;

  static of(condition: Condition): ChannelConditionView {
    const { medium, source, sourceIs, utm, referrer } = condition;
    return Object.assign(new ChannelConditionView(), {
      medium: medium ? [...medium] : null,
      source: source ? [...source] : null,
      sourceIs: sourceIs ? HostMatcherView.of(sourceIs) : null,
      utm: utm ?? null,
      referrer: typeof referrer === 'string' ? referrer : null,
      referrerIs: typeof referrer === 'object' ? HostMatcherView.of(referrer) : null,
    });
  }
}

@ObjectType('ChannelRule', {
  description:
    'A row of the channel table: the channel, when any of its conditions holds (OR). Rules are tried in order; the first that matches wins; no match is `other`.',
})
export class ChannelRuleView {
  @Field({ description: 'The channel credited, e.g. paid_search.' })
  channel!: string;

  @Field(() => [ChannelConditionView], { description: 'Any one must hold.' })
  when!: ChannelConditionView[];

  static of(rule: Rule<string>): ChannelRuleView {
    return Object.assign(new ChannelRuleView(), {
      channel: rule.channel,
      when: rule.when.map((condition) => ChannelConditionView.of(condition)),
    });
  }
}

@InputType({ description: 'As HostMatcher; at least one label or host.' })
export class HostMatcherInput {
  @Field(() => [String], { nullable: true, description: 'Dot-free labels, e.g. "google".' })
  labels?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Whole hosts, e.g. "t.co".' })
  hosts?: string[] | null;
}

@InputType({
  description:
    'As ChannelCondition: every field given must hold; at least one field; referrer and referrerIs exclude each other.',
})
export class ChannelConditionInput {
  @Field(() => [String], { nullable: true, description: 'The UTM medium is one of these.' })
  medium?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'The UTM source is one of these.' })
  source?: string[] | null;

  @Field(() => HostMatcherInput, {
    nullable: true,
    description: 'The UTM source, read as a host, is of this kind.',
  })
  sourceIs?: HostMatcherInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: at least one UTM value is present; false: none is.',
  })
  utm?: boolean | null;

  @Field(() => ReferrerPresence, {
    nullable: true,
    description: 'The touch has no external referrer (NONE) or has one (ANY).',
  })
  referrer?: ReferrerPresence | null;

  @Field(() => HostMatcherInput, {
    nullable: true,
    description: 'The external referrer’s host is of this kind.',
  })
  referrerIs?: HostMatcherInput | null;
}

@InputType({ description: 'As ChannelRule.' })
export class ChannelRuleInput {
  @Field({
    description:
      'The channel: a lower-case letter, then up to 39 lower-case letters, digits or _. The one named `direct` is what LAST_NON_DIRECT passes over.',
  })
  channel!: string;

  @Field(() => [ChannelConditionInput], {
    description: `Any one must hold; 1 to ${channelRuleLimits.conditionsPerRule}.`,
  })
  when!: ChannelConditionInput[];
}

/**
 * A channel table sent over the API, checked: every failure names its field
 * (`channelRules.2.when.0.medium`). Values are trimmed and lower-cased, and each object is
 * built with its fields in one order, so equal tables serialise equally (a cache key).
 */
export function channelRulesInput(
  rules: readonly ChannelRuleInput[],
  field = 'channelRules',
): Rule<string>[] {
  if (rules.length === 0) {
    throw badInput(field, `${field} must hold at least one rule`, 'EMPTY_CHANNEL_RULES');
  }
  if (rules.length > channelRuleLimits.rules) {
    throw badInput(
      field,
      `${field} may hold at most ${channelRuleLimits.rules} rules`,
      'TOO_MANY_CHANNEL_RULES',
    );
  }
  return rules.map((rule, index) => ruleInput(rule, `${field}.${index}`));
}

function ruleInput(rule: ChannelRuleInput, field: string): Rule<string> {
  if (!channelNamePattern.test(rule.channel)) {
    throw badInput(
      `${field}.channel`,
      'channel must be a lower-case letter, then up to 39 lower-case letters, digits or _',
      'INVALID_CHANNEL',
    );
  }
  if (rule.when.length === 0) {
    throw badInput(`${field}.when`, 'when must hold at least one condition', 'EMPTY_CONDITIONS');
  }
  if (rule.when.length > channelRuleLimits.conditionsPerRule) {
    throw badInput(
      `${field}.when`,
      `when may hold at most ${channelRuleLimits.conditionsPerRule} conditions`,
      'TOO_MANY_CONDITIONS',
    );
  }
  return {
    channel: rule.channel,
    when: rule.when.map((condition, index) => conditionInput(condition, `${field}.when.${index}`)),
  };
}

function conditionInput(condition: ChannelConditionInput, field: string): Condition {
  const { medium, source, sourceIs, utm, referrer, referrerIs } = condition;
  if (referrer != null && referrerIs != null) {
    throw badInput(
      `${field}.referrerIs`,
      'referrer and referrerIs exclude each other',
      'CONFLICTING_REFERRER',
    );
  }
  const parsed: { -readonly [K in keyof Condition]: Condition[K] } = {};
  if (medium != null) parsed.medium = valuesInput(medium, `${field}.medium`);
  if (source != null) parsed.source = valuesInput(source, `${field}.source`);
  if (sourceIs != null) parsed.sourceIs = matcherInput(sourceIs, `${field}.sourceIs`);
  if (utm != null) parsed.utm = utm;
  if (referrer != null) parsed.referrer = referrer;
  if (referrerIs != null) parsed.referrer = matcherInput(referrerIs, `${field}.referrerIs`);
  if (Object.keys(parsed).length === 0) {
    // It would match every touch: most likely a mistake, and a catch-all is easy to write
    // ({ utm: true } or { utm: false }).
    throw badInput(field, 'a condition must check at least one field', 'EMPTY_CONDITION');
  }
  return parsed;
}

function matcherInput(matcher: HostMatcherInput, field: string): Matcher {
  const labels = valuesInput(matcher.labels ?? [], `${field}.labels`, { mayBeEmpty: true });
  const hosts = valuesInput(matcher.hosts ?? [], `${field}.hosts`, { mayBeEmpty: true });
  if (labels.length === 0 && hosts.length === 0) {
    throw badInput(field, 'a host matcher needs a label or a host', 'EMPTY_MATCHER');
  }
  labels.forEach((label, index) => {
    if (label.includes('.')) {
      throw badInput(`${field}.labels.${index}`, 'a label has no dot', 'INVALID_VALUE');
    }
  });
  return hosts.length === 0 ? { labels } : { labels, hosts };
}

function valuesInput(
  values: readonly string[],
  field: string,
  { mayBeEmpty = false } = {},
): string[] {
  if (values.length === 0 && !mayBeEmpty) {
    throw badInput(field, `${field} must hold at least one value`, 'EMPTY_LIST');
  }
  if (values.length > channelRuleLimits.valuesPerList) {
    throw badInput(field, `at most ${channelRuleLimits.valuesPerList} values`, 'TOO_MANY_VALUES');
  }
  return values.map((value, index) => {
    const normalised = value.trim().toLowerCase();
    if (normalised === '' || normalised.length > channelRuleLimits.valueLength) {
      throw badInput(
        `${field}.${index}`,
        `a value must be 1 to ${channelRuleLimits.valueLength} characters, not blank`,
        'INVALID_VALUE',
      );
    }
    return normalised;
  });
}
