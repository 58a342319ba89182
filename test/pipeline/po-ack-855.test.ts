import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { partnerDirectory } from '../../src/domain/partner.ts';
import { planPoAck, planPoAckLine } from '../../src/domain/po-ack.ts';
import { openDb } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, processText, ROOT, snapshot846, tempDir } from '../helpers.ts';
import { golden, readBack } from './outbound-golden.ts';

/**
 * The retailer's 855 (issue 13): the promise engine's answer per PO line, byte for byte
 * (samples/outbound/855-*.x12; UPDATE_GOLDEN=1 rewrites them for review): accepted as asked,
 * partly backordered, a line rejected; each read back by our own strict reader.
 */
const base = demo();
const opened: { destroy(): Promise<void> }[] = [];
after(async () => {
  for (const db of opened) await db.destroy();
});

test('line answers: IA as asked, IA + IB (with the expected date) when short, IQ when changed, IR when rejected; BAK02 AD / AC / RD', () => {
  const line = { lineNumber: '1', ids: { UP: '012345678905' }, asked: '24', uom: 'EA', rejected: false, ordered: '24', accepted: '24', backordered: '0' };
  assert.deepEqual(planPoAckLine(line).acks, [{ status: 'IA', quantity: '24', uom: 'EA' }]);
  assert.deepEqual(planPoAckLine({ ...line, accepted: '20', backordered: '4', expected: '2026-12-01' }).acks, [{ status: 'IA', quantity: '20', uom: 'EA' }, { status: 'IB', quantity: '4', uom: 'EA', date: '2026-12-01' }]);
  assert.deepEqual(planPoAckLine({ ...line, accepted: '0', backordered: '24' }).acks, [{ status: 'IB', quantity: '24', uom: 'EA' }]);
  assert.deepEqual(planPoAckLine({ ...line, ordered: '22', accepted: '22' }).acks, [{ status: 'IQ', quantity: '22', uom: 'EA' }]);
  assert.deepEqual(planPoAckLine({ ...line, rejected: true, ordered: null, accepted: null, backordered: null }).acks, [{ status: 'IR', quantity: '24', uom: 'EA' }]);
  const po = { purpose: '00' as const, poNumber: 'P', orderId: 'O', ackDate: '2026-11-20' };
  assert.equal(planPoAck({ ...po, lines: [line] }).type, 'AD');
  assert.equal(planPoAck({ ...po, lines: [line, { ...line, accepted: '20', backordered: '4' }] }).type, 'AC');
  assert.equal(planPoAck({ ...po, lines: [{ ...line, rejected: true, ordered: null }] }).type, 'RD');
});

async function harness(stock: [string, string, string][]) {
  const dir = tempDir('gw-855-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  opened.push(db);
  // demo-retail with 855s for every PO (as its demo config has it).
  const retail = { ...base.partners.get('demo-retail')!, ack855: { send: 'always' as const, withinMinutes: 60 } };
  const partners = partnerDirectory(base.partners.us, [retail, base.partners.get('demo-3pl')!], base.partners);
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners, mappings: base.mappings };
  if (stock.length) await processText(h, 'stock.x12', snapshot846(1, stock), 'demo-3pl');
  return { db, h };
}

const acks = (segs: ReturnType<typeof readAllSegments>['segments']) => segs.filter((s) => s.tag === 'ACK').map((s) => s.elements.slice(1, 6).join('*').replace(/\*+$/, ''));

test('855 accepted as asked: BAK*00*AD, every line IA with the PO\'s own ids', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '100'], ['098765432109', 'ACME-EAST', '100']]);
  const r = await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  assert.equal(r.status, 'PROCESSED');
  const row = await db('outbox').where({ kind: '855' }).first();
  golden('855-demo-retail-accepted', row.content);
  const segs = await readBack(row.content);
  const bak = segs.find((s) => s.tag === 'BAK')!;
  assert.deepEqual(bak.elements.slice(1, 5), ['00', 'AD', 'PO-1001', '20261120']);
  assert.deepEqual(acks(segs), ['IA*24*EA', 'IA*12*EA', 'IA*6.5*CA']);
  assert.equal(segs.find((s) => s.tag === 'GS')!.elements[1], 'PR');
  assert.equal(row.source_ref, '855:demo-retail:PO-1001:1');
});

test('855 with backorders: BAK*00*AC, IA for what is committed and IB for the rest', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '10']]);
  await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  const row = await db('outbox').where({ kind: '855' }).first();
  golden('855-demo-retail-backordered', row.content);
  const segs = await readBack(row.content);
  assert.equal(segs.find((s) => s.tag === 'BAK')!.elements[2], 'AC');
  // WIDGET-M: 10 of 12 committed, 2 backordered; GADGET-1: none in stock.
  const a = acks(segs);
  assert.equal(a[0], 'IA*24*EA');
  assert.ok(a.some((x) => x.startsWith('IB*')), a.join(' '));
  assert.equal(a.at(-1), 'IB*6.5*CA');
});

test('855 with a rejected line (a unit that cannot be converted): IR for it, the others answered', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100']]);
  const po = readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), 'latin1').replace(/PO1\*2\*12\*EA\*/, 'PO1*2*12*ZZ*');
  await processText(h, 'po.x12', po, 'demo-retail');
  const row = await db('outbox').where({ kind: '855' }).first();
  golden('855-demo-retail-rejected-line', row.content);
  const segs = await readBack(row.content);
  assert.equal(segs.find((s) => s.tag === 'BAK')!.elements[2], 'AC');
  assert.ok(acks(segs).includes('IR*12*ZZ'), acks(segs).join(' '));
});

test('the 855 is due within the partner\'s window of its PO (ack855.withinMinutes): po-ack-overdue on the timeline when it was not sent in time', async () => {
  const { db, h } = await harness([['012345678905', 'ACME-EAST', '100']]);
  await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  const { orderTimeline } = await import('../../src/pipeline/order-timeline.ts');
  const received = Date.parse((await db('orders').first()).received_at);
  const steps = async (minutes: number) => ((await orderTimeline(db, h.partners, 'PO-1001', 'demo-retail', new Date(received + minutes * 60_000)))!.timeline as { step: string; details?: Record<string, unknown> }[]).filter((s) => s.step === 'po-ack-overdue');
  // Queued, not sent (no gateway delivers here): fine at 59 minutes, overdue after 60.
  assert.deepEqual(await steps(59), []);
  assert.deepEqual((await steps(61)).map((s) => s.details), [{ withinMinutes: 60 }]);
  // Sent at minute 5: on time, whenever asked.
  await db('outbox').where({ kind: '855' }).update({ status: 'SENT', sent_at: new Date(received + 5 * 60_000).toISOString() });
  assert.deepEqual(await steps(600), []);
  // Sent at minute 75: late, and the step says when it went.
  await db('outbox').where({ kind: '855' }).update({ sent_at: new Date(received + 75 * 60_000).toISOString() });
  assert.deepEqual((await steps(600)).map((s) => s.details), [{ withinMinutes: 60, sentAt: new Date(received + 75 * 60_000).toISOString() }]);
});
