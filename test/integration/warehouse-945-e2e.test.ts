import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, ROOT, settled, snapshot846, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 13 (945 in): the 3PL's warehouse shipping advice on the running gateway. PO-1001 from
 * demo-retail, then the 3PL's 945 shipping line 1 short by 2: the retailer's 856 carries what
 * shipped (22 and 12), the 2 are taken off commitment and on hand and backordered on the line
 * (demo-retail's shortShipments policy), the timeline shows the short shipment, the 3PL gets its
 * 997. With a partner whose policy is `cancel`, the 2 are cancelled on the line instead.
 */
let g: RunningGateway;
let dataDir: string;
const started: RunningGateway[] = [];
before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  started.push(g);
});
after(async () => {
  for (const x of started) await x.stop();
});

async function shipShort(gw: RunningGateway, dir: string) {
  const retail = drop(dir, 'demo-retail');
  const tpl = drop(dir, 'demo-3pl');
  writeFileSync(path.join(tpl.in, 'stock.x12'), snapshot846(7801, [['012345678905', 'ACME-EAST', '100'], ['012345678912', 'ACME-EAST', '50'], ['098765432109', 'ACME-EAST', '200']]));
  await settled(tpl, 'stock.x12');
  writeFileSync(path.join(retail.in, 'po.x12'), readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')));
  await settled(retail, 'po.x12');
  writeFileSync(path.join(tpl.in, 'ship.x12'), readFileSync(path.join(ROOT, 'samples/demo-3pl/945-shipment.x12')));
  await settled(tpl, 'ship.x12');
  const doc = await gw.db('documents').where({ filename: 'ship.x12' }).first();
  return { retail, tpl, doc };
}

test('945 short by 2 on a line: 856 to the retailer with what shipped, the 2 backordered and off on hand, on the timeline; a 997 to the 3PL', async () => {
  const { retail, tpl, doc } = await shipShort(g, dataDir);
  assert.equal(doc.status, 'PROCESSED', `${doc.status} ${doc.error_message}`);
  const asnFile = await waitFor(() => ls(retail.out).find((f) => f.startsWith('856_')), 10_000, 'the 856');
  const segs = readAllSegments(readFileSync(path.join(retail.out, asnFile))).segments;
  assert.deepEqual(segs.filter((s) => s.tag === 'PRF').map((s) => s.elements[1]), ['PO-1001']);
  assert.deepEqual(segs.filter((s) => s.tag === 'SN1').map((s) => s.elements[2]), ['22', '12']);
  assert.deepEqual(segs.filter((s) => s.tag === 'MAN').map((s) => s.elements[2]), ['000614141000000038', '000614141000000045']);

  const base = `http://127.0.0.1:${g.port}`;
  const t = await (await fetch(`${base}/orders/PO-1001`)).json();
  const line1 = t.lines.find((l: { lineNumber: string }) => l.lineNumber === '1');
  assert.deepEqual([line1.ordered, line1.shipped, line1.committed, line1.backordered], ['24', '22', '0', '2'], JSON.stringify(line1));
  const short = t.timeline.find((s: { step: string }) => s.step === 'short-shipped');
  assert.ok(short, t.timeline.map((s: { step: string }) => s.step).join(', '));
  assert.equal(short.details['WIDGET-S'], '2');
  assert.equal(t.status, 'BACKORDERED');
  // On hand: 100 - 22 shipped - 2 the warehouse could not find.
  const pos = await g.db('positions').where({ item: 'WIDGET-S', location: 'ACME-EAST' }).first();
  assert.equal(Number(pos.on_hand) / 10_000, 76);
  assert.equal(Number(pos.committed), 0);
  const warn = await g.db('rejections').where({ document_id: doc.id, code: 'GW_SHORT_SHIPPED' });
  assert.equal(warn.length, 1);
  const ack = await waitFor(() => ls(tpl.out).find((f) => f.startsWith('997') && readFileSync(path.join(tpl.out, f), 'utf8').includes('AK1*SW*2201')), 10_000, 'the 997 of the 945');
  assert.match(readFileSync(path.join(tpl.out, ack), 'utf8'), /AK5\*A/);
});

test('with shortShipments: cancel the short 2 are cancelled on the line, nothing left open', async () => {
  const { cpSync, readFileSync: rf, writeFileSync: wf } = await import('node:fs');
  const { tempDir } = await import('../helpers.ts');
  const partners = path.join(tempDir('gw-partners-'), 'partners');
  cpSync(path.join(ROOT, 'config', 'partners'), partners, { recursive: true });
  const file = path.join(partners, 'demo-retail.yaml');
  wf(file, rf(file, 'utf8').replace('unknownItems: backorder', 'unknownItems: backorder\nshortShipments: cancel'));
  const t = testConfig({ partnersDir: partners });
  const gw = await startGateway(t.env);
  started.push(gw);
  const { doc } = await shipShort(gw, t.dataDir);
  assert.equal(doc.status, 'PROCESSED');
  const line = await gw.db('order_lines').where({ line_number: '1' }).first();
  assert.deepEqual([line.ordered, line.shipped, line.committed, line.backordered].map((v: unknown) => Number(v) / 10_000), [22, 22, 0, 0]);
  assert.equal(line.reason_code, 'GW_SHORT_SHIPPED');
  assert.match(line.reason, /2 short-shipped by demo-3pl \(shipment SHP-5101\): cancelled/);
});
