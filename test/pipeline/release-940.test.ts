import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openDb } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { silentLogger } from '../../src/core/ports.ts';
import { GatewayPipeline } from '../../src/pipeline/gateway-pipeline.ts';
import { demo, po850, processText, ROOT, snapshot846, tempDir } from '../helpers.ts';
import { golden, readBack } from './outbound-golden.ts';
import { x12 } from '../store/promise-harness.ts';

/**
 * 940 warehouse shipping orders (issue 13): what of a PO is committed goes to the 3PL holding its
 * location, one 940 per location, byte for byte (samples/outbound/940-*.x12; UPDATE_GOLDEN=1
 * rewrites for review); a backorder filled later is a further release of only the rest.
 */
const base = demo();
const opened: { destroy(): Promise<void> }[] = [];
after(async () => {
  for (const db of opened) await db.destroy();
});

async function harness(stock: [string, string, string][]) {
  const dir = tempDir('gw-940-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  opened.push(db);
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: base.partners, mappings: base.mappings };
  await processText(h, 'stock.x12', snapshot846(1, stock), 'demo-3pl');
  return { db, h };
}

const w01 = (segs: ReturnType<typeof readAllSegments>['segments']) => segs.filter((s) => s.tag === 'W01').map((s) => s.elements.slice(1, 6).join('*'));

test('940 at one location: W05 with the PO, the ship-to, the 3PL\'s own item ids and code, N9*LI, W76', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '100'], ['098765432109', 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  const rows = await db('outbox').where({ kind: '940' });
  assert.equal(rows.length, 1);
  golden('940-demo-3pl-one-location', rows[0].content);
  const segs = await readBack(rows[0].content);
  assert.deepEqual(segs.find((s) => s.tag === 'W05')!.elements.slice(1), ['N', 'PO-1001', 'PO-1001']);
  assert.deepEqual(segs.filter((s) => s.tag === 'N1').map((s) => `${s.elements[1]}:${s.elements[4]}`), ['ST:0017', 'SF:CMH1']);
  assert.deepEqual(w01(segs), ['24*EA*012345678905*VN*AB3542', '12*EA*012345678912*VN*RD5322', '78*EA*098765432109*VN*GD-100']);
  assert.deepEqual(segs.filter((s) => s.tag === 'N9').map((s) => s.elements[2]), ['1', '2', '3']);
  assert.equal(segs.find((s) => s.tag === 'W76')!.elements[1], '114');
  const lines = await db('order_lines').orderBy('line_number');
  assert.deepEqual(lines.map((l) => Number(l.released) / 10_000), [24, 12, 78]);
});

test('940s split per location; a backorder filled later is released on its own, only the rest', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '5'], ['098765432109', 'ACME-WEST', '200']]);
  await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2, 'one per location');
  golden('940-demo-3pl-two-locations-east', rows[0].content);
  golden('940-demo-3pl-two-locations-west', rows[1].content);
  const east = await readBack(rows[0].content);
  const west = await readBack(rows[1].content);
  assert.equal(east.filter((s) => s.tag === 'N1')[1].elements[4], 'CMH1');
  assert.equal(west.filter((s) => s.tag === 'N1')[1].elements[4], 'RNO1');
  assert.deepEqual(w01(west), ['78*EA*098765432109*VN*GD-100']);
  const committedM = Number((await db('order_lines').where({ line_number: '2' }).first()).committed) / 10_000;
  assert.deepEqual(w01(east), ['24*EA*012345678905*VN*AB3542', `${committedM}*EA*012345678912*VN*RD5322`]);
  // More WIDGET-M arrives: the backorder is filled; the east order is still open, so it is changed (R) to every line as it is now.
  await processText(h, 'more.x12', snapshot846(2, [['012345678912', 'ACME-EAST', '50']], { date: '20261121' }), 'demo-3pl');
  const later = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(later.length, 3);
  const third = await readBack(later[2].content);
  assert.deepEqual(third.find((s) => s.tag === 'W05')!.elements.slice(1), ['R', 'PO-1001', 'PO-1001']);
  assert.deepEqual(w01(third), ['24*EA*012345678905*VN*AB3542', '12*EA*012345678912*VN*RD5322']);
  assert.ok(committedM < 12, 'the line was short at first');
  const m = await db('order_lines').where({ line_number: '2' }).first();
  assert.equal(Number(m.released) / 10_000, 12);
});

