import type { JsonObject, Utm } from '../../src/domain/tracking/tracking.events';
import {
  classifyChannel,
  defaultChannelRules,
  externalReferrer,
  type Channel,
  type ChannelRule,
} from '../../src/projections/touchpoints/channels';
import { campaignForConversion } from '../../src/projections/touchpoints/conversion-campaign';
import { buildSessions, type Hit, type Session } from '../../src/projections/touchpoints/sessions';
import {
  readConversion,
  readEmailEvent,
  readPromotionEvent,
  readVariant,
} from '../../src/projections/touchpoints/vocabulary';

function utm(values: Partial<Utm>): Utm {
  return { source: null, medium: null, name: null, term: null, content: null, ...values };
}

const page = 'https://shop.example.com/landing';

function touch(values: { utm?: Partial<Utm>; referrer?: string; pageUrl?: string | null }) {
  return {
    utm: values.utm === undefined ? null : utm(values.utm),
    referrer: values.referrer ?? null,
    pageUrl: values.pageUrl === undefined ? page : values.pageUrl,
  };
}

describe('classifyChannel', () => {
  it.each<[string, Parameters<typeof touch>[0], Channel]>([
    // 1 paid search
    ['cpc + google', { utm: { medium: 'cpc', source: 'google' } }, 'paid_search'],
    ['ppc + bing', { utm: { medium: 'ppc', source: 'bing' } }, 'paid_search'],
    [
      'paidsearch + a search host',
      { utm: { medium: 'paidsearch', source: 'www.yahoo.co.jp' } },
      'paid_search',
    ],
    // 2 paid social
    ['cpc + facebook', { utm: { medium: 'cpc', source: 'facebook' } }, 'paid_social'],
    ['paid + t.co', { utm: { medium: 'paid', source: 't.co' } }, 'paid_social'],
    ['paid-social, any source', { utm: { medium: 'paid-social', source: 'acme' } }, 'paid_social'],
    ['paid_social', { utm: { medium: 'paid_social' } }, 'paid_social'],
    ['paidsocial', { utm: { medium: 'paidsocial' } }, 'paid_social'],
    // 3 display
    ['display', { utm: { medium: 'display', source: 'google' } }, 'display'],
    ['cpm', { utm: { medium: 'cpm' } }, 'display'],
    ['banner', { utm: { medium: 'banner' } }, 'display'],
    ['interstitial', { utm: { medium: 'interstitial' } }, 'display'],
    // 4 email
    ['medium email', { utm: { medium: 'email', source: 'mailchimp' } }, 'email'],
    ['medium e-mail', { utm: { medium: 'e-mail' } }, 'email'],
    ['source newsletter', { utm: { source: 'newsletter', medium: 'whatever' } }, 'email'],
    // 5 affiliate
    ['affiliate', { utm: { medium: 'affiliate', source: 'partner' } }, 'affiliate'],
    // 6 organic search
    ['medium organic', { utm: { medium: 'organic', source: 'google' } }, 'organic_search'],
    ['search referrer', { referrer: 'https://www.google.de/search?q=x' }, 'organic_search'],
    ['duckduckgo referrer', { referrer: 'https://duckduckgo.com/' }, 'organic_search'],
    // 7 organic social
    ['medium social', { utm: { medium: 'social', source: 'facebook' } }, 'organic_social'],
    ['medium sm', { utm: { medium: 'sm' } }, 'organic_social'],
    ['medium social-network', { utm: { medium: 'social-network' } }, 'organic_social'],
    ['t.co referrer', { referrer: 'https://t.co/abc123' }, 'organic_social'],
    ['x.com referrer', { referrer: 'https://x.com/someone/status/1' }, 'organic_social'],
    ['lnkd.in referrer', { referrer: 'https://lnkd.in/xyz' }, 'organic_social'],
    // 8 referral
    ['medium referral', { utm: { medium: 'referral', source: 'blog' } }, 'referral'],
    ['other site', { referrer: 'https://blog.example.org/post' }, 'referral'],
    ['box.com is no social network', { referrer: 'https://app.box.com/s/1' }, 'referral'],
    ['tco.example is not t.co', { referrer: 'https://t.co.example.net/' }, 'referral'],
    ['unparseable referrer', { referrer: 'google.com' }, 'referral'],
    // 9 other
    ['UTM present but unmatched', { utm: { medium: 'cpc', source: 'acme-ads' } }, 'other'],
    [
      'only utm_campaign',
      { utm: { name: 'spring' }, referrer: 'https://www.google.com/' },
      'other',
    ],
    ['only utm_content', { utm: { content: 'hero' } }, 'other'],
    // 10 direct
    ['nothing', {}, 'direct'],
    ['same-host referrer', { referrer: 'https://shop.example.com/cart' }, 'direct'],
    ['same host, other port and case', { referrer: 'http://SHOP.example.com:8080/' }, 'direct'],
    [
      'blank UTM and blank referrer',
      { utm: { source: ' ', medium: '' }, referrer: '  ' },
      'direct',
    ],
  ])('%s', (_name, input, expected) => {
    expect(classifyChannel(touch(input))).toBe(expected);
  });

  it('is case-insensitive for media, sources and hosts', () => {
    expect(classifyChannel(touch({ utm: { medium: 'CPC', source: 'Google' } }))).toBe(
      'paid_search',
    );
    expect(classifyChannel(touch({ utm: { medium: 'Email' } }))).toBe('email');
    expect(classifyChannel(touch({ referrer: 'HTTPS://WWW.BING.COM/' }))).toBe('organic_search');
  });

  it('lets UTM win over the referrer', () => {
    expect(
      classifyChannel(touch({ utm: { medium: 'email' }, referrer: 'https://www.google.com/' })),
    ).toBe('email');
  });

  it('applies rules in order: paid search before paid social, display before email', () => {
    // "google.facebook" has a search label and a social label: row 1 comes first.
    expect(classifyChannel(touch({ utm: { medium: 'cpc', source: 'google.facebook' } }))).toBe(
      'paid_search',
    );
    expect(classifyChannel(touch({ utm: { medium: 'display', source: 'newsletter' } }))).toBe(
      'display',
    );
    // "paid" with a search engine is no paid search (row 1 lists cpc, ppc, paidsearch only).
    expect(classifyChannel(touch({ utm: { medium: 'paid', source: 'google' } }))).toBe('other');
  });

  it('needs a whole label, not a substring', () => {
    expect(classifyChannel(touch({ referrer: 'https://googleblog.example.com/' }))).toBe(
      'referral',
    );
    expect(classifyChannel(touch({ referrer: 'https://news.google.com/' }))).toBe('organic_search');
  });

  it('treats any referrer as external when the page URL is unknown', () => {
    expect(classifyChannel(touch({ referrer: 'https://shop.example.com/', pageUrl: null }))).toBe(
      'referral',
    );
  });

  it('takes a workspace table instead of the default', () => {
    const rules: ChannelRule[] = [
      { channel: 'affiliate', when: [{ source: ['partnerize'] }] },
      ...defaultChannelRules,
    ];
    expect(classifyChannel(touch({ utm: { source: 'Partnerize', medium: 'cpc' } }), rules)).toBe(
      'affiliate',
    );
    expect(classifyChannel(touch({ referrer: 'https://www.google.com/' }), [])).toBe('other');
  });
});

