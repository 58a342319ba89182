import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { positions } from '../../src/store/availability-repository.ts';
import { num } from '../../src/store/db.ts';
import { harness, x12, type Backend } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * Property: the same set of documents (snapshots, adjustments, POs, changes, cancels, shipments,
 * a supplier's notice, its receipt and its cancellation), in any order they may arrive, ends in the
 * same positions and the same order states as in the order they were written; nothing is left
 * waiting; and the movement log rebuilds the positions. Stock is ample, so that what an order gets
 * does not depend on who came first (that is the promise engine's property, not this one's).
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
  if (!pg && process.env.CI) throw new Error('PostgreSQL server binaries not found (CI installs them)');
});
after(() => pg?.stop());

const UPC = '012345678905'; // WIDGET-S
interface Doc {
  name: string;
  partner: string;
  text: string;
}

const day = (d: number) => `202612${String(d).padStart(2, '0')}`;
const snap = (isa: number, id: string, d: number, qty: number): Doc => ({
  name: `${id}.x12`,
  partner: 'demo-3pl',
  text: x12('ACME3PL', isa, 'IB', '846', [`BIA*00*DD*${id}*${day(d)}*0600`, `LIN*1*UP*${UPC}`, `QTY*17*${qty}*EA`, 'N1*WH*W*92*ACME-EAST']),
});
const adjust = (isa: number, id: string, d: number, hour: number, delta: number): Doc => ({
  name: `${id}.x12`,
  partner: 'demo-3pl',
  text: x12('ACME3PL', isa, 'IB', '846', [`BIA*04*DD*${id}*${day(d)}*${String(hour).padStart(2, '0')}00`, `LIN*1*UP*${UPC}`, `QTY*17*${delta}*EA`, 'N1*WH*W*92*ACME-EAST']),
});
const RETAIL = { partner: 'demo-retail', isa: 'RETAILCO', store: '0017' };
const BIGBOX = { partner: 'demo-bigbox', isa: 'BIGBOX', store: '0442' };
const order850 = (p: typeof RETAIL, isa: number, poNumber: string, qty: number, purpose: string): Doc => ({
  name: `${poNumber}-${purpose}-${isa}.x12`,
  partner: p.partner,
  text: x12(p.isa, isa, 'PO', '850', [`BEG*${purpose}*SA*${poNumber}**20261201`, `N1*ST*S*92*${p.store}`, `PO1*1*${qty}*EA*1*PE*UP*${UPC}`, 'CTT*1']),
});
const change860 = (isa: number, poNumber: string, qty: number): Doc => ({
  name: `${poNumber}-860-${isa}.x12`,
  partner: 'demo-bigbox',
  text: x12('BIGBOX', isa, 'PC', '860', [`BCH*04*SA*${poNumber}**1*20261201`, `POC*1*QI*${qty}*0*EA*1*PE*UP*${UPC}`, 'CTT*1']),
});
const shipment = (id: string, p: typeof RETAIL, poNumber: string, qty: number, d: number): Doc => ({
  name: `${id}.xml`,
  partner: 'demo-3pl',
  text: `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="${id}" shipDate="2026-12-${String(d).padStart(2, '0')}"><Warehouse code="ACME-EAST">W</Warehouse><Order number="${poNumber}" customer="${p.partner}"><Carton><Line number="1"><Upc>${UPC}</Upc><Qty uom="EA">${qty}</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`,
});
const notice = (isa: number, purpose: string, qty: number): Doc => ({
  name: `notice-${purpose}-${isa}.x12`,
  partner: 'demo-supplier',
  text: x12('WIDGETWORKS', isa, 'SH', '856', [`BSN*${purpose}*WW-1*20261201*0800*0004`, 'HL*1**S', 'N1*ST*W*92*WH-EAST', 'HL*2*1*O', 'PRF*PO-S-1', 'HL*3*2*I', `LIN*1*UP*${UPC}`, `SN1*1*${qty}*EA`, 'CTT*3']),
});
const receipt = (isa: number, qty: number, d: number): Doc => ({
  name: `receipt-${isa}.x12`,
  partner: 'demo-3pl',
  text: x12('ACME3PL', isa, 'RE', '944', [`W17*F*${day(d)}*RCV-1*PO-S-1*WW-1`, 'N1*WH*W*92*CMH1', `W07*${qty}*EA*${UPC}`, `W14*${qty}`]),
});

const orderSpec = fc.record({
  bigbox: fc.boolean(),
  qty: fc.integer({ min: 1, max: 20 }),
  change: fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined }),
  cancel: fc.boolean(),
  ship: fc.option(fc.record({ qty: fc.integer({ min: 1, max: 20 }), day: fc.integer({ min: 1, max: 4 }) }), { nil: undefined }),
});
const scenario = fc.record({
  s0: fc.integer({ min: 200, max: 400 }),
  s1: fc.option(fc.integer({ min: 200, max: 400 }), { nil: undefined }),
  adjustments: fc.array(fc.record({ day: fc.integer({ min: 1, max: 4 }), hour: fc.integer({ min: 0, max: 23 }), delta: fc.integer({ min: -10, max: 10 }).filter((d) => d !== 0) }), { maxLength: 3 }),
  orders: fc.array(orderSpec, { minLength: 1, maxLength: 3 }),
  supply: fc.option(fc.record({ expected: fc.integer({ min: 20, max: 100 }), received: fc.integer({ min: 1, max: 100 }), cancel: fc.boolean(), day: fc.integer({ min: 2, max: 4 }) }), { nil: undefined }),
});

