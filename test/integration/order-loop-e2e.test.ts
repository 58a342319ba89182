import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, po850, settled, snapshot846, testConfig, waitFor } from '../helpers.ts';
import { x12 } from '../store/promise-harness.ts';

/**
 * Issue 13 on the running gateway with demo-bigbox (855s on change): its 850 is partly
 * backordered -> an 855 (AC: IA and IB) in its out folder; the 3PL's 945 ships the committed
 * part short by 2 -> its 856 with what shipped, an 855 revision (05), the short shipment and both
 * 855s on the order's timeline; its 997 of the 855 marks it acknowledged there.
 */
let g: RunningGateway;
let dataDir: string;
before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

function w945(isa: number, po: string, ordered: number, shipped: number): string {
  return x12('ACME3PL', isa, 'SW', '945', [
    `W06*F*${po}*20261121*SHP-BB-1**${po}`,
    'N1*SF*ACME 3PL EAST*92*CMH1',
    'G62*11*20261121',
    'W27*M*UPSN',
    'LX*1',
    'MAN*GM*000614141000000052',
    `W12*CP*${ordered}*${shipped}*${ordered - shipped}*EA*012345678905`,
    'N9*LI*1',
    `W03*${shipped}`,
  ]);
}

const ack997 = (isa: number, gs06: string) => x12('BIGBOX', isa, 'FA', '997', [`AK1*PR*${gs06}`, 'AK2*855*0001', 'AK5*A', 'AK9*A*1*1*1']);

const segsOf = (dir: string, f: string) => readAllSegments(readFileSync(path.join(dir, f))).segments;

test('850 partly backordered -> 855 AC; 945 short by 2 -> 856, 855 revision, timeline; 997 of the 855', async () => {
  const bb = drop(dataDir, 'demo-bigbox');
  const tpl = drop(dataDir, 'demo-3pl');
  writeFileSync(path.join(tpl.in, 'stock.x12'), snapshot846(7901, [['012345678905', 'ACME-EAST', '100']]));
  await settled(tpl, 'stock.x12');
  writeFileSync(path.join(bb.in, 'po.x12'), po850(7902, 'PO-BB-1', { sender: 'BIGBOX', qty: '150' }));
  await settled(bb, 'po.x12');
  const first = await waitFor(() => ls(bb.out).find((f) => f.startsWith('855_')), 10_000, 'the 855');
  const s1 = segsOf(bb.out, first);
  const bak = s1.find((s) => s.tag === 'BAK')!;
  assert.deepEqual(bak.elements.slice(1, 4), ['00', 'AC', 'PO-BB-1']);
  const acks1 = s1.filter((s) => s.tag === 'ACK').map((s) => `${s.elements[1]}*${s.elements[2]}`);
  assert.equal(acks1.length, 2, acks1.join(' '));
  const [ia, ib] = acks1.map((a) => Number(a.split('*')[1]));
  assert.equal(acks1[0].split('*')[0], 'IA');
  assert.equal(acks1[1].split('*')[0], 'IB');
  assert.equal(ia + ib, 150, 'accepted and backordered make the line');
  const line0 = await g.db('order_lines').where({ line_number: '1' }).first();
  assert.equal(Number(line0.committed) / 10_000, ia, 'IA is what the promise engine committed');

  // The 3PL ships the committed part, short by 2.
  writeFileSync(path.join(tpl.in, 'ship.x12'), w945(7903, 'PO-BB-1', ia, ia - 2));
  await settled(tpl, 'ship.x12');
  const asn = await waitFor(() => ls(bb.out).find((f) => f.startsWith('856_')), 10_000, 'the 856');
  assert.deepEqual(segsOf(bb.out, asn).filter((s) => s.tag === 'SN1').map((s) => s.elements[2]), [String(ia - 2)]);
  const second = await waitFor(() => ls(bb.out).filter((f) => f.startsWith('855_')).find((f) => f !== first), 10_000, 'the 855 revision');
  const s2 = segsOf(bb.out, second);
  assert.deepEqual(s2.find((s) => s.tag === 'BAK')!.elements.slice(1, 3), ['05', 'AC']);
  const acks2 = s2.filter((s) => s.tag === 'ACK').map((s) => `${s.elements[1]}*${s.elements[2]}`);
  assert.deepEqual(acks2, [`IA*${ia - 2}`, `IB*${ib + 2}`], 'shipped counts as accepted; the 2 short join the backorder');

  const base = `http://127.0.0.1:${g.port}`;
  const t = await (await fetch(`${base}/orders/PO-BB-1?partner=demo-bigbox`)).json();
  const steps = t.timeline.map((x: { step: string }) => x.step);
  for (const s of ['received', 'committed', 'backordered', 'po-ack-queued', 'po-ack-sent', 'shipped', 'short-shipped', 'asn-queued']) assert.ok(steps.includes(s), `${s} missing from ${steps.join(', ')}`);
  assert.deepEqual(t.timeline.filter((x: { step: string }) => x.step === 'po-ack-queued').map((x: { details: { revision: number; type: string } }) => `${x.details.revision}:${x.details.type}`), ['1:AC', '2:AC']);

  // BigBox acknowledges the first 855.
  const gs06 = s1.find((s) => s.tag === 'GS')!.elements[6];
  writeFileSync(path.join(bb.in, 'ack.x12'), ack997(7904, gs06));
  await settled(bb, 'ack.x12');
  const t2 = await (await fetch(`${base}/orders/PO-BB-1?partner=demo-bigbox`)).json();
  const acked = t2.timeline.find((x: { step: string }) => x.step === 'po-ack-acknowledged');
  assert.ok(acked, JSON.stringify(t2.timeline.map((x: { step: string }) => x.step)));
  assert.deepEqual([acked.details.revision, acked.details.status], [1, 'accepted']);
});