test('a value the 940 cannot carry (a ship-to name holding the 3PL\'s repetition separator) keeps the 940 out with its reason; the PO is applied', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100']]);
  const po = readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), 'latin1').replace('N1*ST*DEMO RETAIL STORE 17', 'N1*ST*DEMO^RETAIL 17');
  const r = await processText(h, 'po.x12', po, 'demo-retail');
  assert.equal(r.status, 'PROCESSED', `${r.status} ${r.errorMessage}`);
  assert.equal((await db('orders').where({ po_number: 'PO-1001' })).length, 1);
  assert.equal((await db('outbox').where({ kind: '940' })).length, 0);
  const why = await db('rejections').where({ code: 'GW_OUTBOUND_NOT_BUILT' });
  assert.equal(why.length, 1);
  assert.match(why[0].message, /940 \(N\) for PO PO-1001 to demo-3pl: .*contains "\^"/);
  assert.equal(Number((await db('order_lines').where({ line_number: '1' }).first()).released), 0, 'nothing counted as released');
  assert.equal((await db('warehouse_orders')).length, 0, 'no warehouse order opened for what was not sent');
});

// ---- Changes, cancels and closes after release (W0501 R / F), the 945 closing the order, waves ----

const SAMPLE = readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), 'latin1');
const A = '012345678905';
const M = '012345678912';
const G = '098765432109';

/** PO-1001 again under new control numbers, edited (a cancel, a replacement). */
function retail(isa13: number, edit: (s: string) => string): string {
  return edit(SAMPLE.replaceAll('000001001', String(isa13).padStart(9, '0')).replace('*1001*X*004010', `*${isa13}*X*004010`).replace('GE*1*1001', `GE*1*${isa13}`));
}

/** The 3PL's 945: W06 with our order number (and the PO, unless null); lines [PO line, UPC, ordered, shipped]. */
function ship945(isa13: number, number: string, po: string | null, lines: [string, string, number, number][], date = '20261121'): string {
  const body = [`W06*F*${number}*${date}*SHP-${isa13}${po ? `**${po}` : ''}`, 'N1*SF*ACME 3PL EAST*92*CMH1', `G62*11*${date}`, 'W27*M*UPSN'];
  for (const [i, [line, upc, ordered, shipped]] of lines.entries()) body.push(`LX*${i + 1}`, `W12*${shipped < ordered ? 'CP' : 'CC'}*${ordered}*${shipped}*${ordered - shipped}*EA*${upc}`, `N9*LI*${line}`);
  body.push(`W03*${lines.reduce((n, l) => n + l[3], 0)}`);
  return x12('ACME3PL', isa13, 'SW', '945', body);
}

const w05 = (segs: ReturnType<typeof readAllSegments>['segments']) => segs.find((s) => s.tag === 'W05')!.elements.slice(1);
const released = async (db: Awaited<ReturnType<typeof harness>>['db']) => (await db('order_lines').orderBy('line_number')).map((l) => Number(l.released) / 10_000);
const codes = async (db: Awaited<ReturnType<typeof harness>>['db'], code: string) => (await db('rejections').where({ code })).map((r) => String(r.message));