describe('externalReferrer', () => {
  it('gives the host, or only the raw text when it is no URL', () => {
    expect(externalReferrer('https://www.Google.com./search', page)).toEqual({
      raw: 'https://www.Google.com./search',
      host: 'www.google.com',
    });
    expect(externalReferrer('google.com', page)).toEqual({ raw: 'google.com', host: null });
    expect(externalReferrer('https://shop.example.com/', page)).toBeNull();
  });
});

const t0 = Date.parse('2024-03-01T10:00:00.000Z');
const minute = 60 * 1000;
const day = 24 * 60 * minute;

function at(offsetMs: number): string {
  return new Date(t0 + offsetMs).toISOString();
}

function hit(offsetMs: number, values: Parameters<typeof touch>[0] = {}): Hit {
  return { at: at(offsetMs), ...touch(values) };
}

describe('buildSessions', () => {
  it.each([
    ['29:59', 29 * minute + 59 * 1000, 1],
    ['30:00', 30 * minute, 1],
    ['30:00.001', 30 * minute + 1, 2],
    ['30:01', 30 * minute + 1000, 2],
  ])('a gap of %s gives %i session(s)', (_gap, gapMs, count) => {
    expect(buildSessions([hit(0), hit(gapMs)])).toHaveLength(count);
  });

  it('measures the timeout from the previous hit, not from the session start', () => {
    const sessions = buildSessions([hit(0), hit(25 * minute), hit(50 * minute), hit(75 * minute)]);
    expect(sessions).toEqual([
      expect.objectContaining({ startedAt: at(0), endedAt: at(75 * minute), hitCount: 4 }),
    ]);
  });

  it('sorts unsorted hits by time before cutting sessions', () => {
    const sessions = buildSessions([
      hit(2 * 60 * minute, { referrer: 'https://www.bing.com/' }),
      hit(10 * minute),
      hit(0, { utm: { source: 'google', medium: 'cpc', name: 'spring' } }),
    ]);
    expect(sessions).toEqual([
      {
        startedAt: at(0),
        endedAt: at(10 * minute),
        channel: 'paid_search',
        source: 'google',
        medium: 'cpc',
        campaign: 'spring',
        campaignId: null,
        hitCount: 2,
      },
      {
        startedAt: at(2 * 60 * minute),
        endedAt: at(2 * 60 * minute),
        channel: 'organic_search',
        source: 'www.bing.com',
        medium: 'organic',
        campaign: null,
        campaignId: null,
        hitCount: 1,
      },
    ]);
  });

  it('keeps hits at the same instant in their given order (stable)', () => {
    const sessions = buildSessions([
      hit(0, { referrer: 'https://t.co/x' }),
      hit(0, { utm: { medium: 'email' } }),
    ]);
    expect(sessions).toEqual([expect.objectContaining({ channel: 'organic_social', hitCount: 2 })]);
  });

  it('takes channel, source, medium and campaign from the first hit only', () => {
    const [session] = buildSessions([
      hit(0, { referrer: 'https://news.ycombinator.com/item?id=1' }),
      hit(minute, { utm: { source: 'google', medium: 'cpc', name: 'spring' } }),
    ]);
    expect(session).toMatchObject({
      channel: 'referral',
      source: 'news.ycombinator.com',
      medium: 'referral',
      campaign: null,
      hitCount: 2,
    });
  });

  it('lets UTM beat the referrer and keeps the UTM values as sent', () => {
    const [session] = buildSessions([
      hit(0, {
        utm: { source: ' Newsletter ', medium: 'Email', name: 'Spring-Sale' },
        referrer: 'https://mail.google.com/',
      }),
    ]);
    expect(session).toMatchObject({
      channel: 'email',
      source: 'Newsletter',
      medium: 'Email',
      campaign: 'Spring-Sale',
    });
  });

  it('names direct sessions as GA does, and social referrers as referral', () => {
    const sessions = buildSessions([
      hit(0, { referrer: 'https://shop.example.com/' }),
      hit(day, { referrer: 'https://www.facebook.com/' }),
      hit(2 * day, { referrer: 'not a url' }),
    ]);
    expect(sessions.map(({ channel, source, medium }) => [channel, source, medium])).toEqual([
      ['direct', '(direct)', '(none)'],
      ['organic_social', 'www.facebook.com', 'referral'],
      ['referral', 'not a url', 'referral'],
    ]);
  });

  it('carries the campaign id the first hit names', () => {
    const [session] = buildSessions([
      { ...hit(0), campaignId: 'cmp-1' },
      { ...hit(1), campaignId: 'cmp-2' },
    ]);
    expect(session?.campaignId).toBe('cmp-1');
  });

  it('honours another timeout and gives nothing for no hits', () => {
    expect(buildSessions([hit(0), hit(10 * minute)], { timeoutMs: 5 * minute })).toHaveLength(2);
    expect(buildSessions([])).toEqual([]);
  });

  it('rejects a hit whose time is no instant', () => {
    expect(() => buildSessions([{ ...hit(0), at: 'yesterday' }])).toThrow(RangeError);
  });
});

