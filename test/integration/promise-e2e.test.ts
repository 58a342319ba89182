import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, testConfig, waitFor } from '../helpers.ts';
import { inv, po } from '../store/promise-harness.ts';

/**
 * The promise, end to end on the running gateway: the 3PL drops a snapshot with 10 units of an
 * item; both retailers get their 846s (together at most 10 less the safety stock, the strategic
 * account not below the other); both order exactly what they were shown, dropped at the same
 * moment; both are committed in full and no oversell is recorded.
 */
let g: RunningGateway;
let dataDir: string;
let base: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  base = `http://127.0.0.1:${g.port}`;
});
after(() => g.stop());

const UPC = '012345678929'; // WIDGET-L: no partner has its own id for it, both get the UPC

/** The QTY*33 for the UPC at ACME-EAST in the newest 846 of a partner's out folder that names it. */
function shownIn(out: string): string | undefined {
  for (const f of ls(out).filter((x) => x.startsWith('846_')).reverse()) {
    const segs = readAllSegments(readFileSync(path.join(out, f))).segments;
    let loc = '';
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].tag === 'N1') loc = segs[i].elements[4];
      if (segs[i].tag === 'LIN' && segs[i].elements[3] === UPC && loc === 'ACME-EAST') return segs[i + 1].elements[2];
    }
  }
  return undefined;
}

test('10 units, two retailers: what each is shown it gets, both at once, no oversell', async () => {
  const tpl = drop(dataDir, 'demo-3pl');
  const retail = drop(dataDir, 'demo-retail');
  const bigbox = drop(dataDir, 'demo-bigbox');
  writeFileSync(path.join(tpl.in, 'snap.x12'), inv(7001, [[`LIN*1*UP*${UPC}`, 'QTY*17*10*EA', 'N1*WH*W*92*CMH1']]));
  const [r, b] = await waitFor(() => {
    const x = shownIn(retail.out);
    const y = shownIn(bigbox.out);
    return x !== undefined && y !== undefined && [x, y];
  }, 15_000, 'both retailers\' 846s');
  const safety = Number(g.config.partners.find((p) => p.id === 'demo-retail')!.publish846!.safetyStock) / 10_000;
  assert.ok(Number(r) + Number(b) <= 10 - safety, `shown ${r} + ${b}`);
  assert.ok(Number(b) >= Number(r), 'the strategic account is not shown less');
  assert.deepEqual([r, b], ['2', '6']);

  // Both order exactly what they were shown, at the same moment.
  writeFileSync(path.join(retail.in, 'po.x12'), po('RETAILCO', 7002, 'E2E-R', [`PO1*1*${r}*EA*9*PE*UP*${UPC}`]));
  writeFileSync(path.join(bigbox.in, 'po.x12'), po('BIGBOX', 7003, 'E2E-B', [`PO1*1*${b}*EA*9*PE*UP*${UPC}`]));
  await waitFor(() => ls(retail.archive).length === 1 && ls(bigbox.archive).length === 1, 15_000, 'both POs processed');
  for (const [poNumber, partner, qty] of [['E2E-R', 'demo-retail', r], ['E2E-B', 'demo-bigbox', b]]) {
    const o = await (await fetch(`${base}/orders/${poNumber}?partner=${partner}`)).json();
    assert.equal(o.status, 'OPEN', `${poNumber}: ${JSON.stringify(o)}`);
    assert.deepEqual([o.lines[0].ordered, o.lines[0].committed, o.lines[0].backordered], [qty, qty, '0']);
  }
  const over = await (await fetch(`${base}/oversells`)).json();
  assert.deepEqual(over.oversells, []);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.doesNotMatch(metrics, /^gateway_oversells\{/m);
  // Each got its 997, and the 846s that follow show what is left (2 units nobody was promised).
  assert.ok(ls(retail.out).some((f) => f.startsWith('997_')));
  const a = await (await fetch(`${base}/availability/WIDGET-L`)).json();
  assert.deepEqual(a.positions.map((p: { committed: string; available: string }) => [p.committed, p.available]), [['8', '2']]);
});
