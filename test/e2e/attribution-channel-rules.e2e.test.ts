/**
 * What-if channel tables end to end: a client reads the default table, puts a rule for
 * newsletter traffic in front of it and sends it back with an attribution query; the answer
 * is recomputed from the log with it and credits `crm` where the live read model credits
 * `email`. The default table sent back unchanged gives the live read model's numbers, and a
 * bad table is refused on its field.
 */
import { gql } from 'graphql-request';
import { graphQLError, postBatch, startTestServer, type TestServer } from './harness';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** Midnight UTC 20 days ago: visits and orders happen on days 0 to 12 after it. */
const DAY_0 = Math.floor(Date.now() / DAY) * DAY - 20 * DAY;
const FROM = new Date(DAY_0).toISOString();
const TO = new Date(DAY_0 + 20 * DAY).toISOString();
const PAGE_URL = 'https://shop.example.com/landing';

/**
 * Each shopper opens a newsletter, comes back by paid search, organic search or directly,
 * and most of them order; every fourth does not (a null journey for the data-driven models).
 */
function shopper(index: number): unknown[] {
  const userId = `shopper-${index}`;
  const newsletterAt = DAY_0 + (index % 4) * DAY + 9 * HOUR;
  const returnAt = newsletterAt + (1 + (index % 3)) * DAY;
  const visit = (at: number, n: number, context: Record<string, unknown>) => ({
    type: 'page',
    userId,
    messageId: `${userId}-visit-${n}`,
    timestamp: new Date(at).toISOString(),
    context: { ...context, page: { url: PAGE_URL, ...(context.page as object) } },
  });
  const returns = [
    { campaign: { source: 'google', medium: 'cpc', name: 'spring' } },
    { page: { referrer: 'https://www.google.com/search?q=shop' } },
    {},
  ];
  const messages: unknown[] = [
    visit(newsletterAt, 1, { campaign: { source: 'weekly', medium: 'newsletter', name: 'may' } }),
    visit(returnAt, 2, returns[index % returns.length]),
  ];
  if (index % 4 !== 3) {
    messages.push({
      type: 'track',
      userId,
      messageId: `${userId}-order`,
      timestamp: new Date(returnAt + 10 * 60_000).toISOString(),
      event: 'Order Completed',
      properties: { order_id: `${userId}-order`, revenue: 30 + index, currency: 'USD' },
    });
  }
  return messages;
}

const RULE_FIELDS = gql`
  fragment RuleFields on ChannelRule {
    channel
    when {
      medium
      source
      sourceIs {
        labels
        hosts
      }
      utm
      referrer
      referrerIs {
        labels
        hosts
      }
    }
  }
`;

const DEFAULT_RULES = gql`
  ${RULE_FIELDS}
  query DefaultRules {
    defaultChannelRules {
      ...RuleFields
    }
  }
`;

const ATTRIBUTION = gql`
  query Attribution(
    $model: AttributionModel!
    $from: DateTime!
    $to: DateTime!
    $channelRules: [ChannelRuleInput!]
    $minPosition: String
  ) {
    attribution(
      model: $model
      from: $from
      to: $to
      channelRules: $channelRules
      minPosition: $minPosition
    ) {
      recomputed
      credits {
        key
        conversions
      }
      total {
        conversions
      }
    }
  }
`;

const COMPARE = gql`
  query Compare(
    $from: DateTime!
    $to: DateTime!
    $channelRules: [ChannelRuleInput!]
    $minPosition: String
  ) {
    compareAttributionModels(
      from: $from
      to: $to
      channelRules: $channelRules
      minPosition: $minPosition
    ) {
      keys
      models {
        model
        recomputed
        credits {
          key
          conversions
          share
        }
        total {
          conversions
        }
        unattributed {
          conversions
        }
      }
    }
  }
`;

const PATHS = gql`
  query Paths(
    $from: DateTime!
    $to: DateTime!
    $channelRules: [ChannelRuleInput!]
    $minPosition: String
  ) {
    conversionPaths(from: $from, to: $to, channelRules: $channelRules, minPosition: $minPosition) {
      recomputed
      converting {
        key
        count
      }
      conversions
    }
  }
`;

type Rule = { channel: string; when: Record<string, unknown>[] };

interface Report {
  recomputed: boolean;
  credits: { key: string; conversions: number }[];
  total: { conversions: number };
}

interface Comparison {
  keys: string[];
  models: (Omit<Report, 'credits'> & {
    model: string;
    credits: { key: string; conversions: number; share: number }[];
    unattributed: { conversions: number };
  })[];
}

interface Paths {
  recomputed: boolean;
  converting: { key: string; count: number }[];
  conversions: number;
}

const creditOf = (report: Report, key: string) =>
  report.credits.find((credit) => credit.key === key)?.conversions ?? 0;