function session(startOffsetMs: number, values: Partial<Session> = {}): Session {
  return {
    startedAt: at(startOffsetMs),
    endedAt: at(startOffsetMs),
    channel: 'paid_search',
    source: 'google',
    medium: 'cpc',
    campaign: 'spring',
    campaignId: null,
    hitCount: 1,
    ...values,
  };
}

describe('campaignForConversion', () => {
  const conversionAt = 40 * day;
  const conversion = { at: at(conversionAt), campaignId: null };

  it.each([
    ['29 days before', true, conversionAt - 29 * day],
    ['exactly 30 days before', true, conversionAt - 30 * day],
    ['30 days and 1 ms before', false, conversionAt - 30 * day - 1],
    ['at the conversion instant', true, conversionAt],
    ['1 ms after the conversion', false, conversionAt + 1],
  ])('a session that started %s counts: %s', (_when, counts, startOffsetMs) => {
    const result = campaignForConversion(conversion, [session(startOffsetMs)]);
    expect(result).toEqual(
      counts
        ? { campaignId: 'spring', channel: 'paid_search', sessionStartedAt: at(startOffsetMs) }
        : null,
    );
  });

  it('counts the session in progress at the conversion', () => {
    const inProgress = session(conversionAt - 10 * minute, {
      endedAt: at(conversionAt + 5 * minute),
      channel: 'email',
      campaign: 'newsletter-march',
    });
    expect(
      campaignForConversion(conversion, [session(conversionAt - 5 * day), inProgress]),
    ).toEqual({
      campaignId: 'newsletter-march',
      channel: 'email',
      sessionStartedAt: at(conversionAt - 10 * minute),
    });
  });

  it('skips direct sessions to the last non-direct one', () => {
    const sessions = [
      session(conversionAt - 3 * day, { channel: 'paid_social', campaign: 'fb-spring' }),
      session(conversionAt - 2 * day, { channel: 'direct', campaign: null }),
      session(conversionAt - day, { channel: 'direct', campaign: null }),
    ];
    expect(campaignForConversion(conversion, sessions)).toEqual({
      campaignId: 'fb-spring',
      channel: 'paid_social',
      sessionStartedAt: at(conversionAt - 3 * day),
    });
  });

  it('gives no campaign when the last non-direct session has none, not an older one', () => {
    const sessions = [
      session(conversionAt - 3 * day),
      session(conversionAt - day, { channel: 'organic_search', campaign: null }),
    ];
    expect(campaignForConversion(conversion, sessions)).toBeNull();
  });

  it('gives no campaign when only direct sessions or none are in the window', () => {
    expect(
      campaignForConversion(conversion, [session(conversionAt - day, { channel: 'direct' })]),
    ).toBeNull();
    expect(campaignForConversion(conversion, [])).toBeNull();
  });

  it('lets a named campaign_id win, with the channel of the last non-direct session', () => {
    const sessions = [session(conversionAt - day, { channel: 'email', campaign: 'other' })];
    expect(campaignForConversion({ ...conversion, campaignId: 'cmp-9' }, sessions)).toEqual({
      campaignId: 'cmp-9',
      channel: 'email',
      sessionStartedAt: at(conversionAt - day),
    });
    expect(
      campaignForConversion({ ...conversion, campaignId: 'cmp-9' }, [
        session(conversionAt - day, { channel: 'direct' }),
        session(conversionAt - 31 * day),
      ]),
    ).toEqual({ campaignId: 'cmp-9', channel: null });
  });

  it('maps the UTM campaign value with matchCampaign', () => {
    const ids: Record<string, string> = { spring: 'cmp-1' };
    const matchCampaign = (value: string) => ids[value] ?? null;
    expect(
      campaignForConversion(conversion, [session(conversionAt - day)], { matchCampaign }),
    ).toEqual({
      campaignId: 'cmp-1',
      channel: 'paid_search',
      sessionStartedAt: at(conversionAt - day),
    });
    expect(
      campaignForConversion(
        conversion,
        [session(conversionAt - 2 * day), session(conversionAt - day, { campaign: 'unknown' })],
        {
          matchCampaign,
        },
      ),
    ).toBeNull();
  });

  it("prefers the session's own campaign id to its UTM value", () => {
    const result = campaignForConversion(conversion, [
      session(conversionAt - day, { campaignId: 'cmp-7' }),
    ]);
    expect(result).toMatchObject({ campaignId: 'cmp-7' });
  });

  it('takes the latest session whatever the order given, within another lookback', () => {
    const sessions = [
      session(conversionAt - day, { campaign: 'late' }),
      session(conversionAt - 2 * day, { campaign: 'early' }),
    ];
    expect(campaignForConversion(conversion, sessions)).toMatchObject({ campaignId: 'late' });
    expect(
      campaignForConversion(conversion, sessions, { lookbackMs: 12 * 60 * minute }),
    ).toBeNull();
  });

  it('works on sessions built from hits', () => {
    const sessions = buildSessions([
      hit(0, { utm: { source: 'facebook', medium: 'paid', name: 'fb-spring' } }),
      hit(day),
    ]);
    expect(campaignForConversion({ at: at(day + minute), campaignId: null }, sessions)).toEqual({
      campaignId: 'fb-spring',
      channel: 'paid_social',
      sessionStartedAt: at(0),
    });
  });
});

