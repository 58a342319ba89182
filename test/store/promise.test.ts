import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { positions } from '../../src/store/availability-repository.ts';
import { promoteProvisional, provisionalItems } from '../../src/store/item-repository.ts';
import { oversells } from '../../src/store/promise-repository.ts';
import { orderTimeline } from '../../src/pipeline/order-timeline.ts';
import { crosswalkLookup } from '../../src/mapping/crosswalk.ts';
import { toUnits } from '../../src/domain/quantity.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers.ts';
import { harness, inv, po, promiseExcess, type Backend, type Harness } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * The promise engine through the store (issue: "what a partner is shown is what it gets"): each
 * case the issue found, as a regression test, on SQLite and on PostgreSQL.
 */
const u = (s: string) => toUnits(s)!;
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
  if (!pg) {
    if (process.env.CI) throw new Error('PostgreSQL server binaries not found (CI installs them): the PostgreSQL promise tests cannot run');
    console.error('\n*** PostgreSQL server binaries not found: the PostgreSQL promise tests are SKIPPED ***\n');
  }
});
after(() => pg?.stop());

const UPC = { S: '012345678905', M: '012345678912', L: '012345678929', G: '098765432109', K: '012345678936' };
const line = (n: number, qty: string, uom: string, ids: string) => `PO1*${n}*${qty}*${uom}*9.25*PE*${ids}`;

/** The 3PL's XML sample shipping one line of a PO: `qty` EA of the item with that UPC, from its warehouse code. */
function shipment(poNumber: string, upc: string, qty: string, warehouse: string): string {
  return readFileSync(path.join(ROOT, 'samples/demo-3pl/shipment-confirmation.xml'), 'utf8')
    .replace('PO-1001', poNumber)
    // No customer named: the PO is the only one with its number (whoever's it is).
    .replace(' customer="demo-retail"', '')
    .replace(/<Carton sscc="000614141000000021"[\s\S]*?<\/Carton>/, '')
    .replace('<Upc>012345678905</Upc><Qty uom="EA">20</Qty>', `<Upc>${upc}</Upc><Qty uom="EA">${qty}</Qty>`)
    .replace('code="ACME-EAST"', `code="${warehouse}"`);
}

