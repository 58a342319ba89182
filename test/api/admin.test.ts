import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tokenHash } from '../../src/api/app.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, po850, ROOT, snapshot846, tempDir, testConfig, waitFor } from '../helpers.ts';

/**
 * The admin API over a real port with a real SQLite store and a running pipeline: auth rules,
 * bad parameters, document filters and pagination, document detail, replay after a mapping fix
 * (nothing applied twice), dead letters, resend, mapping validate / dry-run / activate, metrics.
 */
const TOKEN = 'test-admin-token-0123456789';
let g: RunningGateway;
let base = '';
let mappingsDir = '';
let dataDir = '';
const ORIGINAL_850 = readFileSync(path.join(ROOT, 'mappings', 'demo-retail', '850.in.yaml'), 'utf8');

async function call(method: string, p: string, o: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== null) headers.Authorization = `Bearer ${o.token ?? TOKEN}`;
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(`${base}${p}`, { method, headers, body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)) });
  const text = await r.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: r.status, json, text, headers: r.headers };
}

before(async () => {
  const dir = tempDir('gw-admin-');
  mappingsDir = path.join(dir, 'mappings');
  cpSync(path.join(ROOT, 'mappings'), mappingsDir, { recursive: true });
  const partners = path.join(dir, 'partners');
  cpSync(path.join(ROOT, 'config', 'partners'), partners, { recursive: true });
  // The 3PL's feed is expected every 5 minutes (stale until it sends one).
  const tpl = path.join(partners, 'demo-3pl.yaml');
  writeFileSync(tpl, readFileSync(tpl, 'utf8') + 'expectFeedWithinMinutes: 5\n');
  const cfg = testConfig({ partnersDir: partners, mappingsDir, api: `{ host: 127.0.0.1, port: 0, tokens: [{ name: ops, sha256: "${tokenHash(TOKEN)}" }], maxBodyBytes: 65536 }` });
  dataDir = cfg.dataDir;
  g = await startGateway(cfg.env);
  base = `http://127.0.0.1:${g.port}`;
});
after(async () => {
  await g?.stop();
});

