import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { expireWaiting, settleHeld, type ApplyContext } from '../../src/pipeline/apply-events.ts';
import { positions } from '../../src/store/availability-repository.ts';
import { num } from '../../src/store/db.ts';
import { harness, inv, po, x12, type Backend, type Harness } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * Documents in any order, resent or revised: a shipment or a cancel that comes before its PO waits
 * (WAITING) and is applied when the PO arrives, in the name of its own document; what never comes
 * expires into the dead letters; a resend under new control numbers is a DUPLICATE; other content
 * under the same business key is held (HELD) until an admin releases or discards it.
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
  if (!pg && process.env.CI) throw new Error('PostgreSQL server binaries not found (CI installs them)');
});
after(() => pg?.stop());

const UPC = '012345678905'; // WIDGET-S
const U = 10_000;

function shipment(id: string, poNumber: string, qty: number, customer = 'demo-retail'): string {
  return `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="${id}" shipDate="2026-11-21"><Warehouse code="ACME-EAST">W</Warehouse><Order number="${poNumber}" customer="${customer}"><Carton><Line number="1"><Upc>${UPC}</Upc><Qty uom="EA">${qty}</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`;
}

const order = (isa13: number, poNumber: string, qty: number, purpose = '00') => po('RETAILCO', isa13, poNumber, [`PO1*1*${qty}*EA*1*PE*UP*${UPC}`], purpose);
// Dated after the first snapshot (2026-11-20, the end of that day).
const adjustment = (isa13: number, reportId: string, delta: number) => x12('ACME3PL', isa13, 'IB', '846', [`BIA*04*DD*${reportId}*20261121`, `LIN*1*UP*${UPC}`, `QTY*17*${delta}*EA`, 'N1*WH*W*92*ACME-EAST']);

async function orderOf(h: Harness, poNumber: string): Promise<{ committed: number; shipped: number; status: string } | undefined> {
  const r = await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where({ 'o.po_number': poNumber, 'o.partner_id': 'demo-retail' }).select('l.committed', 'l.shipped', 'o.status').first();
  return r && { committed: num(r.committed) / U, shipped: num(r.shipped) / U, status: String(r.status) };
}

const onHand = async (h: Harness) => (await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).onHand / U;
const committed = async (h: Harness) => (await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).committed / U;
const asns = async (h: Harness) => (await h.db('outbox').where({ kind: '856' }).orderBy('id')).map((r) => String(r.partner_id));
const docStatus = async (h: Harness, id: number) => String((await h.db('documents').where({ id }).first()).status);
const held = async (h: Harness, documentId: number) => (await h.db('held_events').where({ document_id: documentId })).map((r) => ({ id: num(r.id), status: String(r.status), waitsFor: r.waits_for, code: String(r.reason_code) }));

/** An apply context at a moment of our choosing (the admin and expiry paths). */
function ctxAt(h: Harness, at: string): ApplyContext {
  return { db: h.db, documentId: 0, at, partners: h.partners, allocation: () => ({ rule: 'most-available' }), crosswalk: () => null, asn: { partners: h.partners, now: new Date(at) } };
}

