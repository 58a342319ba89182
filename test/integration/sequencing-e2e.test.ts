import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, ROOT, testConfig, waitFor } from '../helpers.ts';
import { inv, po, x12 } from '../store/promise-harness.ts';

/**
 * Documents in any order, end to end on the running gateway with files in the drop folders: each
 * case of issue 11 as a new user would try it, checked through the API (positions, orders and
 * their timelines, held documents) and the partners' out folders.
 */
let g: RunningGateway;
let dataDir: string;
let base: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  base = `http://127.0.0.1:${g.port}`;
  // Stock to work with: WIDGET-S 200 and WIDGET-L 100 at ACME-EAST (as of 2026-11-20).
  const tpl = drop(dataDir, 'demo-3pl');
  writeFileSync(path.join(tpl.in, 'stock.x12'), inv(9501, [[`LIN*1*UP*${UPC}`, 'QTY*17*200*EA', 'N1*WH*W*92*CMH1'], [`LIN*2*UP*${UPC_L}`, 'QTY*17*100*EA', 'N1*WH*W*92*CMH1']]));
  await processed('demo-3pl', 'stock.x12');
});
after(() => g.stop());

const UPC = '012345678905'; // WIDGET-S
const UPC_L = '012345678929'; // WIDGET-L
const get = async (p: string) => (await fetch(`${base}${p}`)).json();
const sample = (p: string) => readFileSync(path.join(ROOT, 'samples', p));

/** Wait until the file dropped for a partner is archived or in error/; its document. */
async function processed(partner: string, name: string): Promise<{ id: number; status: string; error_code: string | null }> {
  const d = drop(dataDir, partner);
  await waitFor(() => [...ls(d.archive), ...ls(d.error)].some((f) => f.endsWith(`-${name}`)), 15_000, `${partner}/${name} processed`);
  const doc = await g.db('documents').where({ filename: name, partner_id: partner }).orderBy('id', 'desc').first();
  return { id: Number(doc.id), status: String(doc.status), error_code: doc.error_code };
}

async function put(partner: string, name: string, content: string | Buffer) {
  writeFileSync(path.join(drop(dataDir, partner).in, name), content);
  return processed(partner, name);
}

const position = async (item: string) => (await get(`/availability/${item}`)).positions.find((p: { location: string }) => p.location === 'ACME-EAST');

/** The 856s in a partner's out folder: their PRF PO numbers. */
function asnsFor(partner: string): string[] {
  const out = drop(dataDir, partner).out;
  return ls(out)
    .filter((f) => f.startsWith('856_'))
    .flatMap((f) => readAllSegments(readFileSync(path.join(out, f))).segments.filter((s) => s.tag === 'PRF').map((s) => s.elements[1]));
}

test('an early shipment waits for its PO; when the PO comes, its stock ships, its 856 goes out, and the timeline says so', async () => {
  const before = await position('WIDGET-S');
  const ship = await put('demo-3pl', 'shipment-early.xml', sample('demo-3pl/shipment-early.xml'));
  assert.equal(ship.status, 'WAITING');
  const held = await get('/held?status=WAITING');
  assert.deepEqual(held.held.filter((h: { documentId: number }) => h.documentId === ship.id).map((h: { waitsFor: string; code: string }) => [h.waitsFor, h.code]), [['po:demo-retail:PO-1002', 'GW_WAITING_FOR_ORDER']]);
  assert.equal((await position('WIDGET-S')).onHand, before.onHand, 'nothing shipped before the PO');
  assert.ok(!asnsFor('demo-retail').includes('PO-1002'));

  await put('demo-retail', '850-po-1002.x12', sample('demo-retail/850-po-1002.x12'));
  await waitFor(() => asnsFor('demo-retail').includes('PO-1002'), 15_000, 'the 856 for PO-1002 in demo-retail/out');
  const after = await position('WIDGET-S');
  assert.equal(Number(after.onHand), Number(before.onHand) - 10);
  assert.equal(after.committed, before.committed, 'no commitment left behind');
  const o = await get('/orders/PO-1002?partner=demo-retail');
  assert.equal(o.status, 'SHIPPED');
  assert.deepEqual([o.lines[0].ordered, o.lines[0].committed, o.lines[0].shipped], ['10', '0', '10']);
  const steps = o.timeline.map((s: { step: string }) => s.step);
  for (const s of ['received', 'waiting', 'waiting-applied', 'shipped', 'asn-queued']) assert.ok(steps.includes(s), `${s} in ${steps.join(', ')}`);
  assert.equal((await g.db('documents').where({ id: ship.id }).first()).status, 'PROCESSED');
  const detail = await get(`/documents/${ship.id}`);
  assert.deepEqual(detail.held.map((h: { status: string; waitsFor: string }) => [h.status, h.waitsFor]), [['APPLIED', 'po:demo-retail:PO-1002']]);
  const what = detail.timeline.map((t: { what: string }) => t.what);
  assert.ok(what.indexOf('waiting') >= 0 && what.indexOf('applied') > what.indexOf('waiting'), what.join(', '));
  assert.deepEqual((await get('/held?status=WAITING')).held.filter((h: { documentId: number }) => h.documentId === ship.id), []);
});