function tracked(event: string, properties: JsonObject) {
  return { event, properties };
}

describe('readConversion', () => {
  it('reads an Order Completed with revenue, currency, order and campaign', () => {
    expect(
      readConversion(
        tracked('Order Completed', {
          order_id: 'o-1',
          revenue: 25.5,
          total: 30,
          currency: 'eur',
          campaign_id: 'cmp-1',
        }),
      ),
    ).toEqual({ orderId: 'o-1', revenueMinor: 2550, currency: 'EUR', campaignId: 'cmp-1' });
  });

  it.each<[string, JsonObject, number, string]>([
    ['total when revenue is absent', { total: 19.99 }, 1999, 'USD'],
    ['total when revenue is no amount', { revenue: 'n/a', total: 5 }, 500, 'USD'],
    ['0 when neither is given', {}, 0, 'USD'],
    ['half away from zero, up', { revenue: 1.005 }, 101, 'USD'],
    ['half away from zero, down below half', { revenue: 1.0049 }, 100, 'USD'],
    ['half away from zero, negative', { revenue: -2.675 }, -268, 'USD'],
    ['a float sum as the decimal it prints as', { revenue: 0.1 + 0.2 }, 30, 'USD'],
    ['a decimal string', { revenue: ' 12.345 ' }, 1235, 'USD'],
    ['JPY with 0 digits', { revenue: 1500.5, currency: 'JPY' }, 1501, 'JPY'],
    ['JPY rounding down', { revenue: 1500.49, currency: 'jpy' }, 1500, 'JPY'],
    ['BHD with 3 digits', { revenue: 1.2345, currency: 'BHD' }, 1235, 'BHD'],
    ['an exponent', { revenue: 1e-7 }, 0, 'USD'],
    ['a big exponent string', { revenue: '1.5e3' }, 150000, 'USD'],
    ['an unknown currency: no revenue', { revenue: 10, currency: 'ZZZ' }, 0, 'USD'],
    ['a blank currency: USD', { revenue: 10, currency: ' ' }, 1000, 'USD'],
    ['too large to be exact: 0', { revenue: 1e20 }, 0, 'USD'],
  ])('%s', (_name, properties, revenueMinor, currency) => {
    expect(readConversion(tracked('Order Completed', properties))).toMatchObject({
      revenueMinor,
      currency,
    });
  });

  it('reads numeric ids and leaves missing ones null', () => {
    expect(readConversion(tracked('Order Completed', { order_id: 1042 }))).toEqual({
      orderId: '1042',
      revenueMinor: 0,
      currency: 'USD',
      campaignId: null,
    });
  });

  it('ignores other events, by exact name', () => {
    expect(readConversion(tracked('Signed Up', { revenue: 5 }))).toBeNull();
    expect(readConversion(tracked('order completed', { revenue: 5 }))).toBeNull();
  });
});

