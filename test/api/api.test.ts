import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, po850, testConfig, waitFor } from '../helpers.ts';

let g: RunningGateway;
let base: string;
let dataDir: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  base = `http://127.0.0.1:${g.port}`;
});
after(() => g.stop());

test('GET /health and /ready over a real port', async () => {
  const h = await fetch(`${base}/health`);
  assert.equal(h.status, 200);
  assert.equal((await h.json()).status, 'ok');
  assert.ok(h.headers.get('x-correlation-id'));
  const r = await fetch(`${base}/ready`, { headers: { 'X-Correlation-Id': 'abc-123' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-correlation-id'), 'abc-123');
  assert.equal((await r.json()).status, 'ready');
});

test('documents: list and detail with rejections, events and acks; clear errors', async () => {
  const retail = drop(dataDir, 'demo-retail');
  writeFileSync(path.join(retail.in, 'api-po.x12'), po850(8101, 'PO-API', { qty: 'X' }));
  await waitFor(() => ls(retail.error).find((f) => f.endsWith('api-po.x12')), 10_000, 'settled');
  await g.pipeline.idle();
  const list = await (await fetch(`${base}/documents?limit=10`)).json();
  const doc = list.documents.find((d: { filename: string }) => d.filename === 'api-po.x12');
  assert.equal(doc.status, 'REJECTED');
  const detail = await (await fetch(`${base}/documents/${doc.id}`)).json();
  assert.equal(detail.rejections[0].code, 'GW_X12_ELEMENT_INVALID_CHARACTER');
  assert.equal(detail.rejections[0].setPosition, 4);
  assert.equal(detail.acks.length, 1);
  const bad = await fetch(`${base}/documents?limit=0`);
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'GW_BAD_REQUEST');
  const missing = await fetch(`${base}/documents/999999`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'GW_NOT_FOUND');
  assert.equal((await fetch(`${base}/nope`)).status, 404);
});

test('availability and divergences over the API', async () => {
  const { snapshot846 } = await import('../helpers.ts');
  const tpl = drop(dataDir, 'demo-3pl');
  writeFileSync(path.join(tpl.in, 'api-snap.x12'), snapshot846(8201, [['012345678905', 'ACME-EAST', '12']]));
  await waitFor(() => ls(tpl.archive).find((f) => f.endsWith('api-snap.x12')), 10_000, 'snapshot');
  const a = await (await fetch(`${base}/availability/WIDGET-S?partner=demo-retail`)).json();
  assert.deepEqual(a.positions.map((p: { location: string; onHand: string; available: string }) => [p.location, p.onHand, p.available]), [['ACME-EAST', '12', '12']]);
  // The retailer's delta 846 follows within its debounce: 12 can be promised, bigbox reserves 60%
  // (7), demo-retail gets the other 5 less its safety stock of 2.
  const view = await waitFor(async () => {
    const v = await (await fetch(`${base}/availability/WIDGET-S?partner=demo-retail`)).json();
    return v.partnerView.shown['ACME-EAST'] !== undefined && v.partnerView;
  }, 10_000, 'the 846 to demo-retail');
  assert.deepEqual([view.shown, view.promised, view.rank], [{ 'ACME-EAST': '3' }, { 'ACME-EAST': '3' }, 1]);
  assert.equal((await fetch(`${base}/availability/NOPE`)).status, 404);
  assert.equal((await fetch(`${base}/availability/WIDGET-S?partner=nobody`)).status, 400);
  const d = await (await fetch(`${base}/divergences?partner=demo-3pl`)).json();
  assert.deepEqual(d.divergences.map((x: { item: string; before: string; snapshot: string }) => [x.item, x.before, x.snapshot]), [['WIDGET-S', '0', '12']]);
  assert.equal((await fetch(`${base}/divergences?limit=x`)).status, 400);
});