test('PO-777 at two retailers: the shipment for bigbox\'s ships bigbox\'s line, and its 856 goes to bigbox only', async () => {
  const line = (store: string, qty: number) => ['BEG*00*SA*PO-777**20261120', `N1*ST*S*92*${store}`, `PO1*1*${qty}*EA*1*PE*UP*${UPC}`, 'CTT*1'];
  await put('demo-retail', 'r777.x12', x12('RETAILCO', 9510, 'PO', '850', line('0017', 5)));
  await put('demo-bigbox', 'b777.x12', x12('BIGBOX', 9511, 'PO', '850', line('0442', 7)));
  const xml = `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="SH-777" shipDate="2026-11-23"><Warehouse code="ACME-EAST">W</Warehouse><Order number="PO-777" customer="demo-bigbox"><Carton><Line number="1"><Upc>${UPC}</Upc><Qty uom="EA">7</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`;
  assert.equal((await put('demo-3pl', 'sh777.xml', xml)).status, 'PROCESSED');
  await waitFor(() => asnsFor('demo-bigbox').includes('PO-777'), 15_000, 'bigbox 856');
  assert.ok(!asnsFor('demo-retail').includes('PO-777'), 'no 856 for PO-777 to demo-retail');
  assert.equal((await get('/orders/PO-777?partner=demo-bigbox')).status, 'SHIPPED');
  const r = await get('/orders/PO-777?partner=demo-retail');
  assert.deepEqual([r.status, r.lines[0].committed, r.lines[0].shipped], ['OPEN', '5', '0']);
});

test('an older snapshot after a newer one is recorded, not applied; a resent adjustment and a resent shipment are DUPLICATEs', async () => {
  const snap = (isa: number, id: string, date: string, qty: number) => x12('ACME3PL', isa, 'IB', '846', [`BIA*00*DD*${id}*${date}*0800`, `LIN*1*UP*${UPC_L}`, `QTY*17*${qty}*EA`, 'N1*WH*W*92*CMH1']);
  assert.equal((await put('demo-3pl', 'snap-1203.x12', snap(9520, 'S-1203', '20261203', 45))).status, 'PROCESSED');
  const old = await put('demo-3pl', 'snap-1201.x12', snap(9521, 'S-1201', '20261201', 60));
  assert.equal(old.status, 'PROCESSED');
  assert.equal((await position('WIDGET-L')).onHand, '45', 'the older snapshot did not overwrite the newer one');
  const detail = await get(`/documents/${old.id}`);
  assert.ok(detail.rejections.some((r: { code: string }) => r.code === 'GW_SNAPSHOT_STALE'), JSON.stringify(detail.rejections));
  // The same adjustment (BIA03) under a new ISA13: once.
  const adj = (isa: number) => x12('ACME3PL', isa, 'IB', '846', ['BIA*04*DD*ADJ-9*20261204*0900', `LIN*1*UP*${UPC_L}`, 'QTY*17*-3*EA', 'N1*WH*W*92*CMH1']);
  assert.equal((await put('demo-3pl', 'adj-a.x12', adj(9522))).status, 'PROCESSED');
  assert.equal((await put('demo-3pl', 'adj-b.x12', adj(9523))).status, 'DUPLICATE');
  assert.equal((await position('WIDGET-L')).onHand, '42');
  // The same shipment (shipment id) under another file: the PO shows 5 shipped of 5, not 10.
  await put('demo-retail', 'po-dup.x12', po('RETAILCO', 9524, 'PO-DUP', [`PO1*1*5*EA*1*PE*UP*${UPC_L}`]));
  const xml = `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="SH-DUP" shipDate="2026-12-05"><Warehouse code="ACME-EAST">W</Warehouse><Order number="PO-DUP" customer="demo-retail"><Carton><Line number="1"><Upc>${UPC_L}</Upc><Qty uom="EA">5</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`;
  assert.equal((await put('demo-3pl', 'sh-dup-1.xml', xml)).status, 'PROCESSED');
  assert.equal((await put('demo-3pl', 'sh-dup-2.xml', `${xml}\n<!-- resent -->\n`)).status, 'DUPLICATE');
  const o = await get('/orders/PO-DUP?partner=demo-retail');
  assert.deepEqual([o.status, o.lines[0].ordered, o.lines[0].shipped], ['SHIPPED', '5', '5']);
  assert.equal((await position('WIDGET-L')).onHand, '37');
  assert.equal(asnsFor('demo-retail').filter((p) => p === 'PO-DUP').length, 1, 'one 856');
});

