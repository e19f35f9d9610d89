import { gql } from 'graphql-request';
import { developmentWriteKeyAuthorization } from '../support/traffic';
import { startTestServer, takeUntil, until } from '../e2e/harness';

const D = Math.floor(Date.now() / 86400000) * 86400000 - 5 * 86400000;
const iso = (h: number) => new Date(D + h * 3600000).toISOString();

it('debug', async () => {
  const t = await startTestServer();
  const post = async (batch: unknown[]) => {
    const r = await fetch(t.url.replace(/\/graphql$/, '/v1/batch'), { method: 'POST', headers: { 'content-type': 'application/json', authorization: developmentWriteKeyAuthorization }, body: JSON.stringify({ batch }) });
    return ((await r.json()) as any).position as string;
  };
  const q = (s: string, v?: any) => t.client('default').request<any>(s, v).catch((e) => ({ errors: e.response?.errors ?? String(e) }));
  try {
    await q(gql`mutation { createFunnel(id: "f", input: { name: "x", steps: [{ event: "$pageview" }, { event: "B" }] }) { position revision } }`);
    let p = await post([
      { type: 'page', anonymousId: 'x-1', messageId: 'm1', timestamp: iso(1) },
      { type: 'page', anonymousId: 'x-2', messageId: 'm2', timestamp: iso(2) },
    ]);
    for (let i = 0; i < 50; i++) { const r = await q(`{ funnelReport(funnelId: "f", minPosition: "${p}") { version recomputing entered converted } }`); if (r.funnelReport?.version === 1 && !r.funnelReport.recomputing) break; }
    // identify in a later batch
    p = await post([
      { type: 'identify', userId: 'u-1', anonymousId: 'x-1', messageId: 'm3', timestamp: iso(3) },
      { type: 'track', userId: 'u-1', event: 'B', messageId: 'm4', timestamp: iso(4) },
    ]);
    console.log('later identify', JSON.stringify(await q(`{ funnelReport(funnelId: "f", minPosition: "${p}") { version recomputing entered converted } funnelPeople(funnelId: "f", step: 1, status: REACHED, minPosition: "${p}") { contactIds } }`)));
    // analysis
    console.log('analysis', JSON.stringify(await q(`{ funnelAnalysis(definition: { steps: [{ event: "$pageview" }, { event: "B" }] }) { entered converted } }`)));
    // trend edges
    for (const [from, to, interval] of [
      ['2020-01-01T00:00:00Z', '2022-09-27T00:00:00Z', 'DAY'],
      ['2020-01-01T00:00:00Z', '2022-09-26T23:59:59Z', 'DAY'],
      ['2020-01-01T23:00:00Z', '2022-09-27T22:00:00Z', 'DAY'],
      ['2020-01-05T00:00:00Z', '2039-03-07T00:00:00Z', 'WEEK'],
      ['2020-01-01T00:00:00Z', '2120-01-01T00:00:00Z', 'MONTH'],
      ['2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', 'DAY'],
    ]) {
      const r = await q(`query($f: DateTime!, $t: DateTime!, $i: TrendInterval!) { funnelTrend(funnelId: "f", interval: $i, from: $f, to: $t) { periodStart } }`, { f: from, t: to, i: interval });
      console.log('trend', from, to, interval, r.funnelTrend ? r.funnelTrend.length : JSON.stringify(r.errors));
    }
    // subscription on takeover
    const listeners = t.server.changeFeed.subscriberCount;
    const it2 = t.subscriptions('default').iterate<any>({ query: 'subscription { funnelUpdated(funnelId: "f") { version recomputing entered converted } }' });
    const arriving = takeUntil(it2[Symbol.asyncIterator](), (ms) => ms.some((m) => m.data?.funnelUpdated.version === 2 && !m.data.funnelUpdated.recomputing), 8000);
    await until(() => t.server.changeFeed.subscriberCount > listeners, 'sub');
    const u = await q(gql`mutation { updateFunnel(id: "f", input: { name: "x", steps: [{ event: "$pageview" }, { event: "B" }], window: { value: 2, unit: DAY } }) { position revision } }`);
    console.log('update', JSON.stringify(u));
    try { console.log('pushed', JSON.stringify((await arriving).map((m) => m.data ?? m.errors))); } catch (e) { console.log('sub failed', String(e)); }
    // wrong expected revision
    console.log('rev', JSON.stringify(await q(gql`mutation { updateFunnel(id: "f", expectedRevision: "0", input: { name: "y", steps: [{ event: "$pageview" }, { event: "B" }] }) { position revision } }`)));
    // unknown funnel update
    console.log('unknown', JSON.stringify(await q(gql`mutation { updateFunnel(id: "nope", input: { name: "y", steps: [{ event: "$pageview" }, { event: "B" }] }) { position revision } }`)));
    console.log('dup', JSON.stringify(await q(gql`mutation { createFunnel(id: "f", input: { name: "y", steps: [{ event: "$pageview" }, { event: "B" }] }) { position revision } }`)));
    // archive and read
    const a = await q(gql`mutation { archiveFunnel(id: "f") { position revision } }`);
    console.log('archive', JSON.stringify(a));
    for (let i = 0; i < 5; i++) { console.log('after archive', JSON.stringify(await q(`{ funnelReport(funnelId: "f", minPosition: "${a.archiveFunnel.position}") { version recomputing entered } funnel(id: "f") { status version } }`))); await new Promise((r) => setTimeout(r, 200)); }
  } finally {
    await t.stop();
  }
});