describe('what-if channel rules end to end', () => {
  let touchline: TestServer;
  let seen = '0';
  let defaults: Rule[];

  beforeAll(async () => {
    touchline = await startTestServer();
    const messages = Array.from({ length: 24 }, (_, i) => shopper(i)).flat();
    const body = await postBatch(touchline, messages);
    expect(body.accepted).toBe(messages.length);
    seen = body.position;
    const data = await api().request<{ defaultChannelRules: Rule[] }>(DEFAULT_RULES);
    defaults = data.defaultChannelRules;
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  const api = () => touchline.client('default');
  const ask = <T>(query: string, variables: Record<string, unknown> = {}) =>
    api().request<T>(query, { from: FROM, to: TO, minPosition: seen, ...variables });

  it('shows the default table in the shape it takes back', () => {
    expect(defaults.map(({ channel }) => channel)).toEqual([
      'paid_search',
      'paid_social',
      'display',
      'email',
      'affiliate',
      'organic_search',
      'organic_social',
      'referral',
      'other',
      'direct',
    ]);
    expect(defaults[3]).toEqual({
      channel: 'email',
      when: [
        { ...noChecks, medium: ['email', 'e-mail', 'newsletter'] },
        { ...noChecks, source: ['email', 'e-mail', 'newsletter'] },
      ],
    });
    expect(defaults[9].when).toEqual([{ ...noChecks, utm: false, referrer: 'NONE' }]);
  });

  it('credits crm instead of email under a table that names newsletter traffic crm', async () => {
    // Given the live read model, which credits the newsletter visits to email …
    const live = (await ask<{ attribution: Report }>(ATTRIBUTION, { model: 'FIRST_TOUCH' }))
      .attribution;
    expect(live.recomputed).toBe(false);
    expect(live.total.conversions).toBe(18);
    expect(creditOf(live, 'email')).toBe(18);

    // … when the default table is sent back with a crm rule in front of it …
    const crmTable = [{ channel: 'crm', when: [{ medium: ['newsletter'] }] }, ...defaults];
    const whatIf = (
      await ask<{ attribution: Report }>(ATTRIBUTION, {
        model: 'FIRST_TOUCH',
        channelRules: crmTable,
      })
    ).attribution;

    // … then it is recomputed, and email's credit is crm's.
    expect(whatIf.recomputed).toBe(true);
    expect(whatIf.total.conversions).toBe(18);
    expect(creditOf(whatIf, 'crm')).toBe(18);
    expect(creditOf(whatIf, 'email')).toBe(0);

    // The paths of the same table go through crm.
    const paths = (await ask<{ conversionPaths: Paths }>(PATHS, { channelRules: crmTable }))
      .conversionPaths;
    expect(paths.recomputed).toBe(true);
    expect(paths.conversions).toBe(18);
    expect(paths.converting.map(({ key }) => key).sort()).toEqual([
      'crm > direct',
      'crm > organic_search',
      'crm > paid_search',
    ]);
  });

  it('gives the live numbers for the default table sent back', async () => {
    // Given every model from the live read model …
    const live = (await ask<{ compareAttributionModels: Comparison }>(COMPARE))
      .compareAttributionModels;
    // … when the default table is sent explicitly …
    const explicit = (
      await ask<{ compareAttributionModels: Comparison }>(COMPARE, { channelRules: defaults })
    ).compareAttributionModels;

    // … then it is recomputed, and every model credits the same keys the same conversions.
    expect(live.models.every(({ recomputed }) => !recomputed)).toBe(true);
    expect(explicit.models.every(({ recomputed }) => recomputed)).toBe(true);
    expect(explicit.keys).toEqual(live.keys);
    expect(live.keys.sort()).toEqual(['direct', 'email', 'organic_search', 'paid_search']);
    for (const [i, model] of live.models.entries()) {
      const other = explicit.models[i];
      expect(other.model).toBe(model.model);
      expect(other.total).toEqual(model.total);
      expect(other.unattributed).toEqual(model.unattributed);
      expect(other.credits.map(({ key }) => key)).toEqual(model.credits.map(({ key }) => key));
      for (const [j, credit] of model.credits.entries()) {
        expect(other.credits[j].conversions).toBeCloseTo(credit.conversions, 9);
        expect(other.credits[j].share).toBeCloseTo(credit.share, 9);
      }
    }
  });

  it('refuses a bad table on its field, with a code', async () => {
    const attribution = (channelRules: unknown) =>
      ask(ATTRIBUTION, { model: 'LINEAR', channelRules });
    expect(
      await graphQLError(
        attribution([
          { channel: 'a', when: [{ utm: true }] },
          { channel: 'b', when: [{ utm: false }] },
          { channel: 'c', when: [{ medium: [] }] },
        ]),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'channelRules.2.when.0.medium',
      reason: 'EMPTY_LIST',
    });
    expect(await graphQLError(attribution([]))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'channelRules',
      reason: 'EMPTY_CHANNEL_RULES',
    });
    expect(
      await graphQLError(attribution([{ channel: 'Paid Search', when: [{ utm: true }] }])),
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'channelRules.0.channel' });
    // An unknown key is refused by GraphQL itself, before any resolver runs.
    const unknownKey = await graphQLError(
      attribution([{ channel: 'crm', when: [{ mediums: ['newsletter'] }] }]),
    );
    expect(unknownKey.code).toBe('BAD_USER_INPUT');
    expect(unknownKey.message).toMatch(/mediums/);
  });
});

/** A condition as the API shows it: every check null but the ones a rule sets. */
const noChecks = {
  medium: null,
  source: null,
  sourceIs: null,
  utm: null,
  referrer: null,
  referrerIs: null,
};
