import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { openDb } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, processText, ROOT, snapshot846, tempDir } from '../helpers.ts';
import { golden, readBack } from './outbound-golden.ts';

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
  assert.deepEqual(segs.find((s) => s.tag === 'W05')!.elements.slice(1, 5), ['N', 'PO-1001', 'PO-1001', '1']);
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
  // More WIDGET-M arrives: the backorder is filled and released as the PO's third 940, only what was filled.
  await processText(h, 'more.x12', snapshot846(2, [['012345678912', 'ACME-EAST', '50']], { date: '20261121' }), 'demo-3pl');
  const later = await db('outbox').where({ kind: '940' }).orderBy('id');
  assert.equal(later.length, 3);
  const third = await readBack(later[2].content);
  assert.deepEqual(third.find((s) => s.tag === 'W05')!.elements.slice(1, 5), ['N', 'PO-1001', 'PO-1001', '3']);
  assert.deepEqual(w01(third), [`${12 - committedM}*EA*012345678912*VN*RD5322`]);
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
  assert.match(why[0].message, /940 for PO PO-1001 to demo-3pl: .*contains "\^"/);
  assert.equal(Number((await db('order_lines').where({ line_number: '1' }).first()).released), 0, 'nothing counted as released');
});
