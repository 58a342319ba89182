import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { GatewayPipeline } from '../../src/pipeline/gateway-pipeline.ts';
import { outbox } from '../../src/store/outbox-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { openDb } from '../../src/store/db.ts';
import type { OutboundSink } from '../../src/transport/channel.ts';
import { demo, tempDir } from '../helpers.ts';
import { freshDb } from './promise-harness.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

/**
 * Two instances on one PostgreSQL deliver the same outbox: each entry is delivered once, by the
 * instance that claimed it (SKIP LOCKED leases); an entry whose claimant died is delivered by
 * another once the lease has run out.
 */
let pg: TestPostgres | null = null;
before(async () => {
  pg = await startPostgres();
});
after(() => pg?.stop());

/** A sink that records what it was given, slowly (as a remote server is). */
function recordingSink(log: string[], who: string): OutboundSink {
  return {
    async deliver(filename: string) {
      await new Promise((r) => setTimeout(r, 2));
      log.push(`${who}:${filename}`);
    },
    async deliverFile(filename: string) {
      log.push(`${who}:${filename}`);
    },
  } as unknown as OutboundSink;
}

async function instance(url: string, name: string, log: string[]) {
  const base = demo();
  const db = await openDb({ client: 'pg', connection: url });
  const deps = { db, raw: new RawStore(path.join(tempDir('gw-claim-'), 'raw')), partners: base.partners, mappings: base.mappings, clock: { now: () => new Date() }, logger: silentLogger };
  return { db, pipeline: new GatewayPipeline(deps, [{ partnerId: 'demo-retail', sources: [], sink: recordingSink(log, name) }], { maxBytes: 1e9, maxDeliveryAttempts: 3, deliveryLeaseMs: 60_000, claimBatch: 20 }) };
}

test('two instances on one PostgreSQL: every outbox entry delivered once, whoever claims it', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  // One database both instances use (freshDb makes a new one per call: make it once, share its URL).
  const first = await freshDb('pg', pg);
  const url = (first.client.config.connection as string);
  await first.destroy();
  const log: string[] = [];
  const a = await instance(url, 'A', log);
  const b = await instance(url, 'B', log);
  try {
    const N = 300;
    for (let i = 0; i < N; i++) {
      await outbox.enqueue(a.db, { partnerId: 'demo-retail', kind: '997', sourceDocumentId: null, sourceRef: `claim-${i}`, filename: `997_${i}.x12`, content: 'x', isa13: String(i).padStart(9, '0'), gs06: null, createdAt: new Date().toISOString() });
    }
    await Promise.all([a.pipeline.dispatch(), b.pipeline.dispatch(), a.pipeline.dispatch(), b.pipeline.dispatch()]);
    const files = log.map((l) => l.split(':')[1]);
    assert.equal(files.length, N, `${files.length} deliveries for ${N} entries`);
    assert.equal(new Set(files).size, N, 'none delivered twice');
    assert.ok(log.some((l) => l.startsWith('A:')) && log.some((l) => l.startsWith('B:')), 'both instances delivered');
    assert.equal(Number((await a.db('outbox').where({ status: 'SENT' }).count({ n: '*' }))[0].n), N);

    // An instance dies holding a claim: once its lease has run out, another delivers the entry.
    await outbox.enqueue(a.db, { partnerId: 'demo-retail', kind: '997', sourceDocumentId: null, sourceRef: 'claim-orphan', filename: '997_orphan.x12', content: 'x', isa13: '000009999', gs06: null, createdAt: new Date().toISOString() });
    const [held] = await outbox.claim(a.db, 'dead-instance', new Date(), 60_000);
    assert.equal(held.filename, '997_orphan.x12');
    await b.pipeline.dispatch();
    assert.ok(!log.includes('B:997_orphan.x12'), 'not while the lease holds');
    await b.db('outbox').where({ id: held.id }).update({ lease_until: new Date(Date.now() - 1000).toISOString() });
    await b.pipeline.dispatch();
    assert.ok(log.includes('B:997_orphan.x12'), 'delivered after the lease ran out');
  } finally {
    await a.pipeline.stop();
    await b.pipeline.stop();
    await a.db.destroy();
    await b.db.destroy();
  }
});

test('claimOne (the CLI\'s emit beside a running gateway): the entry goes to one claimant; a lapsed claim can be taken', async () => {
  const db = await freshDb('sqlite', null);
  try {
    await outbox.enqueue(db, { partnerId: 'demo-retail', kind: '846', sourceDocumentId: null, sourceRef: 'one', filename: '846_1.x12', content: 'x', isa13: '000000001', gs06: null, createdAt: new Date().toISOString() });
    const [{ id }] = await db('outbox').select('id');
    // The running gateway claimed it first: the CLI does not deliver it.
    assert.equal((await outbox.claim(db, 'gateway', new Date(), 60_000)).length, 1);
    assert.equal(await outbox.claimOne(db, Number(id), 'cli:1', new Date(), 60_000), false);
    // Its lease ran out (it died): the CLI may claim it, and then nobody else can.
    assert.equal(await outbox.claimOne(db, Number(id), 'cli:1', new Date(Date.now() + 120_000), 60_000), true);
    assert.equal((await outbox.claim(db, 'gateway', new Date(Date.now() + 130_000), 60_000)).length, 0);
    await outbox.markSent(db, Number(id), new Date().toISOString(), 'cli:1');
    assert.equal(await outbox.claimOne(db, Number(id), 'cli:2', new Date(Date.now() + 999_000), 60_000), false, 'a SENT entry is never claimed');
  } finally {
    await db.destroy();
  }
});
