import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, ROOT, settled, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 13, "Done means", on the running gateway with the demo partners and the sample files the
 * README's order-loop walk-through drops (in its order, on a fresh data dir): the 3PL's stock
 * (846); demo-retail's PO-1001 (850) -> an 855 in the retailer's out folder and 940s in the 3PL's
 * (one per warehouse location); the 3PL's 997 of both 940s; its 945 shipping line 1 short by 2
 * -> the retailer's 856 with the shipped quantities, a backorder of 2 on the timeline, an 855
 * revision (demo-retail's policy: always).
 */
let g: RunningGateway;
let dataDir: string;
before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

const segs = (dir: string, f: string) => readAllSegments(readFileSync(path.join(dir, f))).segments;
const els = (list: ReturnType<typeof segs>, tag: string, from = 1, to?: number) => list.filter((s) => s.tag === tag).map((s) => s.elements.slice(from, to).join('*'));

test('the whole loop: 850 -> 855 and 940s; 997 of the 940s and a 945 short by 2 -> 856, backorder of 2, 855 revision; all on the timeline', async () => {
  const retail = drop(dataDir, 'demo-retail');
  const tpl = drop(dataDir, 'demo-3pl');
  const put = async (d: ReturnType<typeof drop>, sample: string) => {
    copyFileSync(path.join(ROOT, 'samples', sample), path.join(d.in, path.basename(sample)));
    await settled(d, path.basename(sample));
    const doc = await g.db('documents').where({ filename: path.basename(sample) }).first();
    assert.equal(doc.status, 'PROCESSED', `${sample}: ${doc.status} ${doc.error_message}`);
  };
  await put(tpl, 'demo-3pl/846-snapshot.x12');
  await put(retail, 'demo-retail/850-po-1001.x12');

  // The retailer's 855: accepted, each line as asked.
  const ack1 = await waitFor(() => ls(retail.out).find((f) => f.startsWith('855_')), 10_000, 'the 855');
  const s855 = segs(retail.out, ack1);
  assert.deepEqual(els(s855, 'BAK', 1, 4), ['00*AD*PO-1001']);
  assert.deepEqual(els(s855, 'ACK', 1, 2), ['IA', 'IA', 'IA']);

  // The 3PL's 940s: one per location, the lines committed there, in its own ids and our base units.
  const files940 = await waitFor(() => { const l = ls(tpl.out).filter((f) => f.startsWith('940_')).sort(); return l.length === 2 && l; }, 10_000, 'two 940s');
  assert.deepEqual(files940, ['940_000000002.x12', '940_000000003.x12'], 'the control numbers the walk-through\'s 997 sample acknowledges');
  const [east, west] = files940.map((f) => segs(tpl.out, f));
  assert.deepEqual(els(east, 'W05'), ['N*PO-1001*PO-1001']);
  assert.deepEqual(els(east, 'N1', 1, 2).concat(els(east, 'N1', 4, 5)), ['ST', 'SF', '0017', 'CMH1']);
  assert.deepEqual(els(east, 'W01', 1, 6), ['24*EA*012345678905*VN*AB3542', '12*EA*012345678912*VN*RD5322']);
  assert.deepEqual(els(west, 'W01', 1, 3), ['78*EA']);
  assert.deepEqual(els(west, 'W05'), ['N*PO-1001-2*PO-1001'], 'our order numbers are unique at a warehouse');
  assert.deepEqual(els(west, 'N1', 4, 5), ['0017', 'RNO1']);
  const base = `http://127.0.0.1:${g.port}`;
  const listed = async (status: string) => ((await (await fetch(`${base}/orders?status=${status}`)).json()) as { orders: { poNumber: string }[] }).orders.map((o) => o.poNumber);
  assert.deepEqual(await listed('released'), ['PO-1001']);

  // The 3PL acknowledges both 940s, then ships line 1 short by 2 and line 2 whole from CMH1.
  await put(tpl, 'demo-3pl/997-940.x12');
  await put(tpl, 'demo-3pl/945-shipment.x12');
  const asn = await waitFor(() => ls(retail.out).find((f) => f.startsWith('856_')), 10_000, 'the 856');
  const s856 = segs(retail.out, asn);
  assert.deepEqual(els(s856, 'PRF', 1, 2), ['PO-1001']);
  assert.deepEqual(els(s856, 'SN1', 2, 3), ['22', '12']);
  const ack2 = await waitFor(() => ls(retail.out).filter((f) => f.startsWith('855_')).find((f) => f !== ack1), 10_000, 'the 855 revision');
  const r855 = segs(retail.out, ack2);
  assert.deepEqual(els(r855, 'BAK', 1, 3), ['05*AC']);
  // Line 1: 22 shipped (accepted), 2 backordered; lines 2 and 3 as asked.
  assert.deepEqual(els(r855, 'ACK', 1, 3), ['IA*22', 'IB*2', 'IA*12', 'IA*6.5']);

  // The outbox marks the 856 sent just after its file is written.
  const t = await waitFor(async () => { const x = await (await fetch(`${base}/orders/PO-1001?partner=demo-retail`)).json(); return x.timeline.some((s: { step: string }) => s.step === 'asn-sent') && x; }, 10_000, 'asn-sent');
  const steps: string[] = t.timeline.map((x: { step: string }) => x.step);
  for (const s of ['received', 'committed', 'po-ack-queued', 'po-ack-sent', 'warehouse-order-queued', 'warehouse-order-sent', 'warehouse-order-acknowledged', 'shipped', 'short-shipped', 'warehouse-order-closed', 'asn-queued', 'asn-sent']) assert.ok(steps.includes(s), `${s} missing from ${steps.join(', ')}`);
  assert.equal(t.timeline.filter((x: { step: string }) => x.step === 'warehouse-order-acknowledged').length, 2, 'both 940s acknowledged');
  assert.equal(t.timeline.find((x: { step: string }) => x.step === 'short-shipped').details['WIDGET-S'], '2');
  const line1 = t.lines.find((l: { lineNumber: string }) => l.lineNumber === '1');
  assert.deepEqual([line1.shipped, line1.backordered, line1.released], ['22', '2', '22'], JSON.stringify(line1));
  assert.equal(t.status, 'BACKORDERED');
  assert.deepEqual(t.warehouseOrders.map((w: { location: string; status: string }) => `${w.location}:${w.status}`), ['ACME-EAST:CLOSED', 'ACME-WEST:OPEN']);
  assert.deepEqual(t.timeline.filter((x: { step: string }) => x.step === 'po-ack-queued').map((x: { details: { revision: number; type: string } }) => `${x.details.revision}:${x.details.type}`), ['1:AD', '2:AC']);
  // The west order (GADGET-1) is still the 3PL's to ship: the order stays released.
  assert.deepEqual(await listed('released'), ['PO-1001']);
  assert.deepEqual(await listed('backordered'), ['PO-1001']);
});
