import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { normaliseSscc } from '../../src/x12/sscc.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, ROOT, snapshot846, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 4 end to end on the running gateway: the retailer's 850, the 3PL's XML shipment
 * confirmation for part of it, the retailer's 856 in its out folder; the order timeline shows the
 * partial shipment and the backorder; the retailer's 997 marks the ASN accepted.
 */
let g: RunningGateway;
let dataDir: string;
before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

function ack997(isa13: number, gs06: string): string {
  const c = String(isa13).padStart(9, '0');
  return [
    `ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261121*1200*U*00401*${c}*0*P*>`,
    `GS*FA*RETAILCO*DISTRIBUTOR1*20261121*1200*${isa13}*X*004010`,
    'ST*997*0001',
    `AK1*SH*${gs06}`,
    'AK2*856*0001',
    'AK5*A',
    'AK9*A*1*1*1',
    'SE*6*0001',
    `GE*1*${isa13}`,
    `IEA*1*${c}`,
  ].join('~\n') + '~\n';
}

test('850 -> partial XML shipment confirmation -> 856 out; timeline with backorder; 997 -> accepted', async () => {
  const retail = drop(dataDir, 'demo-retail');
  const tpl = drop(dataDir, 'demo-3pl');
  const settled = (d: ReturnType<typeof drop>, n: string) => waitFor(() => ls(d.archive).find((f) => f.endsWith(`-${n}`)), 10_000, n);
  // Stock: WIDGET-M is short (10 for 12 ordered).
  writeFileSync(path.join(tpl.in, 'stock.x12'), snapshot846(7701, [['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '10'], ['098765432109', 'ACME-WEST', '50']]));
  await settled(tpl, 'stock.x12');
  writeFileSync(path.join(retail.in, 'po.x12'), readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')));
  await settled(retail, 'po.x12');
  writeFileSync(path.join(tpl.in, 'ship.xml'), readFileSync(path.join(ROOT, 'samples/demo-3pl/shipment-confirmation.xml')));
  await settled(tpl, 'ship.xml');
  const asnFile = await waitFor(() => ls(retail.out).find((f) => f.startsWith('856_')), 10_000, 'the 856');
  const segs = readAllSegments(readFileSync(path.join(retail.out, asnFile))).segments;
  assert.deepEqual(segs.filter((s) => s.tag === 'PRF').map((s) => s.elements[1]), ['PO-1001']);
  assert.deepEqual(segs.filter((s) => s.tag === 'SN1').map((s) => s.elements[2]), ['20', '6']);
  const ssccs = segs.filter((s) => s.tag === 'MAN').map((s) => s.elements[2]);
  assert.deepEqual(ssccs, ['000614141000000014', '000614141000000021']);
  assert.ok(ssccs.every((s) => normaliseSscc(s) === s));
  assert.equal(segs.filter((s) => s.tag === 'HL').map((s) => s.elements[3]).join(''), 'SOPIPI');
  const gs06 = segs.find((s) => s.tag === 'GS')!.elements[6];

  const base = `http://127.0.0.1:${g.port}`;
  const t1 = await (await fetch(`${base}/orders/PO-1001`)).json();
  const steps = t1.timeline.map((s: { step: string }) => s.step);
  for (const s of ['received', 'committed', 'backordered', 'shipped', 'asn-queued', 'asn-sent']) assert.ok(steps.includes(s), `${s} missing from ${steps.join(', ')}`);
  const line2 = t1.lines.find((l: { lineNumber: string }) => l.lineNumber === '2');
  assert.deepEqual([line2.ordered, line2.committed, line2.backordered, line2.shipped], ['12', '4', '2', '6'], 'WIDGET-M: 10 committed, 2 backordered, 6 shipped (so 4 still committed)');
  assert.equal(t1.status, 'BACKORDERED');

  writeFileSync(path.join(retail.in, 'ack.x12'), ack997(7702, gs06));
  await settled(retail, 'ack.x12');
  const t2 = await (await fetch(`${base}/orders/PO-1001`)).json();
  const ackStep = t2.timeline.find((s: { step: string }) => s.step === 'asn-acknowledged');
  assert.ok(ackStep, JSON.stringify(t2.timeline));
  assert.equal(ackStep.details.status, 'accepted');
  assert.equal((await (await fetch(`${base}/orders/NOPE`)).status), 404);
  const ob = await (await fetch(`${base}/outbox?partner=demo-retail&kind=856`)).json();
  assert.deepEqual(ob.outbox.map((o: { status: string; ack: string }) => [o.status, o.ack]), [['SENT', 'accepted']]);
  await waitFor(() => ls(retail.out).find((f) => f.startsWith('846_')), 10_000, 'an 846 delivered');
  await g.pipeline.idle();
  const feeds = await (await fetch(`${base}/outbox?partner=demo-retail&kind=846`)).json();
  assert.ok(feeds.outbox.length >= 1 && feeds.outbox.every((o: { ack: string }) => o.ack === 'awaited'), 'our 846s await their 997');
});
