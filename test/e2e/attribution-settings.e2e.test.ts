/**
 * Attribution settings end to end: a workspace configures a 7-day lookback; the live
 * attribution read model is recomputed from the log with it (the 30-day one serving
 * meanwhile), then answers a query without settings with the 7-day window from the read
 * model — the same answer a recomputed query for a 7-day lookback gave before — and bad
 * settings are refused on their field.
 */
import { gql } from 'graphql-request';
import { graphQLError, postBatch, startTestServer, type TestServer } from './harness';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** Midnight UTC 30 days ago: visits and orders happen on days 0 to 25 after it. */
const DAY_0 = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
const FROM = new Date(DAY_0).toISOString();
const TO = new Date(DAY_0 + 31 * DAY - 1).toISOString();

/** Each shopper arrives by email, comes back through paid search, and orders. */
function shopper(index: number): unknown[] {
  const userId = `shopper-${index}`;
  const emailVisit = DAY_0 + (index % 5) * DAY + 9 * HOUR;
  // 10 + index % 8 days after the email visit: outside a 7-day lookback, inside 30 days.
  const orderAt = emailVisit + (10 + (index % 8)) * DAY;
  const paidVisit = orderAt - (1 + (index % 3)) * DAY;
  const visit = (at: number, n: number, campaign: Record<string, string>) => ({
    type: 'page',
    userId,
    messageId: `${userId}-visit-${n}`,
    timestamp: new Date(at).toISOString(),
    context: { campaign, page: { url: 'https://shop.example.com/landing' } },
  });
  return [
    visit(emailVisit, 1, { source: 'newsletter', medium: 'email', name: 'weekly' }),
    visit(paidVisit, 2, { source: 'google', medium: 'cpc', name: 'spring' }),
    {
      type: 'track',
      userId,
      messageId: `${userId}-order`,
      timestamp: new Date(orderAt + 5 * 60_000).toISOString(),
      event: 'Order Completed',
      properties: { order_id: `${userId}-order`, revenue: 20 + index, currency: 'USD' },
    },
  ];
}

interface Report {
  lookbackDays: number;
  halfLifeDays: number;
  recomputed: boolean;
  credits: { key: string; conversions: number }[];
  total: { conversions: number };
}

interface Settings {
  lookbackDays: number;
  halfLifeDays: number;
  projected: { lookbackDays: number; halfLifeDays: number };
  recomputing: boolean;
}

const ATTRIBUTION = gql`
  query Attribution(
    $model: AttributionModel!
    $from: DateTime!
    $to: DateTime!
    $lookbackDays: Int
    $minPosition: String
  ) {
    attribution(
      model: $model
      from: $from
      to: $to
      lookbackDays: $lookbackDays
      minPosition: $minPosition
    ) {
      lookbackDays
      halfLifeDays
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

const SETTINGS = gql`
  query Settings($minPosition: String) {
    attributionSettings(minPosition: $minPosition) {
      lookbackDays
      halfLifeDays
      projected {
        lookbackDays
        halfLifeDays
      }
      recomputing
    }
  }
`;

const CONFIGURE = gql`
  mutation Configure($lookbackDays: Int!, $halfLifeDays: Float!, $commandId: String) {
    configureAttribution(
      lookbackDays: $lookbackDays
      halfLifeDays: $halfLifeDays
      commandId: $commandId
    ) {
      revision
      position
      replayed
    }
  }
