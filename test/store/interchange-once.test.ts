import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { processDocument } from '../../src/pipeline/process-inbound.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { documents } from '../../src/store/document-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { demo, po850, tempDir } from '../helpers.ts';
import { freshDb } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * The same interchange in two files processed by two instances at the same moment: accepted once
 * (a unique index on accepted interchanges), one PO, one 997; the other attempt rolls back and,
 * processed again, is the duplicate it is.
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
});
after(() => pg?.stop());

async function received(db: Db, raw: RawStore, dir: string, name: string, text: string) {
  const src = path.join(dir, name);
  writeFileSync(src, text);
  const s = await raw.put(src);
  const id = await documents.insertReceived(db, { partnerId: 'demo-retail', channel: 'folder:demo-retail', filename: name, sourcePath: null, sha256: s.sha256, size: s.size, rawPath: s.rel, format: 'unknown', correlationId: `c-${name}`, receivedAt: new Date().toISOString() });
  return (await documents.get(db, id))!;
}

test('two instances accept the same interchange at once: once', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  const base = demo();
  for (let round = 0; round < 5; round++) {
    const a = await freshDb('pg', pg);
    const b = await openDb({ client: 'pg', connection: a.client.config.connection as string });
    const dir = tempDir('gw-once-');
    const raw = new RawStore(path.join(dir, 'raw'));
    const deps = (db: Db) => ({ db, raw, partners: base.partners, mappings: base.mappings, clock: { now: () => new Date() }, logger: silentLogger });
    try {
      const text = po850(8800 + round, `ONCE-${round}`);
      const d1 = await received(a, raw, dir, 'one.x12', text);
      const d2 = await received(a, raw, dir, 'two.x12', text);
      const results = await Promise.allSettled([processDocument(deps(a), d1), processDocument(deps(b), d2)]);
      // The loser either waited and saw a duplicate, or failed on the index and is processed again.
      for (const [i, r] of results.entries()) {
        if (r.status === 'rejected') {
          assert.match(String(r.reason), /interchanges_accepted_once|unique/i);
          const again = await processDocument(deps(a), (await documents.get(a, [d1, d2][i].id))!);
          assert.equal(again.status, 'DUPLICATE');
        }
      }
      const statuses = (await a('documents').orderBy('id').select('status')).map((r) => r.status).sort();
      assert.deepEqual(statuses, ['DUPLICATE', 'PROCESSED'], `round ${round}`);
      assert.equal((await a('orders').where({ po_number: `ONCE-${round}` })).length, 1);
      assert.equal((await a('outbox').where({ kind: '997' })).length, 1, 'one 997');
    } finally {
      await a.destroy();
      await b.destroy();
    }
  }
});