test('a cancel before its PO cancels it when it comes; 850 changes (04) and an 860 from bigbox are applied, each on the timeline', async () => {
  const order = (isa: number, poNumber: string, qty: number, purpose: string) => po('RETAILCO', isa, poNumber, [`PO1*1*${qty}*EA*1*PE*UP*${UPC}`], purpose);
  const before = await position('WIDGET-S');
  assert.equal((await put('demo-retail', 'cancel-first.x12', order(9530, 'PO-CX', 4, '01'))).status, 'WAITING');
  await put('demo-retail', 'po-cx.x12', order(9531, 'PO-CX', 4, '00'));
  const cx = await get('/orders/PO-CX?partner=demo-retail');
  assert.equal(cx.status, 'CANCELLED');
  assert.ok(cx.timeline.some((s: { step: string }) => s.step === 'waiting-applied'));
  // 850 BEG01=04: the line becomes 9.
  await put('demo-retail', 'po-ch.x12', order(9532, 'PO-CH', 6, '00'));
  assert.equal((await put('demo-retail', 'po-ch-04.x12', order(9533, 'PO-CH', 9, '04'))).status, 'PROCESSED');
  const ch = await get('/orders/PO-CH?partner=demo-retail');
  assert.deepEqual([ch.lines[0].ordered, ch.lines[0].committed], ['9', '9']);
  assert.ok(ch.timeline.some((s: { step: string }) => s.step === 'change-received'));
  // The sample 860: BB-2001 line 1 60 -> 48, line 2 deleted, line 4 added (10 WIDGET-M).
  await put('demo-bigbox', '850-bb-2001.x12', sample('demo-bigbox/850-bb-2001.x12'));
  const c = await put('demo-bigbox', '860-change.x12', sample('demo-bigbox/860-change.x12'));
  assert.equal(c.status, 'PROCESSED');
  await waitFor(() => ls(drop(dataDir, 'demo-bigbox').out).some((f) => f.startsWith('997_') && /AK2\*860\*0001~\s*AK5\*A/.test(readFileSync(path.join(drop(dataDir, 'demo-bigbox').out, f), 'latin1'))), 15_000, 'the 997 accepting the 860');
  const bb = await get('/orders/BB-2001?partner=demo-bigbox');
  const byLine = Object.fromEntries(bb.lines.filter((l: { kitLine?: string }) => !l.kitLine).map((l: { lineNumber: string; ordered: string; status: string }) => [l.lineNumber, [l.ordered, l.status]]));
  assert.deepEqual(byLine, { '1': ['48', 'OPEN'], '2': ['24', 'CANCELLED'], '3': ['24', 'OPEN'], '4': ['10', 'OPEN'] });
  const after = await position('WIDGET-S');
  // PO-1002 (10) shipped before; PO-777 (5 open of retail's), PO-CH 9, BB-2001 line 1 48 committed.
  assert.equal(Number(after.committed) - Number(before.committed), 9 + 48);
});

test('supply: a notice puts stock in transit, the 944 receipt clears it, a cancelling notice takes off the rest; a return goes to hold until its disposition', async () => {
  const before = await position('WIDGET-S');
  assert.equal((await put('demo-supplier', '856-notice.x12', sample('demo-supplier/856-notice.x12'))).status, 'PROCESSED');
  assert.equal(Number((await position('WIDGET-S')).inTransit) - Number(before.inTransit), 100);
  assert.deepEqual((await get('/supply')).notices.map((n: { shipmentId: string; status: string }) => [n.shipmentId, n.status]), [['WW-SHP-1', 'OPEN']]);
  assert.equal((await put('demo-3pl', '944-receipt.x12', sample('demo-3pl/944-receipt.x12'))).status, 'PROCESSED');
  let now = await position('WIDGET-S');
  assert.deepEqual([Number(now.inTransit) - Number(before.inTransit), Number(now.onHand) - Number(before.onHand)], [40, 60]);
  const cancel = readFileSync(path.join(ROOT, 'samples/demo-supplier/856-notice.x12'), 'latin1').replace('BSN*00*', 'BSN*01*').replace(/000007001/g, '000007009').replace('GS*SH*WIDGETWORKS*DISTRIBUTOR1*20261122*0800*7001', 'GS*SH*WIDGETWORKS*DISTRIBUTOR1*20261122*0800*7009').replace('GE*1*7001', 'GE*1*7009');
  assert.equal((await put('demo-supplier', 'notice-cancel.x12', cancel)).status, 'PROCESSED');
  now = await position('WIDGET-S');
  assert.equal(now.inTransit, before.inTransit, 'nothing of the cancelled notice is in transit');
  assert.deepEqual((await get('/supply')).notices, []);
  // A return: on hand and on hold, not available; the disposition releases it.
  const hold0 = Number(now.hold);
  assert.equal((await put('demo-3pl', '944-return.x12', sample('demo-3pl/944-return.x12'))).status, 'PROCESSED');
  assert.equal((await put('demo-3pl', 'return-receipt.xml', sample('demo-3pl/return-receipt.xml'))).status, 'PROCESSED');
  const returned = await position('WIDGET-S');
  assert.equal(Number(returned.hold) - hold0, 5, '2 (944) + 3 (XML) on hold');
  assert.equal(returned.available, now.available, 'returns are not sellable');
  assert.equal((await put('demo-3pl', 'return-disposition.xml', sample('demo-3pl/return-disposition.xml'))).status, 'PROCESSED');
  const released = await position('WIDGET-S');
  assert.equal(Number(released.hold) - hold0, 2, '3 released');
  assert.equal(Number(released.available) - Number(now.available), 3);
});