test('a cancel after release sends a cancelling 940 (W0501 F) of what the warehouse was told; nothing stays released or committed', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '100'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  const r = await processText(h, 'cancel.x12', retail(1101, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*01*SA*PO-1001')), 'demo-retail');
  assert.equal(r.status, 'PROCESSED', `${r.status} ${r.errorMessage}`);
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2);
  golden('940-demo-3pl-cancel', rows[1].content);
  const f = await readBack(rows[1].content);
  assert.deepEqual(w05(f), ['F', 'PO-1001', 'PO-1001']);
  assert.deepEqual(w01(f), ['24*EA*012345678905*VN*AB3542', '12*EA*012345678912*VN*RD5322', '78*EA*098765432109*VN*GD-100']);
  assert.deepEqual(await released(db), [0, 0, 0]);
  assert.deepEqual((await db('warehouse_orders')).map((w) => [w.number, w.status, Number(w.revisions)]), [['PO-1001', 'CANCELLED', 2]]);
  assert.equal((await db('positions').sum({ c: 'committed' }))[0].c, 0);
  // The same cancel again (a resend under new control numbers) sends nothing more.
  await processText(h, 'cancel2.x12', retail(1102, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*01*SA*PO-1001')), 'demo-retail');
  assert.equal((await db('outbox').where({ kind: '940' })).length, 2);
});

test('a change after release sends a replacing 940 (W0501 R) with every line as it is now: 0 for a line the replacement leaves out', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '100'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  // BEG01 05: a replacement PO; line 1 now 10, line 3 left out (deleted).
  const replaced = retail(1201, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*05*SA*PO-1001').replace('PO1*1*24*EA', 'PO1*1*10*EA').replace(/PO1\*3\*[^~]*~\nPID\*F\*\*\*\*GADGET CASE~\n/, '').replace('CTT*3', 'CTT*2').replace('SE*19*0001', 'SE*17*0001'));
  const r = await processText(h, 'replace.x12', replaced, 'demo-retail');
  assert.equal(r.status, 'PROCESSED', `${r.status} ${r.errorMessage}`);
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2);
  golden('940-demo-3pl-change', rows[1].content);
  const c = await readBack(rows[1].content);
  assert.deepEqual(w05(c), ['R', 'PO-1001', 'PO-1001']);
  assert.deepEqual(w01(c), ['10*EA*012345678905*VN*AB3542', '12*EA*012345678912*VN*RD5322', '0*EA*098765432109*VN*GD-100']);
  assert.equal(c.find((s) => s.tag === 'W76')!.elements[1], '22');
  assert.deepEqual(await released(db), [10, 12, 0]);
  // The same quantities again: nothing to tell the warehouse.
  await processText(h, 'replace2.x12', replaced.replaceAll('000001201', '000001202').replace('*1201*X', '*1202*X').replace('GE*1*1201', 'GE*1*1202'), 'demo-retail');
  assert.equal((await db('outbox').where({ kind: '940' })).length, 2);
});

test('a 945 closes the warehouse order; a backorder filled later goes as a new order PO-1001-2, whose 945 names only it; a change or cancel after shipping is refused with its reason', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '20'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  assert.deepEqual(await released(db), [20, 12, 78], 'line 1: 20 of 24 committed and released');
  // The 3PL ships line 1 short by 2 (18 of 20) and the rest whole.
  const r1 = await processText(h, '945-1.x12', ship945(1301, 'PO-1001', 'PO-1001', [['1', A, 20, 18], ['2', M, 12, 12], ['3', G, 78, 78]]), 'demo-3pl');
  assert.equal(r1.status, 'PROCESSED', `${r1.status} ${r1.errorMessage}`);
  assert.deepEqual((await db('warehouse_orders')).map((w) => [w.number, w.status]), [['PO-1001', 'CLOSED']]);
  assert.deepEqual(await released(db), [18, 12, 78], 'a closed order was told only what shipped');
  const l1 = await db('order_lines').where({ line_number: '1' }).first();
  assert.deepEqual([Number(l1.shipped), Number(l1.backordered), Number(l1.committed)].map((n) => n / 10_000), [18, 6, 0]);
  assert.equal((await db('outbox').where({ kind: '940' })).length, 1, 'nothing committed: no new order yet');
  // Stock arrives: the 6 are committed and go to the 3PL as a new order of the PO.
  await processText(h, 'more.x12', snapshot846(1302, [[A, 'ACME-EAST', '50']], { date: '20261122' }), 'demo-3pl');
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2);
  const n2 = await readBack(rows[1].content);
  assert.deepEqual(w05(n2), ['N', 'PO-1001-2', 'PO-1001']);
  assert.deepEqual(w01(n2), ['6*EA*012345678905*VN*AB3542']);
  // Its 945 names our order number only (no PO in W0606): it is PO-1001's.
  const r2 = await processText(h, '945-2.x12', ship945(1303, 'PO-1001-2', null, [['1', A, 6, 6]], '20261123'), 'demo-3pl');
  assert.equal(r2.status, 'PROCESSED', `${r2.status} ${r2.errorMessage}`);
  assert.equal((await db('orders').where({ po_number: 'PO-1001' }).first()).status, 'SHIPPED');
  assert.equal(Number((await db('order_lines').where({ line_number: '1' }).first()).shipped) / 10_000, 24);
  assert.deepEqual((await db('warehouse_orders').orderBy('id')).map((w) => [w.number, w.status]), [['PO-1001', 'CLOSED'], ['PO-1001-2', 'CLOSED']]);
  // The retailer now asks line 2 down to 6 and then cancels: both too late, with their reasons; the warehouse is told nothing.
  await processText(h, 'change.x12', retail(1304, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*05*SA*PO-1001').replace('PO1*2*12*EA', 'PO1*2*6*EA')), 'demo-retail');
  assert.equal((await codes(db, 'GW_ORDER_CHANGED_AFTER_SHIP')).length, 1);
  await processText(h, 'cancel.x12', retail(1305, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*01*SA*PO-1001')), 'demo-retail');
  assert.match((await codes(db, 'GW_ORDER_CANCEL_AFTER_SHIP'))[0], /shipped already and stays shipped/);
  assert.equal((await db('outbox').where({ kind: '940' })).length, 2);
  assert.equal((await db('orders').where({ po_number: 'PO-1001' }).first()).status, 'SHIPPED');
});

test('a 945 for an order we cancelled with the warehouse: what shipped stays shipped, noted GW_SHIPPED_AFTER_CANCEL', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '100'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  await processText(h, 'cancel.x12', retail(1401, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*01*SA*PO-1001')), 'demo-retail');
  const r = await processText(h, '945.x12', ship945(1402, 'PO-1001', 'PO-1001', [['1', A, 24, 24]]), 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', `${r.status} ${r.errorMessage}`);
  assert.equal((await codes(db, 'GW_SHIPPED_AFTER_CANCEL')).length, 1);
  assert.equal(Number((await db('order_lines').where({ line_number: '1' }).first()).shipped) / 10_000, 24);
  assert.equal((await db('outbox').where({ kind: '940' })).length, 2, 'no new order for what was cancelled');
});

/** A 3PL 846 line with on hand (QTY 17) and/or available (QTY 33). */
function stated(isa13: number, upc: string, onHand: number | null, available: number | null, date: string): string {
  return x12('ACME3PL', isa13, 'IB', '846', [`BIA*00*DD*SNAP-${isa13}*${date}`, `LIN*1*UP*${upc}`, ...(onHand === null ? [] : [`QTY*17*${onHand}*EA`]), ...(available === null ? [] : [`QTY*33*${available}*EA`]), 'N1*WH*W*92*ACME-EAST']);
}

test('the 3PL\'s available (QTY 33) is net of what it was told to ship: those units are deducted once, by our commitment', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '100']]);
  await processText(h, 'po.x12', po850(1501, 'PO-77', { qty: '24' }), 'demo-retail');
  assert.equal((await db('outbox').where({ kind: '940' })).length, 1);
  const pos = async () => {
    const p = await db('positions').where({ location: 'ACME-EAST' }).first();
    return { onHand: Number(p.on_hand) / 10_000, committed: Number(p.committed) / 10_000, whHeld: Number(p.wh_held) / 10_000, available: (Number(p.on_hand) - Number(p.committed) - Number(p.hold) - Number(p.damaged) - Number(p.wh_held)) / 10_000 };
  };
  // It counts 100 on its shelves, 76 available (24 are picked for our 940): 76 are ours to promise.
  await processText(h, 's1.x12', stated(1502, A, 100, 76, '20261121'), 'demo-3pl');
  assert.deepEqual(await pos(), { onHand: 100, committed: 24, whHeld: 0, available: 76 });
  // Only its available: on hand is that plus what it holds for us.
  await processText(h, 's2.x12', stated(1503, A, null, 76, '20261122'), 'demo-3pl');
  assert.deepEqual(await pos(), { onHand: 100, committed: 24, whHeld: 0, available: 76 });
  // 4 held by the warehouse besides: those are not promised.
  await processText(h, 's3.x12', stated(1504, A, 100, 72, '20261123'), 'demo-3pl');
  assert.deepEqual(await pos(), { onHand: 100, committed: 24, whHeld: 4, available: 72 });
  // Shipped: nothing is told and unshipped any more; its available is taken as it is.
  await processText(h, '945.x12', ship945(1505, 'PO-77', 'PO-77', [['1', A, 24, 24]], '20261124'), 'demo-3pl');
  await processText(h, 's4.x12', stated(1506, A, 76, 76, '20261125'), 'demo-3pl');
  assert.deepEqual(await pos(), { onHand: 76, committed: 0, whHeld: 0, available: 76 });
});

test('a 3PL whose available is not net of our 940s (availableNetOfReleased: false): the difference is held by it', async () => {
  const ctx = demo();
  ctx.partners.get('demo-3pl')!.orders940!.availableNetOfReleased = false;
  const dir = tempDir('gw-940-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  opened.push(db);
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: ctx.partners, mappings: ctx.mappings };
  await processText(h, 'stock.x12', snapshot846(1, [[A, 'ACME-EAST', '100']]), 'demo-3pl');
  await processText(h, 'po.x12', po850(1601, 'PO-78', { qty: '24' }), 'demo-retail');
  await processText(h, 's1.x12', stated(1602, A, 100, 76, '20261121'), 'demo-3pl');
  const p = await db('positions').where({ location: 'ACME-EAST' }).first();
  assert.deepEqual([p.on_hand, p.committed, p.wh_held].map((n) => Number(n) / 10_000), [100, 24, 24]);
});

test('940 waves: new units wait for the warehouse\'s wave (one per period, whoever runs it); a cancel of a released order goes at once', async () => {
  const ctx = demo();
  const wh = ctx.partners.get('demo-3pl')!;
  wh.orders940 = { ...wh.orders940!, send: 'waves', waveEveryMinutes: 60 };
  const dir = tempDir('gw-940-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  opened.push(db);
  let now = new Date('2026-11-20T10:00:00Z');
  const deps = { db, raw: new RawStore(path.join(dir, 'raw')), partners: ctx.partners, mappings: ctx.mappings, clock: { now: () => now }, logger: silentLogger };
  const h = { ...deps, dir, now: () => now };
  await processText(h, 'stock.x12', snapshot846(1, [[A, 'ACME-EAST', '100'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]), 'demo-3pl');
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  assert.equal((await db('outbox').where({ kind: '940' })).length, 0, 'waits for the wave');
  const pipeline = new GatewayPipeline(deps, [], { maxBytes: 1 << 20, maxDeliveryAttempts: 3 });
  assert.equal(await pipeline.releaseWaves(), 1);
  assert.deepEqual(w05(await readBack((await db('outbox').where({ kind: '940' }).first()).content)), ['N', 'PO-1001', 'PO-1001']);
  // Another PO within the hour: not until the next wave.
  await processText(h, 'po2.x12', po850(1701, 'PO-79', { qty: '5' }), 'demo-retail');
  now = new Date('2026-11-20T10:30:00Z');
  assert.equal(await pipeline.releaseWaves(), 0);
  // The first PO is cancelled: its warehouse hears at once, not at the next wave.
  await processText(h, 'cancel.x12', retail(1702, (s) => s.replace('BEG*00*SA*PO-1001', 'BEG*01*SA*PO-1001')), 'demo-retail');
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2);
  assert.equal(w05(await readBack(rows[1].content))[0], 'F');
  now = new Date('2026-11-20T11:00:01Z');
  assert.equal(await pipeline.releaseWaves(), 1, 'the next wave releases PO-79');
  assert.deepEqual(w05(await readBack((await db('outbox').where({ kind: '940' }).orderBy('id', 'desc').first()).content)), ['N', 'PO-79', 'PO-79']);
  await pipeline.stop();
});

test('a 945 is final for the lines it reports: the warehouse order stays open for the others until a later 945 reports them', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '100'], [M, 'ACME-EAST', '100'], [G, 'ACME-EAST', '200']]);
  await processText(h, 'po.x12', SAMPLE, 'demo-retail');
  await processText(h, '945-1.x12', ship945(1801, 'PO-1001', 'PO-1001', [['1', A, 24, 24]]), 'demo-3pl');
  assert.deepEqual((await db('warehouse_orders')).map((w) => w.status), ['OPEN']);
  assert.deepEqual(await released(db), [24, 12, 78]);
  assert.equal((await db('outbox').where({ kind: '940' })).length, 1, 'the lines not reported are not ordered again');
  assert.deepEqual((await (await import('../../src/store/availability-repository.ts')).orders.list(db, { status: 'released', limit: 10, today: '2026-11-20' })).map((o) => o.po_number), ['PO-1001']);
  await processText(h, '945-2.x12', ship945(1802, 'PO-1001', 'PO-1001', [['2', M, 12, 12], ['3', G, 78, 78]], '20261122'), 'demo-3pl');
  assert.deepEqual((await db('warehouse_orders')).map((w) => w.status), ['CLOSED']);
  assert.equal((await db('orders').first()).status, 'SHIPPED');
  assert.equal((await (await import('../../src/store/availability-repository.ts')).orders.list(db, { status: 'released', limit: 10, today: '2026-11-20' })).length, 0);
});

test('a 22-character PO number: its second warehouse order is numbered within W0502\'s 22 characters (PO cut, -2), not held as nonconformant', async () => {
  const { db, h } = await harness([[A, 'ACME-EAST', '20']]);
  const long = 'PO-ABCDEFGHIJKLMNOPQRS';
  assert.equal(long.length, 22);
  await processText(h, 'po.x12', po850(1901, long, { qty: '24' }), 'demo-retail');
  await processText(h, '945.x12', ship945(1902, long, long, [['1', A, 20, 20]]), 'demo-3pl');
  await processText(h, 'more.x12', snapshot846(1903, [[A, 'ACME-EAST', '50']], { date: '20261122' }), 'demo-3pl');
  const rows = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(rows.length, 2, JSON.stringify(await db('rejections').select('code', 'message')));
  const second = await readBack(rows[1].content);
  assert.deepEqual(w05(second), ['N', 'PO-ABCDEFGHIJKLMNOPQ-2', long]);
  assert.deepEqual(w01(second), ['4*EA*012345678905*VN*AB3542']);
});
