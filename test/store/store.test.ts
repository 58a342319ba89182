import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { processDocument } from '../../src/pipeline/process-inbound.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { counters } from '../../src/store/counter-repository.ts';
import { documents } from '../../src/store/document-repository.ts';
import { events } from '../../src/store/event-repository.ts';
import { outbox } from '../../src/store/outbox-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { writeFileSync } from 'node:fs';
import { demo, po850, ROOT, tempDir } from '../helpers.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/** The same store behaviour on a real SQLite file and on a real PostgreSQL server. */
const ctx = demo();
let pg: TestPostgres | null = null;

before(async () => {
  pg = await startPostgres();
  if (!pg) console.error('\n*** PostgreSQL server binaries not found: the PostgreSQL store tests are SKIPPED (.ci/run installs postgresql) ***\n');
});
after(() => pg?.stop());

function backend(name: 'sqlite' | 'pg') {
  describe(`store on ${name}`, () => {
    let db: Db;
    let raw: RawStore;
    let dir: string;
    const clock = { now: () => new Date('2026-11-20T10:00:00Z') };
    before(async () => {
      if (name === 'pg' && !pg) return;
      dir = tempDir('gw-store-');
      db = name === 'sqlite' ? await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') }) : await openDb({ client: 'pg', connection: pg!.url });
      raw = new RawStore(path.join(dir, 'raw'));
    });
    after(async () => db?.destroy());

    async function receive(name: string, content: string | Buffer, partner = 'demo-retail') {
      const src = path.join(dir, name);
      writeFileSync(src, content);
      const s = await raw.put(src);
      const id = await documents.insertReceived(db, { partnerId: partner, channel: `folder:${partner}`, filename: name, sourcePath: null, sha256: s.sha256, size: s.size, rawPath: s.rel, format: 'unknown', correlationId: `c-${name}`, receivedAt: clock.now().toISOString() });
      const doc = (await documents.get(db, id))!;
      assert.equal(typeof doc.id, 'number');
      assert.equal(typeof doc.size, 'number');
      return processDocument({ db, raw, partners: ctx.partners, mappings: ctx.mappings, clock, logger: silentLogger }, doc);
    }

    test('process, duplicate, resend after rejection', async (t) => {
      if (!db) return t.skip('no PostgreSQL');
      const a = await receive('a.x12', po850(101, 'PO-101'));
      assert.equal(a.status, 'PROCESSED');
      assert.equal(a.eventCount, 1);
      const again = await receive('a2.x12', po850(101, 'PO-101'));
      assert.equal(again.status, 'DUPLICATE');
      assert.equal(await events.count(db), 1);
      const bad = await receive('b.x12', po850(102, 'PO-102').replace('IEA*1*000000102', 'IEA*1*000000103'));
      assert.equal(bad.status, 'REJECTED');
      const fixed = await receive('b2.x12', po850(102, 'PO-102'));
      assert.equal(fixed.status, 'PROCESSED');
      assert.equal(await events.count(db), 2);
      const sample = await receive('asn.x12', (await import('node:fs')).readFileSync(path.join(ROOT, 'samples/demo-3pl/856-asn.x12')), 'demo-3pl');
      // It ships PO-1001, which this store has not received: it waits for it.
      assert.equal(sample.status, 'WAITING');
      const ev = await events.forDocument(db, sample.documentId);
      assert.equal((ev[0].data as { orders: { packs: unknown[] }[] }).orders[0].packs.length, 2);
      const acks = await outbox.all(db);
      // Each applied PO also has its 855 (demo-retail's policy: always), queued in its transaction before its 997.
      assert.deepEqual(acks.map((o) => [o.partner_id, o.kind, o.isa13]), [
        ['demo-retail', '855', '000000001'],
        ['demo-retail', '997', '000000002'],
        ['demo-retail', 'TA1', '000000003'],
        ['demo-retail', '855', '000000004'],
        ['demo-retail', '997', '000000005'],
        ['demo-3pl', '997', '000000001'],
      ]);
    });

    test('control numbers: unique and increasing under concurrent transactions', async (t) => {
      if (!db) return t.skip('no PostgreSQL');
      const got = await Promise.all(Array.from({ length: 20 }, () => db.transaction((trx) => counters.next(trx, 'p-concurrent', 'isa'))));
      assert.equal(new Set(got).size, 20);
      assert.deepEqual([...got].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(await counters.peek(db, 'p-concurrent', 'isa'), 20);
      // A rolled-back allocation is not seen by anyone.
      await assert.rejects(db.transaction(async (trx) => {
        await counters.next(trx, 'p-concurrent', 'isa');
        throw new Error('roll back');
      }));
      assert.equal(await counters.next(db, 'p-concurrent', 'isa'), 21);
    });
  });
}

backend('sqlite');
backend('pg');
