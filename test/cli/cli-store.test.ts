import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, po850, ROOT, snapshot846, testConfig, waitFor } from '../helpers.ts';

/** rebuild, divergence, availability and emit 846 as a user runs them, against a gateway's store. */
let g: RunningGateway;
let env: NodeJS.ProcessEnv;
let dataDir: string;

function gw(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, lines: r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l)) : [], err: r.stderr };
}

before(async () => {
  const t = testConfig();
  env = t.env;
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  const tpl = drop(dataDir, 'demo-3pl');
  const retail = drop(dataDir, 'demo-retail');
  writeFileSync(path.join(tpl.in, 's1.x12'), snapshot846(9201, [['012345678905', 'ACME-EAST', '40'], ['012345678912', 'ACME-EAST', '10']]));
  await waitFor(() => ls(tpl.archive).length === 1, 10_000, 's1');
  writeFileSync(path.join(retail.in, 'po.x12'), po850(9202, 'PO-CLI', { qty: '15' }));
  await waitFor(() => ls(retail.archive).length === 1, 10_000, 'po');
  writeFileSync(path.join(tpl.in, 's2.x12'), snapshot846(9203, [['012345678905', 'ACME-EAST', '37']]));
  await waitFor(() => ls(tpl.archive).length === 2, 10_000, 's2');
  await g.pipeline.idle();
  await g.stop();
});
after(() => undefined);

test('availability: the position and the partner view', () => {
  const r = gw('availability', '--item', 'WIDGET-S', '--partner', 'demo-retail');
  assert.equal(r.code, 0, r.err);
  const [a] = r.lines;
  assert.deepEqual(a.positions[0], { item: 'WIDGET-S', location: 'ACME-EAST', onHand: '37', committed: '15', inTransit: '0', hold: '0', damaged: '0', warehouseHeld: '0', safetyStock: '0', available: '22' });
  assert.equal(a.partnerView.rank, 1);
  const kit = gw('availability', '--item', 'WIDGET-PACK').lines[0];
  assert.deepEqual(kit.kit, { 'WIDGET-S': '2', 'WIDGET-M': '1' });
});

test('divergence: what each snapshot changed', () => {
  const r = gw('divergence', '--partner', 'demo-3pl');
  assert.equal(r.code, 0);
  const latest = r.lines.find((l) => l.item === 'WIDGET-S' && l.before === '40');
  assert.deepEqual([latest.snapshot, latest.difference], ['37', '-3']);
  assert.equal(gw('divergence', '--all').lines.length, 3);
});

test('rebuild: the same numbers from the log (exit 0 when nothing changed)', () => {
  const r = gw('rebuild');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.lines[0].changed, 0);
  assert.equal(r.lines[0].positions, 2);
});

test('emit 846 --full: a file in the partner\'s out folder', () => {
  const r = gw('emit', '846', '--partner', 'demo-retail', '--full');
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(r.lines[0].delivered, 'utf8');
  // What it was shown is now its promise, and with bigbox's the promises stay within the 22 that can be promised.
  const shown = /LIN\*\d+\*IN\*RC-100045~\nQTY\*33\*(\d+)\*EA~/.exec(text)![1];
  const a = gw('availability', '--item', 'WIDGET-S').lines[0];
  const mine = a.promises.find((p: { partner: string; location: string }) => p.partner === 'demo-retail' && p.location === 'ACME-EAST');
  assert.deepEqual([mine.shown, mine.promised], [shown, shown]);
  const total = a.promises.filter((p: { location: string }) => p.location === 'ACME-EAST').reduce((n: number, p: { promised: string }) => n + Number(p.promised), 0);
  assert.ok(total <= 22, `promised ${total} of 22`);
  assert.ok(Number(shown) <= 22 - 2 - 13, 'bigbox reserves 60% of 22; the rest less 2 of safety stock');
  assert.equal(gw('emit', '856', '--partner', 'demo-retail').code, 2);
  assert.equal(gw('emit', '846', '--partner', 'nobody').code, 2);
});

test('order: the PO and its timeline; an unknown PO exits 1', () => {
  const r = gw('order', 'PO-CLI', '--partner', 'demo-retail');
  assert.equal(r.code, 0, r.err);
  const [o] = r.lines;
  assert.equal(o.status, 'OPEN');
  assert.deepEqual(o.lines[0], { lineNumber: '1', item: 'WIDGET-S', location: 'ACME-EAST', ordered: '15', committed: '15', backordered: '0', shipped: '0', released: '15', status: 'OPEN', unit: 'EA', asOrdered: { quantity: '15', uom: 'EA' } });
  // The retailer's 855 and the 3PL's 940 are queued with the PO and sent.
  assert.deepEqual(o.timeline.map((s: { step: string }) => s.step).sort(), ['committed', 'po-ack-queued', 'po-ack-sent', 'received', 'warehouse-order-queued', 'warehouse-order-sent']);
  assert.equal(gw('order', 'NOPE').code, 1);
});