function scenario(name: string, body: (h: Harness) => Promise<void>): void {
  for (const backend of ['sqlite', 'pg'] as const) {
    test(`${backend}: ${name}`, async (t) => {
      if (backend === 'pg' && !pg) return t.skip('no PostgreSQL');
      const h = await harness(backend as Backend, pg);
      try {
        await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC}`, 'QTY*17*100*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
        await body(h);
      } finally {
        await h.close();
      }
    });
  }
}

scenario('a shipment before its PO waits; when the PO arrives it is applied and its 856 goes out', async (h) => {
  const s = await h.send('ship.xml', shipment('SH-EARLY', 'PO-900', 10), 'demo-3pl');
  assert.equal(s.status, 'WAITING', JSON.stringify(s.rejections));
  assert.deepEqual(s.rejections.map((r) => r.code), ['GW_WAITING_FOR_ORDER']);
  assert.deepEqual(await held(h, s.documentId), [{ id: (await held(h, s.documentId))[0].id, status: 'WAITING', waitsFor: 'po:demo-retail:PO-900', code: 'GW_WAITING_FOR_ORDER' }]);
  assert.equal(await onHand(h), 100, 'nothing shipped before the PO');
  assert.deepEqual(await asns(h), []);

  const p = await h.send('po.x12', order(2, 'PO-900', 10), 'demo-retail');
  assert.equal(p.status, 'PROCESSED', JSON.stringify(p.rejections));
  assert.deepEqual(await orderOf(h, 'PO-900'), { committed: 0, shipped: 10, status: 'SHIPPED' });
  assert.equal(await onHand(h), 90);
  assert.equal(await committed(h), 0, 'no commitment left behind');
  assert.deepEqual(await asns(h), ['demo-retail']);
  assert.equal((await held(h, s.documentId))[0].status, 'APPLIED');
  assert.equal(await docStatus(h, s.documentId), 'PROCESSED');
  // The shipment's movements are its own document's (its timeline), not the PO's.
  const ship = await h.db('movements').where({ kind: 'ship' }).first();
  assert.equal(num(ship.document_id), s.documentId);
});

scenario('a cancel before its PO waits and cancels it when it comes (BEG01 01 and 03)', async (h) => {
  for (const [i, purpose] of ['01', '03'].entries()) {
    const poNumber = `PO-C${purpose}`;
    const c = await h.send(`cancel${i}.x12`, order(10 + i, poNumber, 4, purpose), 'demo-retail');
    assert.equal(c.status, 'WAITING', JSON.stringify(c.rejections));
    assert.equal(await orderOf(h, poNumber), undefined);
    const p = await h.send(`po${i}.x12`, order(20 + i, poNumber, 4), 'demo-retail');
    assert.equal(p.status, 'PROCESSED');
    assert.deepEqual(await orderOf(h, poNumber), { committed: 0, shipped: 0, status: 'CANCELLED' });
    assert.equal(await docStatus(h, c.documentId), 'PROCESSED');
  }
  assert.equal(await committed(h), 0);
});

scenario('what never arrives expires into the dead letters, with its reason, never applied', async (h) => {
  const s = await h.send('ship.xml', shipment('SH-LOST', 'PO-404', 3), 'demo-3pl');
  assert.equal(s.status, 'WAITING');
  const created = String((await h.db('held_events').where({ document_id: s.documentId }).first()).created_at);
  // Within the window: nothing happens.
  assert.deepEqual(await expireWaiting(ctxAt(h, new Date(Date.parse(created) + 23 * 3600_000).toISOString())), []);
  const gone = await expireWaiting(ctxAt(h, new Date(Date.parse(created) + 24 * 3600_000 + 1).toISOString()));
  assert.equal(gone.length, 1);
  assert.equal(await docStatus(h, s.documentId), 'EXPIRED');
  const doc = await h.db('documents').where({ id: s.documentId }).first();
  assert.equal(doc.error_code, 'GW_WAIT_EXPIRED');
  assert.match(doc.error_message, /PO-404.*not applied/);
  // The PO arriving afterwards does not bring the expired shipment back.
  await h.send('po.x12', order(30, 'PO-404', 3), 'demo-retail');
  assert.deepEqual(await orderOf(h, 'PO-404'), { committed: 3, shipped: 0, status: 'OPEN' });
  assert.equal(await onHand(h), 100);
});

scenario('a resend under new control numbers is a DUPLICATE; other content under the same key is HELD for an admin', async (h) => {
  await h.send('po.x12', order(2, 'PO-5', 5), 'demo-retail');
  const s1 = await h.send('s1.xml', shipment('SH-5', 'PO-5', 5), 'demo-3pl');
  assert.equal(s1.status, 'PROCESSED');
  const s2 = await h.send('s2.xml', shipment('SH-5', 'PO-5', 5) + '\n', 'demo-3pl');
  assert.equal(s2.status, 'DUPLICATE', JSON.stringify(s2.rejections));
  assert.deepEqual(s2.rejections.map((r) => r.code), ['GW_DOCUMENT_DUPLICATE']);
  assert.deepEqual(await orderOf(h, 'PO-5'), { committed: 0, shipped: 5, status: 'SHIPPED' });
  assert.equal(await onHand(h), 95);
  // The same adjustment (BIA03) under a new ISA13: applied once.
  assert.equal((await h.send('a1.x12', adjustment(40, 'ADJ-1', -2), 'demo-3pl')).status, 'PROCESSED');
  assert.equal((await h.send('a2.x12', adjustment(41, 'ADJ-1', -2), 'demo-3pl')).status, 'DUPLICATE');
  assert.equal(await onHand(h), 93);
  // The same PO again under a new ISA13: the order is not doubled.
  assert.equal((await h.send('po-again.x12', order(3, 'PO-5', 5), 'demo-retail')).status, 'DUPLICATE');

  // Other content under the key: held, not applied, until an admin says.
  const c1 = await h.send('a3.x12', adjustment(42, 'ADJ-1', -7), 'demo-3pl');
  assert.equal(c1.status, 'HELD');
  assert.equal(c1.errorCode, 'GW_DOCUMENT_CONFLICT');
  assert.match(c1.errorMessage!, /stock report ADJ-1 was applied from document \d+ with other content/);
  assert.equal(await onHand(h), 93);
  const c2 = await h.send('a4.x12', adjustment(43, 'ADJ-1', -1), 'demo-3pl');
  assert.equal(c2.status, 'HELD');
  const [k1] = await held(h, c1.documentId);
  const [k2] = await held(h, c2.documentId);
  const at = new Date().toISOString();
  const r = await settleHeld(ctxAt(h, at), k1.id, 'release', 'test');
  assert.ok(!('error' in r) && r.held.status === 'APPLIED');
  assert.equal(await onHand(h), 86, 'the released adjustment applied once');
  assert.equal(await docStatus(h, c1.documentId), 'PROCESSED');
  const d = await settleHeld(ctxAt(h, at), k2.id, 'discard', 'test');
  assert.ok(!('error' in d) && d.held.status === 'DISCARDED');
  assert.equal(await docStatus(h, c2.documentId), 'DISCARDED');
  assert.equal(await onHand(h), 86);
  const again = await settleHeld(ctxAt(h, at), k2.id, 'release', 'test');
  assert.ok('error' in again && /DISCARDED already/.test(again.error));
  // What was released is now the key's content: that content again is a duplicate.
  assert.equal((await h.send('a5.x12', adjustment(44, 'ADJ-1', -7), 'demo-3pl')).status, 'DUPLICATE');
});

const dated846 = (isa13: number, purpose: '00' | '04', reportId: string, date: string, time: string | null, qty: number) =>
  x12('ACME3PL', isa13, 'IB', '846', [`BIA*${purpose}*DD*${reportId}*${date}${time ? `*${time}` : ''}`, `LIN*1*UP*${UPC}`, `QTY*17*${qty}*EA`, 'N1*WH*W*92*ACME-EAST']);

scenario('as-of times: an older snapshot does not overwrite a newer one; an adjustment a snapshot counted is not applied again; one after it counts on top', async (h) => {
  assert.equal((await h.send('s3.x12', dated846(50, '00', 'S-1203', '20261203', '0800', 45), 'demo-3pl')).status, 'PROCESSED');
  assert.equal(await onHand(h), 45);
  const old = await h.send('s1.x12', dated846(51, '00', 'S-1201', '20261201', null, 60), 'demo-3pl');
  assert.equal(old.status, 'PROCESSED', 'recorded: warnings only');
  assert.deepEqual(old.rejections.map((r) => r.code), ['GW_SNAPSHOT_STALE']);
  assert.match(old.rejections[0].message, /as of 2026-12-01T23:59:59, the position took a snapshot as of 2026-12-03T08:00:00/);
  assert.equal(await onHand(h), 45, 'the older snapshot does not overwrite the newer one');
  // An adjustment dated before the snapshot: counted in it already.
  const a1 = await h.send('a1.x12', dated846(52, '04', 'A-1202', '20261202', '1700', -5), 'demo-3pl');
  assert.deepEqual(a1.rejections.map((r) => r.code), ['GW_MOVEMENT_IN_SNAPSHOT']);
  assert.equal(await onHand(h), 45);
  // One dated after it applies; a snapshot older than that adjustment (but newer than the last
  // snapshot) states what was there then, and the adjustment counts on top of it.
  assert.equal((await h.send('a2.x12', dated846(53, '04', 'A-1204', '20261204', '0900', -5), 'demo-3pl')).status, 'PROCESSED');
  assert.equal(await onHand(h), 40);
  assert.equal((await h.send('s4.x12', dated846(54, '00', 'S-1204', '20261204', '0600', 50), 'demo-3pl')).status, 'PROCESSED');
  assert.equal(await onHand(h), 45, '50 as of 06:00, less the 5 adjusted at 09:00');
  const div = await h.db('divergences').orderBy('id', 'desc').first();
  assert.deepEqual([num(div.before) / U, num(div.after) / U], [40, 45]);
  // The log still adds up to the positions.
  const sum = await h.db('movements').where({ item: 'WIDGET-S', location: 'ACME-EAST' }).sum({ n: 'd_on_hand' });
  assert.equal(num(sum[0].n) / U, 45);
});

scenario('a shipment dated before the snapshot the position took is in that snapshot: its PO ships, on hand does not move again', async (h) => {
  await h.send('po.x12', order(2, 'PO-6', 4), 'demo-retail');
  await h.send('s.x12', dated846(60, '00', 'S-1205', '20261205', '1200', 80), 'demo-3pl');
  const ship = shipment('SH-6', 'PO-6', 4).replace('shipDate="2026-11-21"', 'shipDate="2026-12-04"');
  const r = await h.send('ship.xml', ship, 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.equal(await onHand(h), 80);
  assert.equal(await committed(h), 0);
  assert.deepEqual(await orderOf(h, 'PO-6'), { committed: 0, shipped: 4, status: 'SHIPPED' });
  const m = await h.db('movements').where({ kind: 'ship' }).first();
  assert.equal(m.reason, 'counted in snapshot 2026-12-05T12:00:00');
  assert.equal(m.as_of, '2026-12-04T23:59:59');
});

/** An 860 from BigBox: POC lines [line, change type, new quantity, UPC]. */
function change860(isa13: number, poNumber: string, seq: string, lines: [string, string, number, string][], purpose = '04'): string {
  return x12('BIGBOX', isa13, 'PC', '860', [`BCH*${purpose}*SA*${poNumber}**${seq}*20261120`, ...lines.map(([n, type, qty, upc]) => `POC*${n}*${type}*${qty}*0*EA*1*PE*UP*${upc}`), `CTT*${lines.length}`]);
}
const bbOrder = (isa13: number, poNumber: string, lines: string[]) => x12('BIGBOX', isa13, 'PO', '850', [`BEG*00*SA*${poNumber}**20261120`, 'N1*ST*STORE 442*92*0442', ...lines, `CTT*${lines.length}`]);
const M_UPC = '012345678912'; // WIDGET-M

async function bbLines(h: Harness, poNumber: string): Promise<{ status: string; lines: Record<string, [string, number, number, number, string]> }> {
  const o = await h.db('orders').where({ po_number: poNumber, partner_id: 'demo-bigbox' }).first();
  const rows = await h.db('order_lines').where({ order_id: o.id }).orderBy('line_number');
  return { status: String(o.status), lines: Object.fromEntries(rows.map((r) => [r.line_number, [String(r.item), num(r.ordered) / U, num(r.committed) / U, num(r.shipped) / U, String(r.status)]])) };
}

scenario('860 changes: quantities up and down, a line deleted, a line added; commitments follow, and changes out of order end as in order', async (h) => {
  await h.send('m.x12', inv(70, [[`LIN*1*UP*${M_UPC}`, 'QTY*17*50*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
  assert.equal((await h.send('po.x12', bbOrder(71, 'BB-1', [`PO1*1*5*EA*1*PE*UP*${UPC}`, `PO1*2*4*EA*1*PE*UP*${M_UPC}`]), 'demo-bigbox')).status, 'PROCESSED');
  const c1 = await h.send('c1.x12', change860(72, 'BB-1', '1', [['1', 'QI', 8, UPC], ['3', 'AI', 6, M_UPC]]), 'demo-bigbox');
  assert.equal(c1.status, 'PROCESSED', JSON.stringify(c1.rejections));
  assert.deepEqual(await bbLines(h, 'BB-1'), { status: 'OPEN', lines: { '1': ['WIDGET-S', 8, 8, 0, 'OPEN'], '2': ['WIDGET-M', 4, 4, 0, 'OPEN'], '3': ['WIDGET-M', 6, 6, 0, 'OPEN'] } });
  // Change 3 comes before change 2: the line ends as change 3 says; change 2's delete of line 2 still applies.
  assert.equal((await h.send('c3.x12', change860(73, 'BB-1', '3', [['1', 'QD', 2, UPC]]), 'demo-bigbox')).status, 'PROCESSED');
  const c2 = await h.send('c2.x12', change860(74, 'BB-1', '2', [['1', 'QI', 9, UPC], ['2', 'DI', 0, M_UPC]]), 'demo-bigbox');
  assert.equal(c2.status, 'PROCESSED', JSON.stringify(c2.rejections));
  assert.deepEqual(await bbLines(h, 'BB-1'), { status: 'OPEN', lines: { '1': ['WIDGET-S', 2, 2, 0, 'OPEN'], '2': ['WIDGET-M', 4, 0, 0, 'CANCELLED'], '3': ['WIDGET-M', 6, 6, 0, 'OPEN'] } });
  assert.equal(await committed(h), 2);
  assert.equal((await positions.get(h.db, 'WIDGET-M', 'ACME-EAST')).committed / U, 6);
  // The same change again is a duplicate; other content under the same change number is held.
  assert.equal((await h.send('c2b.x12', change860(75, 'BB-1', '2', [['1', 'QI', 9, UPC], ['2', 'DI', 0, M_UPC]]), 'demo-bigbox')).status, 'DUPLICATE');
  assert.equal((await h.send('c2c.x12', change860(76, 'BB-1', '2', [['1', 'QI', 7, UPC]]), 'demo-bigbox')).status, 'HELD');
  // An 860 cancel (BCH01 01) cancels the order.
  await h.send('cx.x12', change860(77, 'BB-1', '4', [], '01'), 'demo-bigbox');
  assert.equal((await bbLines(h, 'BB-1')).status, 'CANCELLED');
  assert.equal(await committed(h), 0);
  assert.equal((await positions.get(h.db, 'WIDGET-M', 'ACME-EAST')).committed, 0);
});

scenario('a change before its PO waits for it; a change below what shipped keeps the shipment and says so; an 850 replace deletes what it leaves out', async (h) => {
  const early = await h.send('c.x12', change860(80, 'BB-2', '1', [['1', 'QI', 7, UPC]]), 'demo-bigbox');
  assert.equal(early.status, 'WAITING');
  await h.send('po.x12', bbOrder(81, 'BB-2', [`PO1*1*5*EA*1*PE*UP*${UPC}`]), 'demo-bigbox');
  assert.deepEqual((await bbLines(h, 'BB-2')).lines['1'], ['WIDGET-S', 7, 7, 0, 'OPEN']);
  const ship = `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="SH-BB2" shipDate="2026-11-21"><Warehouse code="ACME-EAST">W</Warehouse><Order number="BB-2" customer="demo-bigbox"><Carton><Line number="1"><Upc>${UPC}</Upc><Qty uom="EA">6</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`;
  assert.equal((await h.send('s.xml', ship, 'demo-3pl')).status, 'PROCESSED');
  const late = await h.send('c2.x12', change860(82, 'BB-2', '2', [['1', 'QD', 4, UPC]]), 'demo-bigbox');
  assert.deepEqual(late.rejections.map((r) => r.code), ['GW_ORDER_CHANGED_AFTER_SHIP']);
  assert.deepEqual(await bbLines(h, 'BB-2'), { status: 'SHIPPED', lines: { '1': ['WIDGET-S', 4, 0, 6, 'OPEN'] } });
  assert.equal(await committed(h), 0);
  // 850 BEG01=05: the PO as it is now; line 2 left out is deleted, line 1 set to 3.
  await h.send('po3.x12', bbOrder(83, 'BB-3', [`PO1*1*5*EA*1*PE*UP*${UPC}`, `PO1*2*2*EA*1*PE*UP*${UPC}`]), 'demo-bigbox');
  assert.equal(await committed(h), 7);
  const rep = await h.send('rep.x12', bbOrder(84, 'BB-3', [`PO1*1*3*EA*1*PE*UP*${UPC}`]).replace('BEG*00', 'BEG*05'), 'demo-bigbox');
  assert.equal(rep.status, 'PROCESSED', JSON.stringify(rep.rejections));
  assert.deepEqual(await bbLines(h, 'BB-3'), { status: 'OPEN', lines: { '1': ['WIDGET-S', 3, 3, 0, 'OPEN'], '2': ['WIDGET-S', 2, 0, 0, 'CANCELLED'] } });
  assert.equal(await committed(h), 3);
});

const ROOT_SAMPLES = new URL('../../samples/', import.meta.url);
const sample = (p: string) => readFileSync(new URL(p, ROOT_SAMPLES), 'latin1');
const inTransit = async (h: Harness, item = 'WIDGET-S') => (await positions.get(h.db, item, 'ACME-EAST')).inTransit / U;
const hold = async (h: Harness) => (await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).hold / U;

scenario('supply: a notice puts stock in transit; the receipt clears it into on hand; a cancelling notice takes off what did not come', async (h) => {
  const n = await h.send('n.x12', sample('demo-supplier/856-notice.x12'), 'demo-supplier');
  assert.equal(n.status, 'PROCESSED', JSON.stringify(n.rejections));
  assert.deepEqual([await inTransit(h), await inTransit(h, 'WIDGET-M')], [100, 40]);
  const r = await h.send('r.x12', sample('demo-3pl/944-receipt.x12'), 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.deepEqual([await inTransit(h), await onHand(h)], [40, 160], '60 received of 100: 40 still on its way');
  assert.deepEqual([await inTransit(h, 'WIDGET-M'), (await positions.get(h.db, 'WIDGET-M', 'ACME-EAST')).onHand / U], [0, 40]);
  assert.equal((await h.db('supply').first()).status, 'PARTIAL');
  // The receipt again under a new ISA13: a duplicate, nothing moves.
  assert.equal((await h.send('r2.x12', sample('demo-3pl/944-receipt.x12').replace(/000002101/g, '000002199'), 'demo-3pl')).status, 'DUPLICATE');
  assert.equal(await onHand(h), 160);
  // The supplier cancels the rest: what did not come leaves in transit (never below zero, never doubled).
  const cancel = sample('demo-supplier/856-notice.x12').replace('BSN*00*', 'BSN*01*').replace(/000007001/g, '000007002');
  assert.equal((await h.send('c.x12', cancel, 'demo-supplier')).status, 'PROCESSED');
  assert.deepEqual([await inTransit(h), await onHand(h)], [0, 160]);
  assert.equal((await h.db('supply').first()).status, 'CANCELLED');
  assert.equal((await h.send('c2.x12', cancel.replace(/000007002/g, '000007003'), 'demo-supplier')).status, 'DUPLICATE');
  assert.equal(await inTransit(h), 0);
});

scenario('supply out of order: a receipt before its notice waits for it; a cancel before its notice too', async (h) => {
  const r = await h.send('r.x12', sample('demo-3pl/944-receipt.x12'), 'demo-3pl');
  assert.equal(r.status, 'WAITING');
  assert.equal(await onHand(h), 100);
  await h.send('n.x12', sample('demo-supplier/856-notice.x12'), 'demo-supplier');
  assert.deepEqual([await inTransit(h), await onHand(h)], [40, 160]);
  const cancel = sample('demo-supplier/856-notice.x12').replace('BSN*00*WW-SHP-1', 'BSN*01*WW-SHP-2').replace(/000007001/g, '000007005');
  assert.equal((await h.send('c.x12', cancel, 'demo-supplier')).status, 'WAITING');
  await h.send('n2.x12', sample('demo-supplier/856-notice.x12').replace('WW-SHP-1', 'WW-SHP-2').replace(/000007001/g, '000007006'), 'demo-supplier');
  assert.equal(await inTransit(h), 40, 'the second notice came and its waiting cancel took it off again');
});

scenario('a customer return (944 with N9*RMA) goes to hold, not to sellable stock', async (h) => {
  const r = await h.send('ret.x12', sample('demo-3pl/944-return.x12'), 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.deepEqual([await onHand(h), await hold(h)], [102, 2]);
  const m = await h.db('movements').where({ kind: 'return' }).first();
  assert.equal(m.ref, 'RET-0042');
});

scenario('an 846 change report naming the supplier\'s shipment (REF*SI) is its receipt: on hand up, in transit down; before the notice it waits', async (h) => {
  const report = (isa: number, id: string, qty: number) => x12('ACME3PL', isa, 'IB', '846', [`BIA*04*DD*${id}*20261124*1000`, 'REF*SI*WW-SHP-1', `LIN*1*UP*${UPC}`, `QTY*17*${qty}*EA`, 'N1*WH*W*92*CMH1']);
  const early = await h.send('r0.x12', report(90, 'RCPT-0', 30), 'demo-3pl');
  assert.equal(early.status, 'WAITING');
  assert.equal(await onHand(h), 100);
  await h.send('n.x12', sample('demo-supplier/856-notice.x12'), 'demo-supplier');
  assert.deepEqual([await inTransit(h), await onHand(h)], [70, 130]);
  assert.equal((await h.send('r1.x12', report(91, 'RCPT-1', 70), 'demo-3pl')).status, 'PROCESSED');
  assert.deepEqual([await inTransit(h), await onHand(h)], [0, 200]);
  assert.deepEqual((await h.db('supply_lines').where({ item: 'WIDGET-S' }).select('expected', 'received')).map((r) => [num(r.expected) / U, num(r.received) / U]), [[100, 100]]);
});

scenario('a cancel and its PO in one file, the cancel first: the PO is created and cancelled, and the document is PROCESSED, not WAITING', async (h) => {
  const body = (purpose: string) => [`BEG*${purpose}*SA*PO-ONE**20261120`, 'N1*ST*S*92*0017', `PO1*1*3*EA*1*PE*UP*${UPC}`, 'CTT*1'];
  const set = (n: number, segs: string[]) => [`ST*850*000${n}`, ...segs, `SE*${segs.length + 2}*000${n}`];
  const text = [
    'ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*000000095*0*P*>',
    'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*95*X*004010',
    ...set(1, body('01')),
    ...set(2, body('00')),
    'GE*2*95',
    'IEA*1*000000095',
  ].join('~\n') + '~\n';
  const r = await h.send('both.x12', text, 'demo-retail');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.deepEqual(await orderOf(h, 'PO-ONE'), { committed: 0, shipped: 0, status: 'CANCELLED' });
  assert.deepEqual((await held(h, r.documentId)).map((x) => x.status), ['APPLIED']);
});
