import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { positions } from '../../src/store/availability-repository.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { toUnits } from '../../src/domain/quantity.ts';
import { demo, po850, processText, ROOT, snapshot846, tempDir } from '../helpers.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/** Events move the availability store; rebuilding from the movement log gives the same numbers. */
const ctx = demo();
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
  if (!pg) console.error('\n*** PostgreSQL server binaries not found: the PostgreSQL availability tests are SKIPPED ***\n');
});
after(() => pg?.stop());
const u = (s: string) => toUnits(s)!;

function backend(name: 'sqlite' | 'pg') {
  describe(`availability on ${name}`, () => {
let db: Db;
let h: Parameters<typeof processText>[0];

before(async () => {
  if (name === 'pg' && !pg) return;
  const dir = tempDir('gw-avail-');
  db = name === 'sqlite' ? await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') }) : await openDb({ client: 'pg', connection: pg!.url });
  if (name === 'pg') for (const t of ['held_events', 'business_keys', 'divergences', 'order_lines', 'orders', 'movements', 'positions', 'publications', 'outbox', 'rejections', 'events', 'interchanges', 'documents', 'counters']) await db(t).delete();
  h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: ctx.partners, mappings: ctx.mappings };
});
after(() => db?.destroy());

const p = (item: string, loc: string) => positions.get(db, item, loc);
test('snapshot, order (commit + backorder), shipment confirmation, returns; rebuild gives the same numbers', async (t) => {
  if (!db) return t.skip('no PostgreSQL');
  // 3PL stock: WIDGET-S 30 at EAST and 8 at WEST.
  const snap = await processText(h, 'snap.x12', snapshot846(201, [['012345678905', 'ACME-EAST', '30'], ['012345678905', 'ACME-WEST', '8']]), 'demo-3pl');
  assert.equal(snap.status, 'PROCESSED');
  assert.equal((await p('WIDGET-S', 'ACME-EAST')).onHand, u('30'));
  assert.equal((await db('divergences')).length, 2);

  // A PO for 40: 30 committed at EAST (most available), 10 backordered.
  const po = await processText(h, 'po.x12', po850(202, 'PO-202', { qty: '40' }), 'demo-retail');
  assert.equal(po.status, 'PROCESSED');
  const east = await p('WIDGET-S', 'ACME-EAST');
  assert.equal(east.committed, u('30'));
  const order = await db('orders').where({ po_number: 'PO-202' }).first();
  assert.equal(order.status, 'BACKORDERED');
  const line = await db('order_lines').where({ order_id: order.id }).first();
  assert.deepEqual([Number(line.committed), Number(line.backordered), line.location], [u('30'), u('10'), 'ACME-EAST']);

  // The 3PL ships 12 of it: on hand and commitment both drop by 12.
  const asn = readFileSync(path.join(ROOT, 'samples/demo-3pl/856-asn.x12'), 'latin1').replace(/PO-1001/g, 'PO-202').replace(/\*000002002\*/, '*000000203*').replace('IEA*1*000002002', 'IEA*1*000000203');
  const shipped = await processText(h, 'asn.x12', asn, 'demo-3pl');
  assert.equal(shipped.status, 'PROCESSED');
  const afterShip = await p('WIDGET-S', 'ACME-EAST');
  // The sample ships 24 WIDGET-S (2 packs of 12) and 12 WIDGET-M from ACME-EAST.
  assert.equal(afterShip.onHand, u('6'));
  assert.equal(afterShip.committed, u('6'));
  // Shipping stock we never saw: on hand stays at zero (no negative position), and the movement says so.
  assert.equal((await p('WIDGET-M', 'ACME-EAST')).onHand, 0);
  const noted = await db('movements').where({ item: 'WIDGET-M', kind: 'ship', document_id: shipped.documentId }).first();
  assert.equal(noted.reason, 'shipped 12, on hand was 0');

  // A new snapshot (dated after the shipment of 2026-11-21) replaces on hand and reports the divergence.
  await processText(h, 'snap2.x12', snapshot846(204, [['012345678905', 'ACME-EAST', '5']], { date: '20261122' }), 'demo-3pl');
  const div = await db('divergences').where({ item: 'WIDGET-S', location: 'ACME-EAST' }).orderBy('id', 'desc').first();
  assert.deepEqual([Number(div.before), Number(div.after), Number(div.diff)], [u('6'), u('5'), u('-1')]);

  // Rebuild from the log: the same numbers, column for column.
  const before = await db('positions').orderBy(['item', 'location']).select('item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'wh_held', 'safety_stock');
  assert.ok(before.length >= 3);
  await db.transaction((trx) => positions.rebuild(trx));
  const afterRebuild = await db('positions').orderBy(['item', 'location']).select('item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'wh_held', 'safety_stock');
  assert.deepEqual(afterRebuild, before);
});

test('a cancelled PO releases its commitments', async (t) => {
  if (!db) return t.skip('no PostgreSQL');
  await processText(h, 'snap3.x12', snapshot846(301, [['012345678912', 'ACME-WEST', '50']]), 'demo-3pl');
  const text = po850(302, 'PO-302', { qty: '20' }).replace('UP*012345678905', 'UP*012345678912');
  await processText(h, 'po3.x12', text, 'demo-retail');
  assert.equal((await p('WIDGET-M', 'ACME-WEST')).committed, u('20'));
  const cancel = po850(303, 'PO-302').replace('BEG*00*SA*PO-302', 'BEG*01*SA*PO-302');
  const r = await processText(h, 'cancel.x12', cancel, 'demo-retail');
  assert.equal(r.status, 'PROCESSED');
  assert.equal((await p('WIDGET-M', 'ACME-WEST')).committed, 0);
  assert.equal((await db('orders').where({ po_number: 'PO-302' }).first()).status, 'CANCELLED');
});

test('a rejected or duplicate document moves nothing', async (t) => {
  if (!db) return t.skip('no PostgreSQL');
  const before = await db('movements').count({ n: '*' }).first();
  await processText(h, 'dup.x12', snapshot846(301, [['012345678912', 'ACME-WEST', '999']]), 'demo-3pl');
  await processText(h, 'bad.x12', snapshot846(401, [['012345678912', 'ACME-WEST', '999']]).replace('IEA*1*000000401', 'IEA*1*000000402'), 'demo-3pl');
  const afterCount = await db('movements').count({ n: '*' }).first();
  assert.equal(Number(afterCount!.n), Number(before!.n));
  assert.equal((await p('WIDGET-M', 'ACME-WEST')).onHand, u('50'));
});

test('a trailer error withdraws exactly its interchange or group: events and stock movements alike', async (t) => {
  if (!db) return t.skip('no PostgreSQL');
  const good = snapshot846(501, [['012345678929', 'ACME-EAST', '70']]);
  const bad = snapshot846(502, [['012345678929', 'ACME-WEST', '80']]).replace('IEA*1*000000502', 'IEA*1*000000599');
  const r = await processText(h, 'mix.x12', good + bad, 'demo-3pl');
  assert.equal(r.status, 'PARTIAL');
  assert.equal((await p('WIDGET-L', 'ACME-EAST')).onHand, u('70'));
  assert.equal((await p('WIDGET-L', 'ACME-WEST')).onHand, 0, 'the rejected interchange moved nothing');
  assert.equal((await db('events').where({ document_id: r.documentId })).length, 1);
  assert.equal((await db('divergences').where({ document_id: r.documentId })).length, 1);
  // Two groups in one interchange, the second broken at its GE.
  const two = snapshot846(503, [['012345678929', 'ACME-EAST', '71']]).replace(
    'GE*1*503~\n',
    'GE*1*503~\nGS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*504*X*004010~\nST*846*0001~\nBIA*00*DD*X*20261120~\nLIN*1*UP*012345678929~\nQTY*17*90*EA~\nN1*WH*W*92*ACME-WEST~\nSE*6*0001~\nGE*1*999~\n',
  ).replace('IEA*1*', 'IEA*2*');
  const r2 = await processText(h, 'two.x12', two, 'demo-3pl');
  assert.equal(r2.status, 'PARTIAL', JSON.stringify(r2.rejections.map((x) => x.code)));
  assert.equal((await p('WIDGET-L', 'ACME-EAST')).onHand, u('71'));
  assert.equal((await p('WIDGET-L', 'ACME-WEST')).onHand, 0);
});

test('an 846 change report (BIA01=04) applies deltas, not absolute values', async (t) => {
  if (!db) return t.skip('no PostgreSQL');
  await processText(h, 'base.x12', snapshot846(601, [['098765432109', 'ACME-EAST', '10']]), 'demo-3pl');
  const delta = snapshot846(602, [['098765432109', 'ACME-EAST', '-3']], { purpose: '04' });
  const r = await processText(h, 'delta.x12', delta, 'demo-3pl');
  assert.equal(r.status, 'PROCESSED');
  assert.equal((await p('GADGET-1', 'ACME-EAST')).onHand, u('7'));
  const m = await db('movements').where({ document_id: r.documentId }).first();
  assert.equal(m.kind, 'adjustment');
});
  });
}

backend('sqlite');
backend('pg');

test('the bulk SQL snapshot agrees with the domain rule (planSnapshot) on random data', async () => {
  const { planSnapshot, emptyPosition, applyTo } = await import('../../src/domain/availability.ts');
  const dir = tempDir('gw-snap-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const items = Array.from({ length: 40 }, (_, i) => `I${i}`);
  const locs = ['A', 'B', 'C'];
  // Start from random positions.
  const start: import('../../src/domain/availability.ts').Movement[] = [];
  for (const i of items) for (const l of locs) if (rnd(3)) start.push({ item: i, location: l, kind: 'adjustment' as const, dOnHand: rnd(100) * 10_000, dCommitted: rnd(10) * 10_000, dInTransit: 0, dHold: rnd(5) * 10_000, dDamaged: rnd(5) * 10_000, dWhHeld: rnd(4) * 10_000, dSafety: 0 });
  await db.transaction((trx) => positions.apply(trx, start, { eventSeq: null, documentId: null, partnerId: null, at: 'x' }));
  const model = new Map<string, ReturnType<typeof emptyPosition>>();
  for (const m of start) {
    const k = `${m.item}\u0000${m.location}`;
    if (!model.has(k)) model.set(k, emptyPosition(m.item, m.location));
    applyTo(model.get(k)!, m);
  }
  // A random snapshot: some lines restate, some change, some give only damaged or hold, some are new.
  const lines: import('../../src/domain/availability.ts').SnapshotLine[] = [];
  for (let n = 0; n < 150; n++) {
    const line: import('../../src/domain/availability.ts').SnapshotLine = { item: items[rnd(items.length)], location: locs[rnd(3)] };
    if (rnd(4)) line.onHand = rnd(100) * 10_000;
    if (!rnd(3)) line.damaged = rnd(5) * 10_000;
    if (!rnd(4)) line.hold = rnd(5) * 10_000;
    if (!rnd(3)) line.whHeld = rnd(6) * 10_000;
    lines.push(line);
  }
  const plan = planSnapshot(lines, (i, l) => model.get(`${i}\u0000${l}`) ?? emptyPosition(i, l));
  for (const m of plan.movements) {
    const k = `${m.item}\u0000${m.location}`;
    if (!model.has(k)) model.set(k, emptyPosition(m.item, m.location));
    applyTo(model.get(k)!, m);
  }
  const r = await db.transaction((trx) => positions.applySnapshot(trx, lines, { eventSeq: 1, documentId: 1, partnerId: 'p', at: 'x' }));
  assert.equal(r.movements, plan.movements.length);
  assert.equal(r.divergences, plan.divergences.length);
  const rows = await db('positions');
  for (const row of rows) {
    const m = model.get(`${row.item}\u0000${row.location}`)!;
    assert.deepEqual([Number(row.on_hand), Number(row.hold), Number(row.damaged), Number(row.committed), Number(row.wh_held)], [m.onHand, m.hold, m.damaged, m.committed, m.whHeld], `${row.item}@${row.location}`);
  }
  const divs = (await db('divergences')).map((d) => `${d.item}@${d.location}:${Number(d.before)}>${Number(d.after)}`).sort();
  assert.deepEqual(divs, plan.divergences.map((d) => `${d.item}@${d.location}:${d.before}>${d.after}`).sort());
  // And the log still rebuilds to the same positions.
  const before = await db('positions').orderBy(['item', 'location']).select('item', 'location', 'on_hand', 'committed', 'hold', 'damaged', 'wh_held');
  await db.transaction((trx) => positions.rebuild(trx));
  assert.deepEqual(await db('positions').orderBy(['item', 'location']).select('item', 'location', 'on_hand', 'committed', 'hold', 'damaged', 'wh_held'), before);
  await db.destroy();
});
