import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, po850, ROOT, tempDir, testConfig, waitFor } from '../helpers.ts';
import { x12 } from '../store/promise-harness.ts';

/**
 * Poison files (issue 12): inputs that once threw inside the gateway and stayed in in/ for ever,
 * failing again at every start. Each now ends as a coded rejection: settled (error/ or archive/),
 * acknowledged where due, visible; and the gateway goes on.
 */
let g: RunningGateway;
let dataDir: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

async function settle(partner: string, name: string, content: string | Buffer) {
  const d = drop(dataDir, partner);
  writeFileSync(path.join(d.in, name), content);
  const file = await waitFor(() => [...ls(d.archive), ...ls(d.error)].find((f) => f.endsWith(`-${name}`)), 15_000, `${name} settled`);
  const doc = await g.db('documents').where({ filename: name, partner_id: partner }).first();
  const codes = (await g.db('rejections').where({ document_id: doc.id })).map((r) => String(r.code));
  return { file, doc, codes, inError: ls(d.error).includes(file) };
}

/** The 997/TA1 queued for a document. */
async function ackOf(documentId: number): Promise<string> {
  await g.pipeline.idle();
  return (await g.db('outbox').where({ source_document_id: documentId })).map((r) => String(r.content)).join('');
}

const ship856 = (isa: number, hls: string[]) => x12('ACME3PL', isa, 'SH', '856', ['BSN*00*SHP-P*20261120*1000*0001', ...hls, `CTT*${hls.filter((s) => s.startsWith('HL*')).length}`]);

test('an 856 with a 7,000-deep HL chain: coded rejections (no stack overflow), a 997 rejecting it', async () => {
  const hls = ['HL*1**S', 'HL*2*1*O', 'PRF*PO-1'];
  for (let i = 3; i <= 7002; i++) hls.push(`HL*${i}*${i - 1}*P`);
  const r = await settle('demo-3pl', 'deep.x12', ship856(9601, hls));
  assert.equal(r.doc.status, 'REJECTED');
  assert.ok(r.codes.includes('GW_X12_HL_INVALID'), r.codes.slice(0, 5).join());
  assert.ok(r.inError);
  assert.match(await ackOf(r.doc.id), /AK5\*R\*5~[\s\S]*AK9\*R\*1\*1\*0~/);
});

test('HL level codes that are names of Object\'s prototype ("constructor", "toString"): coded rejections', async () => {
  const r = await settle('demo-3pl', 'ctor.x12', ship856(9602, ['HL*1**S', 'HL*2*1*constructor', 'HL*3*2*toString', 'HL*4*3*I', 'LIN*1*UP*012345678905', 'SN1*1*1*EA']));
  assert.equal(r.doc.status, 'REJECTED');
  // The 856 grammar rejects them first: HL03 is an ID 1/2.
  assert.ok(r.codes.includes('GW_X12_ELEMENT_TOO_LONG'), r.codes.join());
  assert.match(await ackOf(r.doc.id), /AK3\*HL\*4\*\*8~\nAK4\*3\*\*5\*constructor~/);
  assert.match(await ackOf(r.doc.id), /AK9\*R\*1\*1\*0~/);
});

test('a file ending in a bare ISA: the interchange before it is applied and acknowledged, the bare ISA is a coded rejection', async () => {
  const r = await settle('demo-retail', 'bare.x12', `${po850(9603, 'PO-BARE')}ISA`);
  assert.equal(r.doc.status, 'PARTIAL');
  assert.ok(r.codes.includes('GW_X12_ISA_MALFORMED'), r.codes.join());
  assert.equal((await g.db('orders').where({ po_number: 'PO-BARE' })).length, 1);
  assert.match(await ackOf(r.doc.id), /AK9\*A\*1\*1\*1~/);
});

test('a 3PL shipment whose tracking number holds the retailer\'s element separator: the shipment is applied, its ASN kept out with the reason', async () => {
  await settle('demo-retail', 'po-star.x12', po850(9604, 'PO-STAR', { qty: '4' }));
  const xml = '<?xml version="1.0"?><ShipmentConfirmation><Shipment id="SH-STAR" shipDate="2026-11-21" tracking="1Z*999"><Warehouse code="ACME-EAST">W</Warehouse><ShipTo code="0017">S</ShipTo><Order number="PO-STAR" customer="demo-retail"><Carton><Line number="1"><Upc>012345678905</Upc><Qty uom="EA">4</Qty></Line></Carton></Order></Shipment></ShipmentConfirmation>';
  const r = await settle('demo-3pl', 'star.xml', xml);
  assert.equal(r.doc.status, 'PROCESSED');
  const o = await g.db('orders').where({ po_number: 'PO-STAR' }).first();
  assert.equal(o.status, 'SHIPPED');
  const asn = await g.db('asns').where({ shipment_id: 'SH-STAR' }).first();
  assert.equal(asn.status, 'REFUSED');
  assert.match(asn.reason, /GW_ASN_VALUE_HAS_DELIMITER.*tracking.*1Z\*999/);
  assert.equal((await g.db('outbox').where({ kind: '856' }).whereLike('content', '%SH-STAR%')).length, 0);
});

test('gateway ack on an interchange whose ISA09 holds a delimiter (26^120): a TA1 with our date stands in, never a throw', () => {
  const dir = tempDir('gw-poison-');
  const file = path.join(dir, 'isa09.x12');
  writeFileSync(file, po850(9605, 'PO-DATE').replace('*261120*0930*', '*26^120*0930*'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'ack', file, '--partner', 'demo-retail'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /TA1\*000009605\*\d{6}\*\d{4}\*R\*014~/);
  assert.doesNotMatch(r.stdout, /26\^120/);
});

test('after all of them the gateway goes on', async () => {
  const r = await settle('demo-retail', 'after.x12', po850(9606, 'PO-AFTER-POISON'));
  assert.equal(r.doc.status, 'PROCESSED');
  assert.equal((await g.db('documents').where({ status: 'RECEIVED' })).length, 0, 'nothing left unsettled');
  assert.equal(readFileSync(path.join(dataDir, 'raw', r.doc.raw_path), 'utf8'), po850(9606, 'PO-AFTER-POISON'));
});
