import { GraphQLError } from 'graphql';
import {
  channelRuleLimits,
  channelRulesInput,
  ChannelRuleView,
  type ChannelRuleInput,
} from '../../src/graphql/attribution/channel-rules.types';
import {
  classifyChannel,
  defaultChannelRules,
  type TouchInput,
} from '../../src/projections/touchpoints/channels';
import { buildSessions } from '../../src/projections/touchpoints/sessions';

/** The error `channelRulesInput` throws for these rules: its field and reason. */
function refusal(rules: unknown[]): { code: unknown; field: unknown; reason: unknown } {
  try {
    channelRulesInput(rules as ChannelRuleInput[]);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const { code, field, reason } = error.extensions;
    return { code, field, reason };
  }
  throw new Error('expected the rules to be refused');
}

const newsletterVisit: TouchInput = {
  utm: { source: 'weekly', medium: 'Newsletter', name: 'may', term: null, content: null },
  referrer: null,
  pageUrl: 'https://shop.example.com/',
};

describe('channel rules over the API', () => {
  it('gives back the default table when its own view is sent back', () => {
    // Given the default table as the API shows it (null fields and all) …
    const view = defaultChannelRules.map((rule) => ChannelRuleView.of(rule));
    expect(view[0]).toEqual({
      channel: 'paid_search',
      when: [
        {
          medium: ['cpc', 'ppc', 'paidsearch'],
          source: null,
          sourceIs: {
            labels: ['google', 'bing', 'yahoo', 'duckduckgo', 'baidu', 'yandex', 'ecosia'],
            hosts: [],
          },
          utm: null,
          referrer: null,
          referrerIs: null,
        },
      ],
    });
    // … when it is sent back as input, then it is the same table.
    expect(channelRulesInput(view)).toEqual(defaultChannelRules);
  });

  it('keeps the order: the first rule that matches wins, no match is other', () => {
    // Given a rule for newsletter traffic before the defaults …
    const rules = channelRulesInput([
      { channel: 'crm', when: [{ medium: [' NEWSLETTER '] }] },
      ...defaultChannelRules.map((rule) => ChannelRuleView.of(rule)),
    ]);
    // … then a newsletter visit is crm (values trimmed, case ignored), not email.
    expect(rules[0]).toEqual({ channel: 'crm', when: [{ medium: ['newsletter'] }] });
    expect(classifyChannel(newsletterVisit)).toBe('email');
    expect(classifyChannel(newsletterVisit, rules)).toBe('crm');
    expect(
      buildSessions([{ at: '2024-05-01T10:00:00Z', ...newsletterVisit }], {
        channelRules: rules,
      }),
    ).toMatchObject([{ channel: 'crm', source: 'weekly', medium: 'Newsletter' }]);
    // A table that matches nothing of a touch leaves it as other.
    const onlySearch = channelRulesInput([
      { channel: 'search', when: [{ referrerIs: { labels: ['google'] } }] },
    ]);
    expect(onlySearch).toEqual([
      { channel: 'search', when: [{ referrer: { labels: ['google'] } }] },
    ]);
    expect(classifyChannel(newsletterVisit, onlySearch)).toBe('other');
    expect(
      classifyChannel(
        { utm: null, referrer: 'https://www.google.de/', pageUrl: 'https://shop.example.com/' },
        onlySearch,
      ),
    ).toBe('search');
  });

  it('builds equal tables the same way, so they serialise equally', () => {
    const a = channelRulesInput([
      { channel: 'x1', when: [{ utm: false, referrer: 'none', medium: null }] },
    ]);
    const b = channelRulesInput([{ channel: 'x1', when: [{ referrer: 'none', utm: false }] }]);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it.each([
    ['an empty table', [], 'channelRules', 'EMPTY_CHANNEL_RULES'],
    [
      'more rules than allowed',
      Array.from({ length: channelRuleLimits.rules + 1 }, () => ({
        channel: 'a',
        when: [{ utm: true }],
      })),
      'channelRules',
      'TOO_MANY_CHANNEL_RULES',
    ],
    [
      'a channel name with capitals',
      [{ channel: 'CRM', when: [{ utm: true }] }],
      'channelRules.0.channel',
      'INVALID_CHANNEL',
    ],
    [
      'a channel name starting with a digit',
      [{ channel: '1crm', when: [{ utm: true }] }],
      'channelRules.0.channel',
      'INVALID_CHANNEL',
    ],
    [
      'a channel name of 41 characters',
      [{ channel: 'a'.repeat(41), when: [{ utm: true }] }],
      'channelRules.0.channel',
      'INVALID_CHANNEL',
    ],
    ['an empty when', [{ channel: 'crm', when: [] }], 'channelRules.0.when', 'EMPTY_CONDITIONS'],
    [
      'a condition checking nothing',
      [{ channel: 'crm', when: [{ utm: true }, { medium: null, referrer: null }] }],
      'channelRules.0.when.1',
      'EMPTY_CONDITION',
    ],
    [
      'an empty medium list',
      [
        { channel: 'a', when: [{ utm: true }] },
        { channel: 'b', when: [{ utm: true }] },
        { channel: 'c', when: [{ medium: [] }] },
      ],
      'channelRules.2.when.0.medium',
      'EMPTY_LIST',
    ],
    [
      'a blank source',
      [{ channel: 'a', when: [{ source: ['ok', '  '] }] }],
      'channelRules.0.when.0.source.1',
      'INVALID_VALUE',
    ],
    [
      'a matcher without labels or hosts',
      [{ channel: 'a', when: [{ sourceIs: { labels: [], hosts: null } }] }],
      'channelRules.0.when.0.sourceIs',
      'EMPTY_MATCHER',
    ],
    [
      'a label with a dot',
      [{ channel: 'a', when: [{ referrerIs: { labels: ['google.com'] } }] }],
      'channelRules.0.when.0.referrerIs.labels.0',
      'INVALID_VALUE',
    ],
    [
      'referrer and referrerIs together',
      [{ channel: 'a', when: [{ referrer: 'any', referrerIs: { hosts: ['t.co'] } }] }],
      'channelRules.0.when.0.referrerIs',
      'CONFLICTING_REFERRER',
    ],
  ])('refuses %s on its field', (_, rules, field, reason) => {
    expect(refusal(rules)).toEqual({ code: 'BAD_USER_INPUT', field, reason });
  });
});