test('GET /orders lists orders by status: open, backordered, shipped, overdue (past the date the PO asked)', async () => {
  const bb = drop(dataDir, 'demo-bigbox');
  // A PO that asked to ship no later than 2026-11-01 and has no stock left for it: overdue.
  const late = po850(7905, 'PO-BB-LATE', { sender: 'BIGBOX', qty: '5', upc: '012345678912' }).replace('N1*ST', 'DTM*038*20261101~\nN1*ST').replace('SE*6*0001', 'SE*7*0001');
  writeFileSync(path.join(bb.in, 'late.x12'), late);
  await settled(bb, 'late.x12');
  assert.equal((await g.db('documents').where({ filename: 'late.x12' }).first()).status, 'PROCESSED');
  const base = `http://127.0.0.1:${g.port}`;
  const list = async (q: string) => (await (await fetch(`${base}/orders${q}`)).json()) as { orders: { poNumber: string; status: string; due?: string; backordered: string }[]; next: number | null };
  const all = await list('');
  assert.deepEqual(all.orders.map((o) => o.poNumber), ['PO-BB-LATE', 'PO-BB-1'], 'newest first');
  assert.deepEqual((await list('?status=backordered')).orders.map((o) => o.poNumber).sort(), ['PO-BB-1', 'PO-BB-LATE']);
  assert.deepEqual((await list('?status=open')).orders.map((o) => o.poNumber).sort(), ['PO-BB-1', 'PO-BB-LATE']);
  assert.deepEqual((await list('?status=shipped')).orders, []);
  const overdue = await list('?status=overdue');
  assert.deepEqual(overdue.orders.map((o) => [o.poNumber, o.due]), [['PO-BB-LATE', '2026-11-01']]);
  assert.equal((await list('?status=open&partner=demo-retail')).orders.length, 0);
  const page = await list('?limit=1');
  assert.equal(page.orders.length, 1);
  assert.deepEqual((await list(`?limit=1&before=${page.next}`)).orders.map((o) => o.poNumber), ['PO-BB-1']);
  assert.equal((await fetch(`${base}/orders?status=nope`)).status, 400);
});
