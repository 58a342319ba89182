import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { positions } from '../../src/store/availability-repository.ts';
import { available } from '../../src/domain/availability.ts';
import { fromUnits, toUnits } from '../../src/domain/quantity.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, po850, snapshot846, testConfig, waitFor } from '../helpers.ts';

/**
 * The demo, end to end on the running gateway: the 3PL drops a snapshot 846, the retailer drops an
 * 850 for some of that stock; within the debounce window plus one second the retailer's out folder
 * holds an 846 delta with the reduced availability, and once demo-bigbox's own delta has given back
 * what its reservation no longer needs, one with the retailer's full share; no 846 shows more than
 * on hand - committed - safety stock.
 */
let g: RunningGateway;
let dataDir: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

/** LIN id -> QTY*33 per location, from an 846 text. */
function quantities(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let loc = '';
  const segs = readAllSegments(Buffer.from(text)).segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s.tag === 'N1') loc = s.elements[4];
    if (s.tag === 'LIN') out.set(`${s.elements[3]}@${loc}`, toUnits(segs[i + 1].elements[2])!);
  }
  return out;
}

test('snapshot then PO: an 846 delta with the reduced availability within debounce + 1 s', async () => {
  const retail = drop(dataDir, 'demo-retail');
  const tpl = drop(dataDir, 'demo-3pl');
  const debounce = g.config.partners.find((p) => p.id === 'demo-retail')!.publish846!.debounceMs;
  const list846 = () => ls(retail.out).filter((f) => f.startsWith('846_'));

  writeFileSync(path.join(tpl.in, 'snap.x12'), snapshot846(9101, [['012345678905', 'ACME-EAST', '40'], ['012345678912', 'ACME-EAST', '10']]));
  const firstFeed = await waitFor(() => list846()[0], 10_000, 'the 846 after the snapshot');
  const q1 = quantities(readFileSync(path.join(retail.out, firstFeed), 'utf8'));
  assert.equal(q1.get('RC-100045@ACME-EAST'), toUnits('14'), 'WIDGET-S: 40 on hand, demo-bigbox reserves 60% (24), the other 16 less 2 safety stock');

  const dropped = Date.now();
  writeFileSync(path.join(retail.in, 'po.x12'), po850(9102, 'PO-E2E', { qty: '15' }));
  const second = await waitFor(() => list846().find((f) => f !== firstFeed), debounce + 5000, 'the 846 after the PO');
  const landed = statSync(path.join(retail.out, second)).mtimeMs;
  // The 850 was picked up (file stability ~80 ms), processed, debounced, built and delivered.
  assert.ok(landed - dropped <= debounce + 1000 + 300, `846 delta after ${Math.round(landed - dropped)} ms (debounce ${debounce} ms)`);
  const q2 = quantities(readFileSync(path.join(retail.out, second), 'utf8'));
  // 25 can be promised now: bigbox's share is 15 and the retailer's 10 (8 after safety stock), but
  // until bigbox's own delta lowers its promise from 24 to 15 the retailer may only be shown the 1 left.
  assert.ok([0, toUnits('8')!].includes(q2.get('RC-100045@ACME-EAST')!), `WIDGET-S: ${q2.get('RC-100045@ACME-EAST')}`);
  const settled = await waitFor(
    () => list846().map((f) => quantities(readFileSync(path.join(retail.out, f), 'utf8')).get('RC-100045@ACME-EAST')).includes(toUnits('8')!),
    3 * debounce + 5000,
    'the 846 with the retailer share after bigbox gave back room',
  );
  assert.ok(settled);

  // Never more than on hand - committed - safety stock (the 846s after the PO against the store now;
  // the first one was checked against the snapshot above).
  for (const f of list846().filter((x) => x !== firstFeed)) {
    for (const [k, q] of quantities(readFileSync(path.join(retail.out, f), 'utf8'))) {
      const [id, loc] = k.split('@');
      const sku = { 'RC-100045': 'WIDGET-S', 'RC-100046': 'WIDGET-M', 'RC-200310': 'GADGET-1' }[id];
      if (!sku) continue;
      const p = await positions.get(g.db, sku, loc);
      assert.ok(q <= Math.max(0, available(p) - toUnits('2')!), `${f}: ${k} shows ${fromUnits(q)}`);
    }
  }
});