`;

const later = (a: string, b: string) => (BigInt(a) > BigInt(b) ? a : b);

describe('attribution settings end to end', () => {
  let touchline: TestServer;
  let seen = '0';

  beforeAll(async () => {
    touchline = await startTestServer();
    const messages = Array.from({ length: 24 }, (_, i) => shopper(i)).flat();
    const body = await postBatch(touchline, messages);
    expect(body.accepted).toBe(messages.length);
    seen = body.position;
  });

  afterAll(async () => {
    await touchline?.stop();
  });

  const api = () => touchline.client('default');

  async function attribution(variables: Record<string, unknown>): Promise<Report> {
    const data = await api().request<{ attribution: Report }>(ATTRIBUTION, {
      from: FROM,
      to: TO,
      minPosition: seen,
      ...variables,
    });
    return data.attribution;
  }

  async function settings(): Promise<Settings> {
    const data = await api().request<{ attributionSettings: Settings }>(SETTINGS, {
      minPosition: seen,
    });
    return data.attributionSettings;
  }

  /**
   * Reads the settings until `holds`: a recompute switching over has no log position to
   * wait on, so this polls (one request after another, bounded).
   */
  async function settingsOnce(holds: (current: Settings) => boolean, what: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const current = await settings();
      if (holds(current)) return current;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(current)}`);
      }
    }
  }

  it('serves a configured lookback from the recomputed read model', async () => {
    // Given the defaults, a 7-day lookback is recomputed from the log …
    expect(await settings()).toEqual({
      lookbackDays: 30,
      halfLifeDays: 7,
      projected: { lookbackDays: 30, halfLifeDays: 7 },
      recomputing: false,
    });
    const projected30 = await attribution({ model: 'LINEAR' });
    expect(projected30).toMatchObject({ lookbackDays: 30, recomputed: false });
    expect(projected30.credits.map(({ key }) => key).sort()).toEqual(['email', 'paid_search']);
    const whatIf = await Promise.all(
      (['LINEAR', 'TIME_DECAY', 'FIRST_TOUCH'] as const).map((model) =>
        attribution({ model, lookbackDays: 7 }),
      ),
    );
    expect(whatIf[0]).toMatchObject({ lookbackDays: 7, halfLifeDays: 7, recomputed: true });
    // Every email visit lies more than 7 days before its order.
    expect(whatIf[0].credits).toEqual([{ key: 'paid_search', conversions: 24 }]);

    // … when the workspace configures it (a retry records nothing twice) …
    const configured = await api().request<{
      configureAttribution: { revision: string; position: string; replayed: boolean };
    }>(CONFIGURE, { lookbackDays: 7, halfLifeDays: 7, commandId: 'seven-days' });
    expect(configured.configureAttribution).toMatchObject({ revision: '0', replayed: false });
    const retried = await api().request<{ configureAttribution: { replayed: boolean } }>(
      CONFIGURE,
      { lookbackDays: 7, halfLifeDays: 7, commandId: 'seven-days' },
    );
    expect(retried.configureAttribution.replayed).toBe(true);
    seen = later(seen, configured.configureAttribution.position);

    const meanwhile = await settings();
    expect(meanwhile).toMatchObject({ lookbackDays: 7, halfLifeDays: 7 });
    if (meanwhile.recomputing) {
      expect(meanwhile.projected).toEqual({ lookbackDays: 30, halfLifeDays: 7 });
    }

    // … then, once the recomputed read model serves, a query without settings reads it.
    const done = await settingsOnce(
      (current) => current.projected.lookbackDays === 7 && !current.recomputing,
      'the 7-day read model to take over',
    );
    expect(done.projected).toEqual({ lookbackDays: 7, halfLifeDays: 7 });
    const served = await Promise.all(
      (['LINEAR', 'TIME_DECAY', 'FIRST_TOUCH'] as const).map((model) => attribution({ model })),
    );
    served.forEach((report, i) => {
      expect(report).toMatchObject({ lookbackDays: 7, halfLifeDays: 7, recomputed: false });
      expect(report).toEqual({ ...whatIf[i], recomputed: false });
    });
    // The former default is now the one recomputed from the log.
    const former = await attribution({ model: 'LINEAR', lookbackDays: 30 });
    expect(former).toEqual({ ...projected30, recomputed: true });
  });

  it.each([
    [{ lookbackDays: 0, halfLifeDays: 7 }, 'lookbackDays', 'INVALID_LOOKBACK'],
    [{ lookbackDays: 366, halfLifeDays: 7 }, 'lookbackDays', 'INVALID_LOOKBACK'],
    [{ lookbackDays: 7, halfLifeDays: 0 }, 'halfLifeDays', 'INVALID_HALF_LIFE'],
    [{ lookbackDays: 7, halfLifeDays: 400 }, 'halfLifeDays', 'INVALID_HALF_LIFE'],
  ])('refuses %j on its field', async (variables, field, reason) => {
    const error = await graphQLError(api().request(CONFIGURE, variables));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field, reason });
  });
});
