/**
 * Issue 6 benchmark: the API over a real port with a real SQLite store.
 *   node --import tsx bench/api.ts
 * 1. GET /availability/:item under load (autocannon) with 1,000,000 positions (250,000 items at 4
 *    locations), random items, with and without a partner view.
 * 2. GET /documents pages with 1,000,000 documents: first page, a deep page (keyset), filtered by
 *    partner, set, status, PO and control number; p50/p99 over sequential requests.
 * The gateway runs as its own process (`gateway start`, as in production); the load tool here.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import autocannon from 'autocannon';
import { openDb } from '../src/store/db.ts';
import { ROOT, tempDir, testConfig } from '../test/helpers.ts';

const ITEMS = 250_000;
const DOCS = 1_000_000;
const cfg = testConfig();
const dbFile = path.join(cfg.dataDir, 'gateway.sqlite');
(await import('node:fs')).mkdirSync(cfg.dataDir, { recursive: true });

let t0 = performance.now();
const db = await openDb({ client: 'sqlite3', filename: dbFile });
await db.raw(`insert into positions (item, location, on_hand, committed, in_transit, hold, damaged, safety_stock, last_movement_seq)
  with recursive n(i) as (select 0 union all select i + 1 from n where i < ${ITEMS - 1})
  select 'ITEM-' || i, loc.l, (i % 97) * 10000, (i % 13) * 10000, 0, 0, 0, 0, 0 from n, (select 'ACME-EAST' as l union all select 'ACME-WEST' union all select 'DC1' union all select 'DC2') loc`);
await db.raw(`insert into documents (direction, partner_id, channel, filename, source_path, source_done, sha256, size, raw_path, format, status, set_ids, isa13s, event_count, attempts, correlation_id, received_at, processed_at)
  with recursive n(i) as (select 1 union all select i + 1 from n where i < ${DOCS})
  select 'in', case when i % 3 = 0 then 'demo-3pl' else 'demo-retail' end, 'folder:x', 'f' || i || '.x12', null, 1, printf('%064d', i), 1000, '', 'x12',
    case when i % 50 = 0 then 'REJECTED' else 'PROCESSED' end, case when i % 3 = 0 then '846' else '850' end, printf('%09d', i), 1, 0, 'c' || i,
    strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || (i * 20) || ' seconds'), null from n`);
await db.raw(`insert into document_refs (document_id, kind, value) select id, 'po', 'PO-' || id from documents where set_ids = '850'`);
await db.raw(`insert into document_refs (document_id, kind, value) select id, 'isa13', cast(id as text) from documents`);
const [{ n: positionsN }] = await db('positions').count({ n: '*' });
const [{ n: docsN }] = await db('documents').count({ n: '*' });
await db.raw('analyze');
await db.destroy();
console.log(`store: ${Number(positionsN).toLocaleString('en-US')} positions, ${Number(docsN).toLocaleString('en-US')} documents, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const port = 18000 + Math.floor(Math.random() * 1000);
const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'start'], { env: { ...process.env, ...cfg.env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit'] });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {
    // not yet
  }
  if (i > 400) throw new Error('gateway did not start');
  await new Promise((r) => setTimeout(r, 50));
}

async function load(title: string, make: () => string): Promise<string[]> {
  const r = await autocannon({
    url: base,
    connections: 16,
    duration: 10,
    requests: [{ setupRequest: (req) => ({ ...req, path: make() }) }],
  });
  const ok = r['2xx'];
  return [title, Math.round(r.requests.average).toLocaleString('en-US'), String(r.latency.p50), String(r.latency.p99), String(r.latency.max), `${ok.toLocaleString('en-US')} / ${(r.non2xx + r.errors).toLocaleString('en-US')}`];
}

// The scheduled full 846 for demo-retail (1,000,000 positions) is built at start: wait for it.
for (let i = 0; i < 600; i++) {
  const r = (await (await fetch(`${base}/outbox?kind=846`)).json()) as { outbox: unknown[] };
  if (r.outbox.length) break;
  await new Promise((r) => setTimeout(r, 100));
}
const rand = () => Math.floor(Math.random() * ITEMS);
// Warm-up (page cache, JIT).
await autocannon({ url: `${base}/availability/ITEM-1`, connections: 8, duration: 2 });
const rows: string[][] = [];
rows.push(await load('GET /health (no database: the ceiling of HTTP + Koa here)', () => '/health'));
rows.push(await load('GET /availability/:item (random of 250,000 items)', () => `/availability/ITEM-${rand()}`));
rows.push(await load('GET /availability/:item?partner=demo-retail (partner view)', () => `/availability/ITEM-${rand()}?partner=demo-retail`));
console.log('\n| endpoint, 1,000,000 positions | requests/s | p50 ms | p99 ms | max ms | 2xx / other |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

async function timed(title: string, url: () => string, n = 200): Promise<string[]> {
  const ms: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    t0 = performance.now();
    const r = await fetch(`${base}${url()}`);
    const j = (await r.json()) as { documents: unknown[] };
    ms.push(performance.now() - t0);
    if (!r.ok) throw new Error(`${title}: ${r.status}`);
    count = j.documents.length;
  }
  ms.sort((a, b) => a - b);
  return [title, String(count), ms[Math.floor(n / 2)].toFixed(2), ms[Math.floor(n * 0.99)].toFixed(2)];
}

const deep = () => 1 + Math.floor(Math.random() * DOCS);
const docRows = [
  await timed('first page (limit 50)', () => '/documents?limit=50'),
  await timed('a page anywhere (before=random id)', () => `/documents?limit=50&before=${deep()}`),
  await timed('partner=demo-3pl, a page anywhere', () => `/documents?limit=50&partner=demo-3pl&before=${deep()}`),
  await timed('set=846, a page anywhere', () => `/documents?limit=50&set=846&before=${deep()}`),
  await timed('status=REJECTED, a page anywhere', () => `/documents?limit=50&status=REJECTED&before=${deep()}`),
  await timed('from/to: one hour', () => {
    const from = new Date(Date.parse('2026-01-01T00:00:00Z') + deep() * 20_000);
    return `/documents?limit=50&from=${from.toISOString()}&to=${new Date(from.getTime() + 3_600_000).toISOString()}`;
  }),
  await timed('po=PO-<random>', () => `/documents?po=PO-${deep()}`),
  await timed('control=<random ISA13>', () => `/documents?control=${deep()}`),
];
console.log('\n| GET /documents, 1,000,000 documents | rows | p50 ms | p99 ms |');
console.log('| --- | --- | --- | --- |');
for (const r of docRows) console.log(`| ${r.join(' | ')} |`);

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
