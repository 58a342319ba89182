import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tokenHash } from '../../src/api/app.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, po850, testConfig, waitFor } from '../helpers.ts';
import { startPostgres, type TestPostgres } from '../store/postgres.ts';

/**
 * The admin API on a PostgreSQL store (scale-out): document filters by PO and control number,
 * replay idempotence, dead letters and metrics run the same queries there.
 */
const TOKEN = 'pg-admin-token-0123456789';
let pg: TestPostgres | null = null;
let g: RunningGateway | null = null;

before(async () => {
  pg = await startPostgres();
  if (!pg) console.error('\n*** PostgreSQL server binaries not found: the PostgreSQL API tests are SKIPPED (.ci/run installs postgresql) ***\n');
});
after(async () => {
  await g?.stop();
  pg?.stop();
});

test('admin API on PostgreSQL: filters, replay (applied once), dead letters, metrics', async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  const cfg = testConfig({ api: `{ host: 127.0.0.1, port: 0, tokens: [{ name: ops, sha256: "${tokenHash(TOKEN)}" }] }` });
  g = await startGateway({ ...cfg.env, DATABASE_URL: pg.url });
  const base = `http://127.0.0.1:${g.port}`;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const inbox = drop(cfg.dataDir, 'demo-retail').in;
  writeFileSync(path.join(inbox, 'a.x12'), po850(8801, 'PO-PG-1'));
  writeFileSync(path.join(inbox, 'bad.x12'), po850(8802, 'PO-PG-2').replace('BEG*00*SA', 'BEG*00*'));
  const gw = g;
  await waitFor(async () => (await gw.db('documents').whereNotNull('processed_at')).length === 2, 20_000, 'both documents');
  const byPo = (await (await fetch(`${base}/documents?po=PO-PG-1`)).json()) as { documents: { filename: string; id: number }[] };
  assert.deepEqual(byPo.documents.map((d) => d.filename), ['a.x12']);
  const byCtl = (await (await fetch(`${base}/documents?control=8801&set=850&direction=in`)).json()) as { documents: { filename: string }[] };
  assert.deepEqual(byCtl.documents.map((d) => d.filename), ['a.x12']);
  const dead = (await (await fetch(`${base}/dead-letters`)).json()) as { deadLetters: { filename: string }[] };
  assert.deepEqual(dead.deadLetters.map((d) => d.filename), ['bad.x12']);
  const replay = await fetch(`${base}/documents/${byPo.documents[0].id}/replay`, { method: 'POST', headers: auth });
  assert.equal(replay.status, 201);
  assert.equal(((await replay.json()) as { status: string }).status, 'DUPLICATE', 'already applied: nothing again');
  assert.equal((await gw.db('events').whereLike('payload', '%PO-PG-1%')).length, 1);
  // The orders list's aggregate query on PostgreSQL (its counts and sums come back as text there).
  const listed = (await (await fetch(`${base}/orders?status=open`)).json()) as { orders: { poNumber: string; lines: number; ordered: string }[] };
  assert.deepEqual(listed.orders.map((o) => [o.poNumber, o.lines, o.ordered]), [['PO-PG-1', 1, '10']]);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /gateway_store_bytes [1-9]\d+/);
  assert.match(metrics, /gateway_documents_processed_total\{partner="demo-retail",status="REJECTED"\} 1/);
  assert.match(metrics, /gateway_dead_letters\{partner="demo-retail",status="REJECTED"\} 1/);
  await gw.stop();
  g = null;
});
