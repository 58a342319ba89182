import assert from 'node:assert/strict';
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
const adjustment = (isa13: number, reportId: string, delta: number) => x12('ACME3PL', isa13, 'IB', '846', [`BIA*04*DD*${reportId}*20261120`, `LIN*1*UP*${UPC}`, 'N1*WH*W*92*ACME-EAST', `QTY*17*${delta}*EA`]);

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
        await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC}`, 'N1*WH*W*92*ACME-EAST', 'QTY*17*100*EA']]), 'demo-3pl');
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