/** The documents of a scenario, in the order they were written. */
function toDocs(s: { s0: number; s1?: number; adjustments: { day: number; hour: number; delta: number }[]; orders: { bigbox: boolean; qty: number; change?: number; cancel: boolean; ship?: { qty: number; day: number } }[]; supply?: { expected: number; received: number; cancel: boolean; day: number } }): Doc[] {
  let isa = 100;
  const out: Doc[] = [snap(++isa, 'S0', 1, s.s0)];
  if (s.s1 !== undefined) out.push(snap(++isa, 'S1', 3, s.s1));
  s.adjustments.forEach((a, i) => out.push(adjust(++isa, `A${i}`, a.day, a.hour, a.delta)));
  s.orders.forEach((o, i) => {
    const p = o.bigbox ? BIGBOX : RETAIL;
    const poNumber = `PO-${i}`;
    out.push(order850(p, ++isa, poNumber, o.qty, '00'));
    if (o.change !== undefined) out.push(o.bigbox ? change860(++isa, poNumber, o.change) : order850(p, ++isa, poNumber, o.change, '04'));
    if (o.cancel) out.push(order850(p, ++isa, poNumber, o.qty, '01'));
    if (o.ship) out.push(shipment(`SH-${i}`, p, poNumber, o.ship.qty, o.ship.day));
  });
  if (s.supply) {
    out.push(notice(++isa, '00', s.supply.expected));
    out.push(receipt(++isa, Math.min(s.supply.received, s.supply.expected), s.supply.day));
    if (s.supply.cancel) out.push(notice(++isa, '01', s.supply.expected));
  }
  return out;
}

/** Positions, orders with their lines, and what is still held, as comparable text. */
async function outcome(backend: Backend, docs: Doc[]): Promise<{ state: string[]; rebuilt: boolean }> {
  const h = await harness(backend, pg);
  try {
    for (const d of docs) {
      const r = await h.send(d.name, d.text, d.partner);
      assert.ok(!['REJECTED', 'PARKED', 'HELD'].includes(r.status), `${d.name}: ${r.status} ${JSON.stringify(r.rejections)}`);
    }
    const cols = ['item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'wh_held'];
    const pos = (await h.db('positions').orderBy(['item', 'location']).select(cols)).map((r) => cols.map((c) => String(r[c])).join(' '));
    const orders = (await h.db('orders').orderBy(['partner_id', 'po_number'])).map((o) => `${o.partner_id} ${o.po_number} ${o.status}`);
    // A line's location says where it holds or shipped stock: with nothing committed or shipped it
    // is only where it once was committed (a line cancelled before any stock came never had one).
    const lines = (await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').orderBy(['o.partner_id', 'o.po_number', 'l.line_number']).select('o.po_number', 'l.*')).map(
      (l) => `${l.po_number}/${l.line_number} ${l.item} ${num(l.committed) || num(l.shipped) ? l.location : '-'} ${num(l.ordered)} ${num(l.committed)} ${num(l.backordered)} ${num(l.shipped)} ${l.status}`,
    );
    const waiting = (await h.db('held_events').whereIn('status', ['WAITING', 'CONFLICT'])).map((r) => `held ${r.status} ${r.waits_for}`);
    const supply = (await h.db('supply').orderBy('shipment_id')).map((r) => `supply ${r.shipment_id} ${r.status}`);
    await h.db.transaction((trx) => positions.rebuild(trx));
    const again = (await h.db('positions').orderBy(['item', 'location']).select(cols)).map((r) => cols.map((c) => String(r[c])).join(' '));
    return { state: [...pos, ...orders, ...lines, ...waiting, ...supply], rebuilt: JSON.stringify(again) === JSON.stringify(pos) };
  } finally {
    await h.close();
  }
}

function property(backend: Backend, runs: number) {
  return fc.assert(
    fc.asyncProperty(
      scenario.chain((s) => {
        const docs = toDocs(s);
        return fc.tuple(fc.constant(docs), fc.shuffledSubarray(docs, { minLength: docs.length, maxLength: docs.length }));
      }),
      async ([written, arrived]) => {
        const a = await outcome(backend, written);
        const b = await outcome(backend, arrived);
        assert.ok(a.rebuilt && b.rebuilt, 'the movement log rebuilds the positions');
        if (JSON.stringify(b.state) !== JSON.stringify(a.state)) {
          const only = (x: string[], y: string[]) => x.filter((v) => !y.includes(v));
          assert.fail(`written as ${written.map((d) => d.name).join(', ')}\narrived as ${arrived.map((d) => d.name).join(', ')}\nwritten order only: ${only(a.state, b.state).join(' | ')}\narrived order only: ${only(b.state, a.state).join(' | ')}`);
        }
        assert.ok(!a.state.some((x) => x.startsWith('held ')), 'nothing is left waiting once everything arrived');
      },
    ),
    { numRuns: runs, endOnFailure: true, reporter: (r) => { if (r.failed) throw new Error(`${String((r.errorInstance as Error | undefined)?.message ?? r.errorInstance)}\n(seed ${r.seed}, path ${r.counterexamplePath})`); } },
  );
}

test('property on SQLite: documents in any order end in the same positions and order states, equal to a rebuild', () => property('sqlite', Number(process.env.PROPERTY_RUNS ?? 40)));
test('property on PostgreSQL: the same', async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  await property('pg', Number(process.env.PROPERTY_RUNS_PG ?? 6));
});
