import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { partnerDirectory } from '../../src/domain/partner.ts';
import { openDb } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, processText, ROOT, snapshot846, tempDir } from '../helpers.ts';
import { golden, readBack } from './outbound-golden.ts';

/**
 * A retailer's PO shipped by the 3PL -> the retailer's 856, byte for byte (samples/outbound/856-*.x12,
 * UPDATE_GOLDEN=1 rewrites), in both structures; a bad shipment is refused with its reason and
 * never reaches the outbox.
 */
const base = demo();
const shipmentXml = readFileSync(path.join(ROOT, 'samples/demo-3pl/shipment-confirmation.xml'), 'utf8');

async function harness(structure: 'SOPI' | 'SOTPI') {
  const dir = tempDir('gw-asn-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  // No 855 here (it would take the control numbers the golden 856 has): po-ack-855.test.ts has them.
  const retail = { ...base.partners.get('demo-retail')!, ack855: { send: 'never' as const, withinMinutes: 60 }, asn856: { ...base.partners.get('demo-retail')!.asn856!, structure } };
  const partners = partnerDirectory(base.partners.us, [retail, base.partners.get('demo-3pl')!], base.partners);
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners, mappings: base.mappings };
  await processText(h, 'stock.x12', snapshot846(1, [['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '100'], ['098765432109', 'ACME-EAST', '100']]), 'demo-3pl');
  await processText(h, 'po.x12', readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')), 'demo-retail');
  return { db, h };
}

for (const structure of ['SOPI', 'SOTPI'] as const) {
  test(`856 in ${structure}: PO, quantities, SSCCs, the retailer's item ids, HL structure`, async () => {
    const { db, h } = await harness(structure);
    const r = await processText(h, 'ship.xml', shipmentXml, 'demo-3pl');
    assert.equal(r.status, 'PROCESSED');
    assert.deepEqual(r.asns?.map((a) => [a.poNumber, a.status]), [['PO-1001', 'QUEUED']]);
    const row = await db('outbox').where({ kind: '856' }).first();
    golden(`856-demo-retail-${structure}`, row.content);
    await readBack(row.content, base);
    const segs = readAllSegments(Buffer.from(row.content)).segments;
    const levels = segs.filter((s) => s.tag === 'HL').map((s) => s.elements[3]).join('');
    assert.equal(levels, structure === 'SOPI' ? 'SOPIPI' : 'SOTPIPI');
    assert.deepEqual(segs.filter((s) => s.tag === 'PRF').map((s) => s.elements[1]), ['PO-1001']);
    assert.deepEqual(segs.filter((s) => s.tag === 'LIN').map((s) => `${s.elements[2]}:${s.elements[3]}`), ['IN:RC-100045', 'UP:012345678912']);
    assert.deepEqual(segs.filter((s) => s.tag === 'SN1').map((s) => s.elements[2]), ['20', '6']);
    assert.equal(segs.find((s) => s.tag === 'CTT')!.elements[1], String(segs.filter((s) => s.tag === 'HL').length));
    assert.equal(segs.find((s) => s.tag === 'N1' && s.elements[1] === 'ST')!.elements[4], '0017', 'ship-to as the PO gave it');
    await db.destroy();
  });
}

test('a bad shipment is refused with its reason and never reaches the outbox', async () => {
  const { db, h } = await harness('SOPI');
  // 999 of line 1 (24 ordered), and a carton SSCC with a wrong check digit.
  const bad = shipmentXml.replace('<Qty uom="EA">20</Qty>', '<Qty uom="EA">999</Qty>').replace('000614141000000021', '000614141000000022').replace('ACME-SHP-7001', 'ACME-SHP-7002');
  const r = await processText(h, 'bad.xml', bad, 'demo-3pl');
  assert.equal(r.status, 'PROCESSED', 'the shipment itself is recorded; only the ASN is held back');
  const [a] = r.asns!;
  assert.equal(a.status, 'REFUSED');
  assert.ok(a.problems.some((p) => p.startsWith('GW_ASN_OVER_SHIPMENT')), a.problems.join());
  assert.ok(a.problems.some((p) => p.startsWith('GW_ASN_SSCC_INVALID')), a.problems.join());
  assert.equal((await db('outbox').where({ kind: '856' })).length, 0);
  const row = await db('asns').where({ po_number: 'PO-1001' }).first();
  assert.equal(row.status, 'REFUSED');
  assert.match(row.reason, /999 shipped of 24 ordered/);
  await db.destroy();
});

test('an SSCC used on an earlier ASN is never used again', async () => {
  const { db, h } = await harness('SOPI');
  const ok = await processText(h, 'ok.xml', shipmentXml.replace('<Qty uom="EA">20</Qty>', '<Qty uom="EA">2</Qty>').replace('ACME-SHP-7001', 'ACME-SHP-7003'), 'demo-3pl');
  assert.equal(ok.asns![0].status, 'QUEUED');
  const again = await processText(h, 'again.xml', shipmentXml.replace('<Qty uom="EA">20</Qty>', '<Qty uom="EA">1</Qty>').replace('ACME-SHP-7001', 'ACME-SHP-7004'), 'demo-3pl');
  assert.equal(again.asns![0].status, 'REFUSED');
  assert.ok(again.asns![0].problems.some((p) => p.startsWith('GW_ASN_SSCC_REUSED')));
  await db.destroy();
});

test('acks of what we send: a 997 rejecting our 856, and an ASN with no 997 past the window is overdue', async () => {
  const { orderTimeline } = await import('../../src/pipeline/order-timeline.ts');
  const { db, h } = await harness('SOPI');
  await processText(h, 'ship.xml', shipmentXml, 'demo-3pl');
  const row = await db('outbox').where({ kind: '856' }).first();
  await db('outbox').where({ id: row.id }).update({ status: 'SENT', sent_at: '2026-11-20T10:00:00.000Z' });
  const later = new Date('2026-11-20T12:00:00.000Z');
  const overdue = await orderTimeline(db, h.partners, 'PO-1001', undefined, later);
  assert.ok((overdue!.timeline as { step: string }[]).some((s) => s.step === 'asn-overdue'));
  const reject997 = [
    'ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261121*1200*U*00401*000008001*0*P*>',
    'GS*FA*RETAILCO*DISTRIBUTOR1*20261121*1200*8001*X*004010',
    'ST*997*0001',
    `AK1*SH*${row.gs06}`,
    'AK2*856*0001',
    'AK3*SN1*18**8',
    'AK4*2**6*20',
    'AK5*R*5',
    'AK9*R*1*1*0',
    'SE*8*0001',
    'GE*1*8001',
    'IEA*1*000008001',
  ].join('~\n') + '~\n';
  const r = await processText(h, 'ack.x12', reject997, 'demo-retail');
  assert.equal(r.status, 'PROCESSED');
  const acked = await db('outbox').where({ id: row.id }).first();
  assert.equal(acked.ack_status, 'rejected');
  const t = await orderTimeline(db, h.partners, 'PO-1001', undefined, later);
  const step = (t!.timeline as { step: string; details: { status: string } }[]).find((s) => s.step === 'asn-acknowledged');
  assert.equal(step?.details.status, 'rejected');
  assert.ok(!(t!.timeline as { step: string }[]).some((s) => s.step === 'asn-overdue'));
  await db.destroy();
});