test('auth: changes need a valid bearer token (401 without, 403 wrong); reads and health are open', async () => {
  const none = await call('POST', '/outbox/1/resend', { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'GW_UNAUTHORIZED');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const wrong = await call('POST', '/outbox/1/resend', { token: 'nope' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.error.code, 'GW_FORBIDDEN');
  const right = await call('POST', '/outbox/999999/resend');
  assert.equal(right.status, 404, 'past the auth, the entry does not exist');
  assert.equal((await call('GET', '/documents', { token: null })).status, 200);
  assert.equal((await call('GET', '/health', { token: null })).status, 200);
  assert.equal((await call('POST', '/mappings/activate', { token: null, body: {} })).status, 401);
});

test('correlation ids are accepted and returned; errors carry no stack trace', async () => {
  const r = await call('GET', '/documents/0', { headers: { 'X-Correlation-Id': 'abc-123' } });
  assert.equal(r.headers.get('x-correlation-id'), 'abc-123');
  assert.equal(r.status, 400);
  assert.equal(r.json.error.correlationId, 'abc-123');
  assert.ok(!/at .*\.ts:\d+/.test(r.text), 'no stack trace');
  const generated = await call('GET', '/health', { headers: { 'X-Correlation-Id': 'bad id with spaces' } });
  assert.match(generated.headers.get('x-correlation-id')!, /^[0-9a-f-]{36}$/);
});

test('bad parameters get clear 400s; oversized and non-JSON bodies are refused', async () => {
  for (const [p, what] of [
    ['/documents?limit=0', /limit/],
    ['/documents?limit=abc', /limit/],
    ['/documents?from=yesterday', /from/],
    ['/documents?partner=nobody', /unknown partner/],
    ['/documents?direction=sideways', /direction/],
    ['/documents?control=12x', /control/],
    ['/documents/abc', /document id/],
    ['/outbox?status=LOST', /status/],
    ['/dead-letters?before=-1', /before/],
  ] as const) {
    const r = await call('GET', p);
    assert.equal(r.status, 400, p);
    assert.equal(r.json.error.code, 'GW_BAD_REQUEST');
    assert.match(r.json.error.message, what, p);
  }
  const big = await call('POST', '/mappings/validate', { body: { file: 'demo-retail/850.in.yaml', text: 'x'.repeat(70_000) } });
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'GW_PAYLOAD_TOO_LARGE');
  const notJson = await call('POST', '/mappings/validate', { raw: 'file=x', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(notJson.status, 400);
  const badFile = await call('POST', '/mappings/validate', { body: { file: '../../etc/passwd.yaml', text: 'x' } });
  assert.equal(badFile.status, 400);
});

test('documents: filters by partner, direction, set, status, time, PO and control number; keyset pagination', async () => {
  const retail = drop(dataDir, 'demo-retail');
  const tpl = drop(dataDir, 'demo-3pl');
  const t0 = new Date().toISOString();
  for (let i = 0; i < 5; i++) writeFileSync(path.join(retail.in, `po-${i}.x12`), po850(7100 + i, `PO-API-${i}`));
  writeFileSync(path.join(tpl.in, 'snap.x12'), snapshot846(7200, [['012345678905', 'ACME-EAST', '40']]));
  await waitFor(async () => (await g.db('documents').where({ status: 'PROCESSED' })).length >= 6, 20_000, 'six documents');
  const set850 = await call('GET', '/documents?set=850&direction=in');
  assert.equal(set850.json.documents.length, 5);
  assert.ok(set850.json.documents.every((d: any) => d.setIds === '850' && d.source_path === undefined && d.sourcePath === undefined && d.rawPath === undefined));
  assert.equal((await call('GET', '/documents?partner=demo-3pl')).json.documents.length, 1);
  assert.equal((await call('GET', '/documents?status=PROCESSED&set=846')).json.documents.length, 1);
  const byPo = await call('GET', '/documents?po=PO-API-3');
  assert.deepEqual(byPo.json.documents.map((d: any) => d.filename), ['po-3.x12']);
  const byControl = await call('GET', '/documents?control=000007102');
  assert.deepEqual(byControl.json.documents.map((d: any) => d.filename), ['po-2.x12']);
  assert.equal((await call('GET', `/documents?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json.documents.length, 0);
  assert.ok((await call('GET', `/documents?from=${encodeURIComponent(t0)}`)).json.documents.length >= 6);
  // Pages of 2: every document once, newest first.
  const seen: number[] = [];
  let next: number | null = null;
  do {
    const page: any = await call('GET', `/documents?limit=2${next ? `&before=${next}` : ''}`);
    seen.push(...page.json.documents.map((d: any) => d.id));
    next = page.json.next;
  } while (next);
  const all = (await g.db('documents').orderBy('id', 'desc').select('id')).map((r) => Number(r.id));
  assert.deepEqual(seen, all);
});

test('one document: envelope, raw content, events, acknowledgments and timeline; the raw bytes', async () => {
  const doc = await g.db('documents').where({ filename: 'po-1.x12' }).first();
  const r = await call('GET', `/documents/${doc.id}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.envelope[0].isa13, '000007101');
  assert.equal(r.json.envelope[0].sender, 'ZZ/RETAILCO');
  assert.match(r.json.raw.content, /^ISA\*00/);
  assert.equal(r.json.raw.truncated, false);
  assert.equal(r.json.events[0].type, 'order.received');
  assert.equal(r.json.acks[0].kind, '997');
  assert.deepEqual(r.json.timeline.map((t: any) => t.what).slice(0, 3), ['received', 'processed', '997 queued']);
  const raw = await fetch(`${base}/documents/${doc.id}/raw`);
  assert.equal(await raw.text(), po850(7101, 'PO-API-1'));
  assert.equal((await call('GET', '/documents/999999')).status, 404);
});

test('partners: last inbound and outbound times, channels, and a stale flag for a late feed', async () => {
  const r = await call('GET', '/partners');
  const retail = r.json.partners.find((p: any) => p.id === 'demo-retail');
  const tpl = r.json.partners.find((p: any) => p.id === 'demo-3pl');
  assert.ok(retail.lastInboundAt && retail.lastOutboundAt);
  assert.equal(retail.stale, false, 'no window configured');
  assert.equal(tpl.expectFeedWithinMinutes, 5);
  assert.equal(tpl.stale, false, 'its snapshot came a moment ago');
  assert.equal(retail.channels[0].channel, 'folder:demo-retail');
  // Five minutes later without a feed it is stale: move its last document back in time.
  await g.db('feeds').where({ partner_id: 'demo-3pl' }).update({ last_in_at: new Date(Date.now() - 6 * 60_000).toISOString() });
  const late = (await call('GET', '/partners')).json.partners.find((p: any) => p.id === 'demo-3pl');
  assert.equal(late.stale, true);
  assert.ok(late.feedAgeSeconds >= 360, String(late.feedAgeSeconds));
  assert.match((await call('GET', '/metrics')).text, /^gateway_feed_stale\{partner="demo-3pl"\} 1$/m);
});

test('mappings: validate, dry-run showing a changed field, nothing stored by the dry run', async () => {
  const bad = await call('POST', '/mappings/validate', { body: { file: 'demo-retail/850.in.yaml', text: 'version: 1\nset: "850"\nfields: { poNumber: { path: "BEG03[" } }\n' } });
  assert.equal(bad.json.valid, false);
  assert.ok(bad.json.problems.length > 0);
  const good = await call('POST', '/mappings/validate', { body: { file: 'demo-retail/850.in.yaml', text: ORIGINAL_850 } });
  assert.deepEqual(good.json, { file: 'demo-retail/850.in.yaml', valid: true, problems: [] });
  const eventsBefore = (await g.db('events')).length;
  const draft = ORIGINAL_850.replace('routing: TD505', 'routing: BEG02');
  const r = await call('POST', '/mappings/dry-run', { body: { file: 'demo-retail/850.in.yaml', text: draft } });
  assert.equal(r.status, 200);
  assert.equal(r.json.documents, 5, 'the five stored 850s of demo-retail');
  assert.equal(r.json.changedDocuments, 5);
  const change = r.json.diffs[0].changed[0];
  assert.equal(change.type, 'order.received');
  assert.deepEqual(change.fields, [{ path: 'data.routing', active: null, draft: 'SA' }]);
  assert.equal((await g.db('events')).length, eventsBefore, 'a dry run stores nothing');
  assert.equal(g.mappings.list().find((m) => m.file === 'demo-retail/850.in.yaml')!.version, 1, 'nor activates anything');
  const invalid = await call('POST', '/mappings/dry-run', { body: { file: 'demo-retail/850.in.yaml', text: 'set: [' } });
  assert.equal(invalid.status, 422);
});

test('replay after a mapping fix applies the document once; a second replay applies nothing; dead letters clear', async () => {
  // A stricter mapping goes live (through the API) and the next PO is rejected by it.
  const strict = ORIGINAL_850.replace('  routing: TD505', '  routing: TD505\n  vendorRef: { path: "REF02[REF01=VR]", required: true }');
  const act = await call('POST', '/mappings/activate', { body: { file: 'demo-retail/850.in.yaml', text: strict } });
  assert.equal(act.status, 200);
  assert.equal(act.json.version, 2);
  assert.equal(readFileSync(path.join(mappingsDir, 'demo-retail', '850.in.yaml'), 'utf8'), strict, 'kept in the mappings folder');
  const listed = (await call('GET', '/mappings')).json.mappings.find((m: any) => m.file === 'demo-retail/850.in.yaml');
  assert.equal(listed.version, 2, 'GET /mappings shows the new version');
  writeFileSync(path.join(drop(dataDir, 'demo-retail').in, 'po-late.x12'), po850(7300, 'PO-REPLAY', { qty: '3' }));
  const doc = await waitFor(async () => g.db('documents').where({ filename: 'po-late.x12' }).whereNotNull('processed_at').first(), 15_000, 'the rejected PO');
  assert.equal(doc.status, 'REJECTED');
  const dead = await call('GET', '/dead-letters');
  assert.ok(dead.json.deadLetters.some((d: any) => d.id === doc.id));
  // Acknowledgments are the outbox entries a document caused (an 855 for the applied PO is not one).
  const acksOf = async () => (await g.db('outbox').whereNotNull('source_document_id')).length;
  const acksBefore = await acksOf();
  // Replay before the fix: still rejected, nothing applied.
  const early = await call('POST', `/documents/${doc.id}/replay`);
  assert.equal(early.status, 201);
  assert.equal(early.json.status, 'REJECTED');
  // The fix, then the replay.
  assert.equal((await call('POST', '/mappings/activate', { body: { file: 'demo-retail/850.in.yaml', text: ORIGINAL_850 } })).json.activated, true);
  const r1 = await call('POST', `/documents/${doc.id}/replay`, { headers: { 'X-Correlation-Id': 'replay-1' } });
  assert.equal(r1.status, 201);
  assert.equal(r1.json.status, 'PROCESSED');
  assert.equal(r1.json.eventCount, 1);
  assert.equal((await g.db('documents').where({ id: r1.json.document }).first()).correlation_id, 'replay-1');
  const order = await call('GET', '/orders/PO-REPLAY');
  const committed = order.json.lines.map((l: any) => l.committed);
  // Again: recognised, nothing applied twice.
  const r2 = await call('POST', `/documents/${doc.id}/replay`);
  assert.equal(r2.json.status, 'DUPLICATE');
  assert.equal(r2.json.eventCount, 0);
  assert.equal((await g.db('events').whereLike('payload', '%PO-REPLAY%')).length, 1, 'one order event');
  assert.deepEqual((await call('GET', '/orders/PO-REPLAY')).json.lines.map((l: any) => l.committed), committed, 'commitments unchanged');
  assert.equal(await acksOf(), acksBefore, 'no acknowledgment for a replay');
  assert.ok(!(await call('GET', '/dead-letters')).json.deadLetters.some((d: any) => d.id === doc.id), 'no longer a dead letter');
  const detail = await call('GET', `/documents/${doc.id}`);
  assert.deepEqual(detail.json.replays.map((x: any) => x.status), ['REJECTED', 'PROCESSED', 'DUPLICATE']);
  assert.equal((await call('POST', '/documents/999999/replay')).status, 404);
});

test('outbox: filters, resend of a sent entry (202, delivered again), conflict while pending', async () => {
  const sent = await call('GET', '/outbox?status=SENT&kind=997&partner=demo-retail');
  assert.ok(sent.json.outbox.length >= 5);
  const entry = sent.json.outbox[0];
  const out = drop(dataDir, 'demo-retail').out;
  unlinkSync(path.join(out, entry.filename));
  const r = await call('POST', `/outbox/${entry.id}/resend`);
  assert.equal(r.status, 202);
  await waitFor(() => existsSync(path.join(out, entry.filename)), 10_000, 'the resent file');
  // The file is renamed into place before the entry is marked SENT (delivered, then recorded).
  await waitFor(async () => (await g.db('outbox').where({ id: entry.id }).first()).status === 'SENT', 10_000, 'the entry SENT again');
});

test('metrics in Prometheus format: documents, rejections, feed age, outbox, overdue, store size', async () => {
  const r = await call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type')!, /text\/plain/);
  assert.match(r.text, /gateway_documents_processed_total\{partner="demo-retail",status="PROCESSED"\} [1-9]/);
  assert.match(r.text, /gateway_documents_received_total\{partner="demo-retail",channel="folder:demo-retail"\} [1-9]/);
  assert.match(r.text, /gateway_rejections_total\{partner="demo-retail",code="GW_MAP_SEGMENT_MISSING",severity="error"\} [1-9]/);
  assert.match(r.text, /gateway_feed_age_seconds\{partner="demo-3pl"\} \d/);
  assert.match(r.text, /gateway_feed_age_seconds\{partner="demo-supplier"\} \d/, 'a partner that never sent ages from its first start');
  assert.match(r.text, /gateway_deliveries_total\{partner="demo-retail",kind="997"\} [1-9]/);
  assert.match(r.text, /gateway_outbox\{partner="demo-retail",kind="any",status="FAILED"\} 0/);
  assert.match(r.text, /gateway_processing_seconds_count\{partner="demo-retail"\} [1-9]/);
  assert.match(r.text, /gateway_dead_letters\{partner="demo-retail",status="REJECTED"\} [1-9]/);
  assert.match(r.text, /gateway_997_overdue\{partner="demo-retail"\} 0/);
  assert.match(r.text, /gateway_store_bytes [1-9]\d+/);
  assert.match(r.text, /gateway_channel_up\{partner="demo-retail",channel="folder:demo-retail"\} 1/);
});

test('with api.tokensForReads, reads need the token too (health and ready stay open for probes)', async () => {
  const cfg = testConfig({ api: `{ host: 127.0.0.1, port: 0, tokens: [{ name: ops, sha256: "${tokenHash(TOKEN)}" }], tokensForReads: true }` });
  const g2 = await startGateway(cfg.env);
  try {
    const url = `http://127.0.0.1:${g2.port}`;
    assert.equal((await fetch(`${url}/documents`)).status, 401);
    assert.equal((await fetch(`${url}/metrics`, { headers: { Authorization: 'Bearer wrong' } })).status, 403);
    assert.equal((await fetch(`${url}/documents`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await fetch(`${url}/ready`)).status, 200);
  } finally {
    await g2.stop();
  }
});

test('docs/openapi.yaml documents every route of the API, and nothing else', async () => {
  const { parse } = await import('yaml');
  const spec = parse(readFileSync(path.join(ROOT, 'docs', 'openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(spec.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  const source = readFileSync(path.join(ROOT, 'src', 'api', 'app.ts'), 'utf8');
  const routes = [...source.matchAll(/router\.(get|post|put|delete)\('([^']+)'/g)].map((m) => `${m[1].toUpperCase()} ${m[2].replace(/:(\w+)/g, '{$1}')}`).sort();
  assert.ok(routes.length >= 18);
  assert.deepEqual(documented, routes);
});