async function accounted(h: Harness) {
  // Every unit accounted for: the log rebuilds to the same positions, no quantity is negative, no
  // unit is promised twice.
  const cols = ['item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'wh_held', 'safety_stock'];
  const before = (await h.db('positions').orderBy(['item', 'location']).select(cols)).map((r) => cols.map((c) => String(r[c])));
  await h.db.transaction((trx) => positions.rebuild(trx));
  const afterRows = (await h.db('positions').orderBy(['item', 'location']).select(cols)).map((r) => cols.map((c) => String(r[c])));
  assert.deepEqual(afterRows, before);
  for (const r of before) for (const v of r.slice(2)) assert.ok(Number(v) >= 0, `negative position ${r.join(' ')}`);
  for (const [k, excess] of await promiseExcess(h.db)) assert.equal(excess, 0, `promised more than available at ${k}`);
}

function backend(name: Backend) {
  describe(`promise engine on ${name}`, () => {
    const open = async (t: { skip(m: string): void }, opts?: Parameters<typeof harness>[2]) => {
      if (name === 'pg' && !pg) {
        t.skip('no PostgreSQL');
        return null;
      }
      return harness(name, pg, opts);
    };

    test('two retailers share 10 units: shown at most 10 - safety stock together, the strategic one not less; each orders what it was shown and gets it all', async (t) => {
      const h = await open(t);
      if (!h) return;
      await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC.L}`, 'QTY*17*10*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      const retail = (await h.publish('demo-retail')).get('ACME-EAST')!.get(UPC.L)!;
      const bigbox = (await h.publish('demo-bigbox')).get('ACME-EAST')!.get(UPC.L)!;
      assert.deepEqual([retail.qty, bigbox.qty], ['2', '6'], 'bigbox 60% of 10; retail the other 4 less its safety stock 2');
      assert.ok(Number(retail.qty) + Number(bigbox.qty) <= 10 - 2);
      // Both order exactly what they were shown, "at the same moment" (one after the other, either order).
      const b = await h.send('b.x12', po('BIGBOX', 2, 'BB-1', [line(1, bigbox.qty, 'EA', `UP*${UPC.L}`)]), 'demo-bigbox');
      const r = await h.send('r.x12', po('RETAILCO', 3, 'RT-1', [line(1, retail.qty, 'EA', `UP*${UPC.L}`)]), 'demo-retail');
      assert.deepEqual([b.status, r.status], ['PROCESSED', 'PROCESSED']);
      const lines = await h.db('order_lines').orderBy('order_id');
      assert.deepEqual(lines.map((l) => [Number(l.committed), Number(l.backordered)]), [[u('6'), 0], [u('2'), 0]]);
      assert.equal((await h.db('oversells')).length, 0);
      assert.equal((await h.db('orders').whereNot({ status: 'OPEN' })).length, 0);
      await accounted(h);
      await h.close();
    });

    test('a PO for what was shown is committed in full whatever the other partner ordered first', async (t) => {
      const h = await open(t);
      if (!h) return;
      await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC.L}`, 'QTY*17*10*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      await h.publish('demo-retail');
      await h.publish('demo-bigbox');
      // The retailer orders all 10: it gets its own 2 and the 2 nobody was promised, not bigbox's 6.
      await h.send('r.x12', po('RETAILCO', 2, 'RT-2', [line(1, '10', 'EA', `UP*${UPC.L}`)]), 'demo-retail');
      await h.send('b.x12', po('BIGBOX', 3, 'BB-2', [line(1, '6', 'EA', `UP*${UPC.L}`)]), 'demo-bigbox');
      const rows = await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').select('o.partner_id', 'l.committed', 'l.backordered').orderBy('o.id');
      assert.deepEqual(rows.map((x) => [x.partner_id, Number(x.committed), Number(x.backordered)]), [['demo-retail', u('4'), u('6')], ['demo-bigbox', u('6'), 0]]);
      assert.equal((await h.db('oversells')).length, 0, 'the retailer ordered beyond what it was shown: a backorder, not an oversell');
      await accounted(h);
      await h.close();
    });

    test('units: cases convert exactly (item master, PO4 pack), an unknown unit rejects the line, 846s go out in whole cases', async (t) => {
      const h = await open(t, { partners: (ps) => ps.map((p) => (p.id === 'demo-bigbox' ? { ...p, publish846: { ...p.publish846!, unit: 'CA' } } : p)) });
      if (!h) return;
      // The 3PL states GADGET-1 in cases at CMH1 (its code for ACME-EAST); WIDGET-S in eaches.
      await h.send('snap.x12', inv(1, [[`LIN*1*VN*GD-100`, 'QTY*17*36.5*CA', 'N1*WH*W*92*CMH1'], [`LIN*2*UP*${UPC.S}`, 'QTY*17*100*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      assert.equal((await positions.get(h.db, 'GADGET-1', 'ACME-EAST')).onHand, u('438'), '36.5 CA x 12');
      const r = await h.send('po.x12', po('BIGBOX', 2, 'BB-U', [line(1, '2', 'CA', `UP*${UPC.G}`), line(2, '2', 'CA', `UP*${UPC.S}`), 'PO4*12', line(3, '1', 'BX', `UP*${UPC.S}`)]), 'demo-bigbox');
      assert.equal(r.status, 'PARTIAL', 'one line refused, the rest applied');
      assert.deepEqual(r.rejections.filter((x) => x.severity === 'error').map((x) => x.code), ['GW_UOM_UNCONVERTIBLE']);
      const lines = await h.db('order_lines').orderBy('line_number');
      assert.deepEqual(lines.map((l) => [l.line_number, Number(l.ordered), Number(l.committed), l.status, l.reason_code]), [
        ['1', u('24'), u('24'), 'OPEN', null],
        ['2', u('24'), u('24'), 'OPEN', null],
        ['3', u('1'), 0, 'REJECTED', 'GW_UOM_UNCONVERTIBLE'],
      ]);
      assert.match(lines[2].reason, /BX cannot be converted to EA for WIDGET-S/);
      // The document is a dead letter (PARTIAL), with its reason.
      assert.equal((await h.db('documents').where({ id: r.documentId }).first()).status, 'PARTIAL');
      // Bigbox's 846 in cases: GADGET-1 has 438 - 24 = 414 EA, its 60% is 248 EA = 20 whole cases;
      // WIDGET-S has no case size in the item master, so it goes in its base unit.
      const shown = (await h.publish('demo-bigbox')).get('ACME-EAST')!;
      assert.deepEqual(shown.get(UPC.G), { qty: '20', uom: 'CA' });
      assert.deepEqual(shown.get(UPC.S), { qty: '45', uom: 'EA' });
      const promised = await h.db('promises').where({ partner_id: 'demo-bigbox', item: 'GADGET-1' }).first();
      assert.equal(Number(promised.promised), u('240'), 'the promise is the 20 cases shown, in eaches; the rest stays unpromised');
      // The 3PL ships 24 EA of line 1: bigbox's 856 says 2 CA, the unit it ordered in.
      const shipped = await h.send('ship.xml', shipment('BB-U', UPC.G, '24', 'CMH1'), 'demo-3pl');
      assert.deepEqual(shipped.asns?.map((a) => [a.partnerId, a.status]), [['demo-bigbox', 'QUEUED']], JSON.stringify(shipped.asns));
      const asn = (await h.db('outbox').where({ partner_id: 'demo-bigbox', kind: '856' }).first()).content as string;
      assert.match(asn, /LIN\*\d+\*UP\*098765432109~\nSN1\*\*2\*CA~/);
      await accounted(h);
      await h.close();
    });

    test('identity: one provisional item for all the ids seen together; a crosswalk entry makes it a SKU with its stock and orders', async (t) => {
      const h = await open(t);
      if (!h) return;
      await h.send('snap.x12', inv(1, [['LIN*1*UP*042100005264', 'QTY*17*30*EA', 'N1*WH*W*92*RNO1']]), 'demo-3pl');
      const item = 'PRV:UP:042100005264';
      assert.equal((await positions.get(h.db, item, 'ACME-WEST')).onHand, u('30'));
      // The retailer names its own part number and the UPC: the same item, committed from that stock.
      const r = await h.send('po.x12', po('RETAILCO', 2, 'RT-ID', [line(1, '5', 'EA', 'BP*RC-55521*UP*042100005264'), line(2, '1', 'EA', `UP*${UPC.S}*VN*RD5322`)]), 'demo-retail');
      const lines = await h.db('order_lines').orderBy('line_number');
      assert.deepEqual([lines[0].item, Number(lines[0].committed), lines[0].location], [item, u('5'), 'ACME-WEST']);
      // UP of WIDGET-S and VN of WIDGET-M on one line: a conflict, never a guess.
      assert.deepEqual([lines[1].status, lines[1].reason_code], ['REJECTED', 'GW_ITEM_ID_CONFLICT']);
      assert.ok(r.rejections.some((x) => x.code === 'GW_ITEM_ID_CONFLICT' && /WIDGET-M and WIDGET-S/.test(x.message)));
      // A later document naming only the retailer's part number finds the same item.
      await h.send('po2.x12', po('RETAILCO', 3, 'RT-ID2', [line(1, '1', 'EA', 'BP*RC-55521')]), 'demo-retail');
      assert.equal((await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where('o.po_number', 'RT-ID2').first()).item, item);
      // Bigbox rejects lines for unknown items (its setting); the line is kept on the order with the reason.
      await h.send('bb.x12', po('BIGBOX', 4, 'BB-ID', [line(1, '1', 'EA', 'UP*042100005264')]), 'demo-bigbox');
      const bb = await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where('o.po_number', 'BB-ID').first();
      assert.deepEqual([bb.status, bb.reason_code], ['REJECTED', 'GW_ITEM_UNKNOWN']);
      // Listed for admins with where it was seen.
      const [listed] = await provisionalItems.list(h.db, { limit: 10 });
      assert.equal(listed.item, item);
      assert.deepEqual((listed.ids as { qualifier: string }[]).map((x) => x.qualifier).sort(), ['BP', 'UP']);
      assert.ok((listed.seenIn as unknown[]).length >= 2);
      // The 3PL ships it by UPC alone: the ASN goes out (the item is on the PO).
      const shipped = await h.send('ship.xml', shipment('RT-ID', '042100005264', '5', 'RNO1'), 'demo-3pl');
      assert.equal(shipped.status, 'PROCESSED', JSON.stringify(shipped.rejections));
      assert.deepEqual(shipped.asns?.map((a) => [a.partnerId, a.status, a.problems]), [['demo-retail', 'QUEUED', []]]);
      assert.equal((await positions.get(h.db, item, 'ACME-WEST')).onHand, u('25'));
      // A crosswalk entry names it: it becomes SOUP-1 without losing stock, commitments or orders.
      const cw = readFileSync(path.join(ROOT, 'mappings/_shared/crosswalk.yaml'), 'utf8') + '  - sku: SOUP-1\n    ids: { UP: "042100005264" }\n';
      assert.deepEqual(h.mappings.update({ rel: '_shared/crosswalk.yaml', text: cw }), []);
      const promo = await h.db.transaction((trx) => promoteProvisional(trx, (id) => crosswalkLookup(h.mappings, id), h.partners.all().map((p) => p.id), '2026-11-21T00:00:00Z'));
      assert.deepEqual(promo.promoted, [{ from: item, to: 'SOUP-1' }]);
      const soup = await positions.get(h.db, 'SOUP-1', 'ACME-WEST');
      assert.deepEqual([soup.onHand, soup.committed], [u('25'), u('1')], 'RT-ID2 still holds its unit');
      assert.equal((await positions.get(h.db, item, 'ACME-WEST')).onHand, 0);
      assert.equal((await h.db('order_lines').where({ item: 'SOUP-1' })).length, 3);
      assert.equal((await provisionalItems.list(h.db, { status: 'PROMOTED', limit: 5 }))[0].became, 'SOUP-1');
      await accounted(h);
      await h.close();
    });

    test("a warehouse's own holds are never promised: QTY 17 = 9 and QTY 33 = 0 publish 0", async (t) => {
      const h = await open(t);
      if (!h) return;
      await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*9*EA', 'QTY*33*0*EA', 'N1*WH*W*92*ACME-WEST']]), 'demo-3pl');
      const p = await positions.get(h.db, 'WIDGET-S', 'ACME-WEST');
      assert.deepEqual([p.onHand, p.whHeld], [u('9'), u('9')]);
      assert.equal((await h.publish('demo-retail')).get('ACME-WEST')!.get('RC-100045')!.qty, '0');
      await h.send('po.x12', po('RETAILCO', 2, 'RT-H', [line(1, '2', 'EA', `UP*${UPC.S}`)]), 'demo-retail');
      const l = await h.db('order_lines').first();
      assert.deepEqual([Number(l.committed), Number(l.backordered), l.location], [0, u('2'), 'ACME-WEST']);
      // The next snapshot replaces what the warehouse holds.
      await h.send('snap2.x12', inv(3, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*9*EA', 'QTY*33*6*EA', 'N1*WH*W*92*ACME-WEST']]), 'demo-3pl');
      assert.equal((await positions.get(h.db, 'WIDGET-S', 'ACME-WEST')).whHeld, u('3'));
      await accounted(h);
      await h.close();
    });

    test('locations: an unknown warehouse code rejects the set (997 AK5 R), an N1 before its QTYs too (AK304 7); a backorder with no stock anywhere waits for no location', async (t) => {
      const h = await open(t);
      if (!h) return;
      const bad = await h.send('wh01.x12', inv(1, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*50*EA', 'N1*WH*W*92*WH01']]), 'demo-3pl');
      assert.equal(bad.status, 'REJECTED');
      const r = bad.rejections.find((x) => x.code === 'GW_LOCATION_UNKNOWN')!;
      assert.deepEqual([r.segmentTag, r.element, r.value], ['N1', 4, 'WH01']);
      const ack = (await h.db('outbox').where({ source_document_id: bad.documentId }).first()).content as string;
      assert.match(ack, /AK3\*N1\*\d+\*\*8/);
      assert.match(ack, /AK5\*R\*5/);
      assert.equal((await h.db('positions').where({ location: 'WH01' })).length, 0, 'no phantom location');
      // The standard's LIN loop has its QTY loop before its N1 loop: an N1 before the QTYs leaves them out of sequence.
      const misplaced = await h.send('n1.x12', inv(2, [[`LIN*1*UP*${UPC.S}`, 'N1*WH*W*92*ACME-EAST', 'QTY*17*50*EA']]), 'demo-3pl');
      assert.equal(misplaced.status, 'REJECTED');
      assert.ok(misplaced.rejections.some((x) => x.code === 'GW_X12_SEGMENT_OUT_OF_SEQUENCE' && x.segmentTag === 'QTY'), JSON.stringify(misplaced.rejections.map((x) => x.code)));
      assert.match((await h.db('outbox').where({ source_document_id: misplaced.documentId }).first()).content as string, /AK3\*QTY\*\d+\*\*7/);
      assert.equal(await h.db('positions').count({ n: '*' }).first().then((x) => Number(x!.n)), 0);
      // A header N1 applies to every LIN; a LIN's own N1 to that LIN only.
      await h.send('hdr.x12', inv(3, [['N1*WH*W*92*RNO1'], [`LIN*1*UP*${UPC.S}`, 'QTY*17*5*EA'], [`LIN*2*UP*${UPC.M}`, 'QTY*17*7*EA', 'N1*WH*W*92*CMH1']]), 'demo-3pl');
      assert.equal((await positions.get(h.db, 'WIDGET-S', 'ACME-WEST')).onHand, u('5'));
      assert.equal((await positions.get(h.db, 'WIDGET-M', 'ACME-EAST')).onHand, u('7'));
      await h.send('po.x12', po('RETAILCO', 4, 'RT-L', [line(1, '3', 'EA', `UP*${UPC.L}`)]), 'demo-retail');
      const l = await h.db('order_lines').first();
      assert.deepEqual([l.location, Number(l.backordered), l.reason_code], [null, u('3'), 'GW_BACKORDER_NO_STOCK']);
      // When stock arrives at a warehouse, the backorder is filled there.
      await h.send('snap4.x12', inv(5, [[`LIN*1*UP*${UPC.L}`, 'QTY*17*10*EA', 'N1*WH*W*92*RNO1']]), 'demo-3pl');
      const filled = await h.db('order_lines').first();
      assert.deepEqual([filled.location, Number(filled.committed), Number(filled.backordered)], ['ACME-WEST', u('3'), 0]);
      await accounted(h);
      await h.close();
    });

    test('kits commit their components; backorders fill when stock arrives, higher rank first, on the timeline; a physical drop below a promise is an oversell, recorded', async (t) => {
      const h = await open(t);
      if (!h) return;
      await h.send('snap.x12', inv(1, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*4*EA', 'N1*WH*W*92*ACME-EAST'], [`LIN*2*UP*${UPC.M}`, 'QTY*17*1*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      // 3 kits (2 S + 1 M each): 1 whole kit can be committed.
      await h.send('kit.x12', po('RETAILCO', 2, 'RT-K', [line(1, '3', 'EA', `UP*${UPC.K}`)]), 'demo-retail');
      const rows = async (poNumber: string) => (await h.db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where('o.po_number', poNumber).orderBy('l.seq').orderBy('l.line_number').select('l.*')).map((l) => [l.line_number, l.item, Number(l.committed) / 10_000, Number(l.backordered) / 10_000]);
      assert.deepEqual(await rows('RT-K'), [['1', 'WIDGET-PACK', 1, 2], ['1>WIDGET-M', 'WIDGET-M', 1, 2], ['1>WIDGET-S', 'WIDGET-S', 2, 4]]);
      assert.equal((await positions.get(h.db, 'WIDGET-S', 'ACME-EAST')).committed, u('2'));
      // Bigbox (rank 10) orders 5 WIDGET-S later: 2 are left.
      await h.send('bb.x12', po('BIGBOX', 3, 'BB-K', [line(1, '5', 'EA', `UP*${UPC.S}`)]), 'demo-bigbox');
      assert.deepEqual(await rows('BB-K'), [['1', 'WIDGET-S', 2, 3]]);
      // Stock arrives: bigbox is filled first (rank), then the older retail kit order.
      await h.send('snap2.x12', inv(4, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*9*EA', 'N1*WH*W*92*ACME-EAST'], [`LIN*2*UP*${UPC.M}`, 'QTY*17*5*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      assert.deepEqual(await rows('BB-K'), [['1', 'WIDGET-S', 5, 0]]);
      assert.deepEqual(await rows('RT-K'), [['1', 'WIDGET-PACK', 2, 1], ['1>WIDGET-M', 'WIDGET-M', 3, 0], ['1>WIDGET-S', 'WIDGET-S', 4, 2]], 'S: 9 - 5 (bigbox) = 4 left for the kit');
      const tl = (await orderTimeline(h.db, h.partners, 'RT-K', 'demo-retail', new Date()))!;
      assert.ok((tl.timeline as { step: string }[]).some((s) => s.step === 'backorder-filled'));
      assert.equal(tl.status, 'BACKORDERED');
      await h.send('snap3.x12', inv(5, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*30*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      assert.deepEqual(await rows('RT-K'), [['1', 'WIDGET-PACK', 3, 0], ['1>WIDGET-M', 'WIDGET-M', 3, 0], ['1>WIDGET-S', 'WIDGET-S', 6, 0]]);
      assert.equal((await orderTimeline(h.db, h.partners, 'RT-K', 'demo-retail', new Date()))!.status, 'OPEN');
      // Retail is shown WIDGET-S at EAST; then the 3PL reports damage below that promise.
      const shown = (await h.publish('demo-retail')).get('ACME-EAST')!.get('RC-100045')!;
      await h.publish('demo-bigbox');
      assert.equal(shown.qty, '6', 'A = 30 - 11 committed = 19: bigbox 11 (60%), retail 8 - 2 safety');
      await h.send('dmg.x12', inv(6, [[`LIN*1*UP*${UPC.S}`, 'QTY*17*-16*EA', 'N1*WH*W*92*ACME-EAST']], '04'), 'demo-3pl');
      await h.send('over.x12', po('RETAILCO', 7, 'RT-O', [line(1, shown.qty, 'EA', `UP*${UPC.S}`)]), 'demo-retail');
      const [o] = await oversells.list(h.db, { limit: 5 });
      assert.deepEqual([o.partner_id, o.po_number, Number(o.ordered), Number(o.committed), Number(o.promised), Number(o.shown)], ['demo-retail', 'RT-O', u('6'), u('3'), u('6'), u('6')]);
      const steps = (await orderTimeline(h.db, h.partners, 'RT-O', 'demo-retail', new Date()))!.timeline as { step: string }[];
      assert.ok(steps.some((s) => s.step === 'oversell'));
      await h.close();
    });
  });
}

backend('sqlite');
backend('pg');