describe('readEmailEvent', () => {
  it.each([
    ['Email Sent', 'sent'],
    ['Email Delivered', 'delivered'],
    ['Email Opened', 'opened'],
    ['Email Link Clicked', 'clicked'],
    ['Email Bounced', 'bounced'],
    ['Email Marked as Spam', 'complained'],
    ['Unsubscribed', 'unsubscribed'],
  ])('%s is %s', (event, kind) => {
    expect(readEmailEvent(tracked(event, { campaign_id: 'cmp-1', email_id: 'e-1' }))).toEqual({
      kind,
      campaignId: 'cmp-1',
      emailId: 'e-1',
      linkUrl: null,
    });
  });

  it('reads the link of a click and ignores other events', () => {
    expect(
      readEmailEvent(tracked('Email Link Clicked', { link_url: 'https://shop.example.com/?a=1' })),
    ).toEqual({
      kind: 'clicked',
      campaignId: null,
      emailId: null,
      linkUrl: 'https://shop.example.com/?a=1',
    });
    expect(readEmailEvent(tracked('Order Completed', {}))).toBeNull();
  });
});

describe('readPromotionEvent', () => {
  it('reads impressions and clicks', () => {
    const properties = {
      campaign_id: 'cmp-1',
      promotion_id: 'p-1',
      creative: 'hero',
      channel: 'facebook',
    };
    expect(readPromotionEvent(tracked('Promotion Viewed', properties))).toEqual({
      kind: 'impression',
      campaignId: 'cmp-1',
      promotionId: 'p-1',
      creative: 'hero',
      channel: 'facebook',
    });
    expect(readPromotionEvent(tracked('Promotion Clicked', { channel: 7 }))).toEqual({
      kind: 'click',
      campaignId: null,
      promotionId: null,
      creative: null,
      channel: null,
    });
    expect(readPromotionEvent(tracked('Email Opened', properties))).toBeNull();
  });
});

describe('readVariant', () => {
  it('reads the campaign variant, not an experiment variation', () => {
    expect(readVariant({ variant: 'B' })).toBe('B');
    expect(readVariant({ variant: 2 })).toBe('2');
    expect(readVariant({ variation_id: 'v1' })).toBeNull();
    expect(readVariant({ variant: '' })).toBeNull();
  });
});
