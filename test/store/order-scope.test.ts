import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { positions } from '../../src/store/availability-repository.ts';
import { num } from '../../src/store/db.ts';
import { harness, inv, x12, type Backend, type Harness } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * A PO is (partner, PO number): the same PO-777 at two retailers. A 3PL shipment is applied to the
 * order of the partner it names (customer), else of the only partner with that PO number, else of
 * the one whose PO went to the shipment's ship-to; otherwise it is a coded problem and nothing of
 * that order is applied (never a guess). The ASN goes to that partner only.
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
  if (!pg && process.env.CI) throw new Error('PostgreSQL server binaries not found (CI installs them)');
});
after(() => pg?.stop());

const UPC = '012345678905'; // WIDGET-S

function po777(from: string, isa13: number, store: string, qty: number): string {
  return x12(from, isa13, 'PO', '850', ['BEG*00*SA*PO-777**20261120', `N1*ST*STORE ${store}*92*${store}`, `PO1*1*${qty}*EA*1*PE*UP*${UPC}`, 'CTT*1']);
}

function shipment(id: string, opts: { customer?: string; shipTo?: string; qty: number }): string {
  const customer = opts.customer ? ` customer="${opts.customer}"` : '';
  const shipTo = opts.shipTo ? `<ShipTo code="${opts.shipTo}">S</ShipTo>` : '';
  return `<?xml version="1.0"?><ShipmentConfirmation><Shipment id="${id}" shipDate="2026-11-21"><Warehouse code="ACME-EAST">W</Warehouse>${shipTo}<Order number="PO-777"${customer}><Carton><Line number="1"><Upc>${UPC}</Upc><Qty uom="EA">${opts.qty}</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>`;
}

async function line(h: Harness, partner: string): Promise<{ committed: number; shipped: number; status: string }> {
  const r = await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where({ 'o.po_number': 'PO-777', 'o.partner_id': partner }).select('l.committed', 'l.shipped', 'o.status').first();
  return { committed: num(r.committed) / 10_000, shipped: num(r.shipped) / 10_000, status: String(r.status) };
}

async function asnsTo(h: Harness): Promise<string[]> {
  return (await h.db('outbox').where({ kind: '856' }).orderBy('id')).map((r) => String(r.partner_id));
}

async function setUp(backend: Backend, opts: Parameters<typeof harness>[2] = {}): Promise<Harness> {
  const h = await harness(backend, pg, opts);
  await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC}`, 'QTY*17*100*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
  assert.equal((await h.send('r.x12', po777('RETAILCO', 2, '0017', 5), 'demo-retail')).status, 'PROCESSED');
  assert.equal((await h.send('b.x12', po777('BIGBOX', 3, '0442', 7), 'demo-bigbox')).status, 'PROCESSED');
  return h;
}

/** A test on both backends, each with the two PO-777s in place. */
function scenario(name: string, body: (h: Harness) => Promise<void>): void {
  for (const backend of ['sqlite', 'pg'] as const) {
    test(`${backend}: ${name}`, async (t) => {
      if (backend === 'pg' && !pg) return t.skip('no PostgreSQL');
      const h = await setUp(backend);
      try {
        await body(h);
      } finally {
        await h.close();
      }
    });
  }
}

scenario('the same PO number at two retailers: a shipment goes to the order of the customer it names, and its ASN to that retailer only', async (h) => {
  const r = await h.send('sh1.xml', shipment('SH-1', { customer: 'demo-bigbox', qty: 7 }), 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.deepEqual(await line(h, 'demo-bigbox'), { committed: 0, shipped: 7, status: 'SHIPPED' });
  assert.deepEqual(await line(h, 'demo-retail'), { committed: 5, shipped: 0, status: 'OPEN' });
  assert.deepEqual(await asnsTo(h), ['demo-bigbox']);
  // The customer may be named by its interchange id too.
  const r2 = await h.send('sh2.xml', shipment('SH-2', { customer: 'RETAILCO', qty: 5 }), 'demo-3pl');
  assert.equal(r2.status, 'PROCESSED', JSON.stringify(r2.rejections));
  assert.deepEqual(await line(h, 'demo-retail'), { committed: 0, shipped: 5, status: 'SHIPPED' });
  assert.deepEqual(await asnsTo(h), ['demo-bigbox', 'demo-retail']);
  assert.equal((await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).onHand, 88 * 10_000);
});

scenario('with no customer, the ship-to tells the two PO-777s apart; when nothing does, it is GW_ORDER_AMBIGUOUS and nothing of it is applied', async (h) => {
  const r = await h.send('sh1.xml', shipment('SH-1', { shipTo: '0017', qty: 5 }), 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
  assert.deepEqual(await line(h, 'demo-retail'), { committed: 0, shipped: 5, status: 'SHIPPED' });
  assert.deepEqual(await line(h, 'demo-bigbox'), { committed: 7, shipped: 0, status: 'OPEN' });
  assert.deepEqual(await asnsTo(h), ['demo-retail']);

  const onHand = (await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).onHand;
  for (const [name, xml] of [
    ['no ship-to', shipment('SH-2', { qty: 7 })],
    ['another store', shipment('SH-3', { shipTo: '9999', qty: 7 })],
  ] as const) {
    const bad = await h.send(`${name}.xml`, xml, 'demo-3pl');
    assert.notEqual(bad.status, 'PROCESSED', name);
    assert.equal(bad.errorCode, 'GW_ORDER_AMBIGUOUS', name);
    assert.match(bad.errorMessage ?? '', /demo-retail and demo-bigbox/);
  }
  const unknown = await h.send('unknown.xml', shipment('SH-4', { customer: 'NOBODY', qty: 7 }), 'demo-3pl');
  assert.equal(unknown.errorCode, 'GW_ORDER_PARTNER_UNKNOWN');
  // Nothing of the refused shipments moved stock, orders or ASNs.
  assert.equal((await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).onHand, onHand);
  assert.deepEqual(await line(h, 'demo-bigbox'), { committed: 7, shipped: 0, status: 'OPEN' });
  assert.deepEqual(await asnsTo(h), ['demo-retail']);
  const dead = await h.db('documents').whereIn('error_code', ['GW_ORDER_AMBIGUOUS', 'GW_ORDER_PARTNER_UNKNOWN']).select('status');
  assert.equal(dead.length, 3);
  for (const d of dead) assert.ok(['REJECTED', 'PARTIAL'].includes(d.status), d.status);
});

test('sqlite: a 3PL configured to ship one retailer\'s POs (shipmentCustomer): a shipment naming no customer ships that retailer\'s PO-777', async () => {
  const h = await setUp('sqlite', { partners: (list) => list.map((p) => (p.id === 'demo-3pl' ? { ...p, shipmentCustomer: 'demo-bigbox' } : p)) });
  try {
    const r = await h.send('sh.xml', shipment('SH-CFG', { qty: 7 }), 'demo-3pl');
    assert.equal(r.status, 'PROCESSED', JSON.stringify(r.rejections));
    assert.deepEqual(await line(h, 'demo-bigbox'), { committed: 0, shipped: 7, status: 'SHIPPED' });
    assert.deepEqual(await line(h, 'demo-retail'), { committed: 5, shipped: 0, status: 'OPEN' });
    assert.deepEqual(await asnsTo(h), ['demo-bigbox']);
  } finally {
    await h.close();
  }
});
