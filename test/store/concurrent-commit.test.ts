import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { processDocument } from '../../src/pipeline/process-inbound.ts';
import { positions } from '../../src/store/availability-repository.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { documents } from '../../src/store/document-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { writeFileSync } from 'node:fs';
import { demo, tempDir } from '../helpers.ts';
import { freshDb, inv, po } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * Two instances on one PostgreSQL committing the same stock at the same moment: the positions an
 * allocation reads are locked until its transaction ends, so the second waits and sees what the
 * first committed: together they never commit more than there is.
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
});
after(() => pg?.stop());

const UPC = '012345678929'; // WIDGET-L

async function send(db: Db, raw: RawStore, dir: string, name: string, text: string, partner: string) {
  const base = demo();
  const src = path.join(dir, name);
  writeFileSync(src, text);
  const s = await raw.put(src);
  const id = await documents.insertReceived(db, { partnerId: partner, channel: `folder:${partner}`, filename: name, sourcePath: null, sha256: s.sha256, size: s.size, rawPath: s.rel, format: 'unknown', correlationId: `c-${name}`, receivedAt: new Date().toISOString() });
  return processDocument({ db, raw, partners: base.partners, mappings: base.mappings, clock: { now: () => new Date() }, logger: silentLogger }, (await documents.get(db, id))!);
}

test('two instances commit the same 10 units at once: 10 committed in all, the rest backordered', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  for (let round = 0; round < 5; round++) {
    const first = await freshDb('pg', pg);
    const url = first.client.config.connection as string;
    const a = first;
    const b = await openDb({ client: 'pg', connection: url });
    const dir = tempDir('gw-conc-');
    const raw = new RawStore(path.join(dir, 'raw'));
    try {
      await send(a, raw, dir, 'snap.x12', inv(100 + round, [[`LIN*1*UP*${UPC}`, 'QTY*17*10*EA', 'N1*WH*W*92*ACME-EAST']]), 'demo-3pl');
      const [r1, r2] = await Promise.all([
        send(a, raw, dir, 'r.x12', po('RETAILCO', 200 + round, `CC-R-${round}`, [`PO1*1*10*EA*1*PE*UP*${UPC}`]), 'demo-retail'),
        send(b, raw, dir, 'b.x12', po('BIGBOX', 300 + round, `CC-B-${round}`, [`PO1*1*10*EA*1*PE*UP*${UPC}`]), 'demo-bigbox'),
      ]);
      assert.deepEqual([r1.status, r2.status], ['PROCESSED', 'PROCESSED']);
      const p = await positions.get(a, 'WIDGET-L', 'ACME-EAST');
      assert.equal(p.committed, 10 * 10_000, `round ${round}: committed ${p.committed / 10_000} of 10 on hand`);
      const lines = await a('order_lines').select('committed', 'backordered');
      assert.equal(lines.reduce((n, l) => n + Number(l.committed), 0), 10 * 10_000);
      assert.equal(lines.reduce((n, l) => n + Number(l.backordered), 0), 10 * 10_000);
    } finally {
      await a.destroy();
      await b.destroy();
    }
  }
});
