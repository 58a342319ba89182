/**
 * Issue 12: pg-boss measured against the gateway's own leases, for claiming work across instances.
 *   node --import tsx bench/queue.ts [items] [workers]
 * On a throwaway PostgreSQL cluster: `items` work items recorded one by one (as files arrive),
 * then `workers` concurrent claimants (separate pools, as separate instances would be), each
 * claiming one item at a time, doing the item's work in a transaction (one row update) and
 * marking it done. pg-boss 10 (the last release that runs on Node 20; 11+ and graphile-worker
 * 0.17+ need Node 22): a job per item, fetch (SKIP LOCKED) and complete. Ours: the documents row
 * itself, claimed with a lease (FOR UPDATE SKIP LOCKED) and finished in the work's transaction.
 */
import knexFactory from 'knex';
import PgBoss from 'pg-boss';
import { openDb, type Db } from '../src/store/db.ts';
import { documents } from '../src/store/document-repository.ts';
import { freshDatabase } from '../test/integration/instances.ts';
import { startPostgres } from '../test/store/postgres.ts';

const N = Number(process.argv[2] ?? 2000);
const W = Number(process.argv[3] ?? 3);
const pg = await startPostgres();
if (!pg) {
  console.error('PostgreSQL server binaries are needed');
  process.exit(1);
}
const rows: string[] = [];
try {
  // pg-boss: its own job table beside ours; the item's work and the job's completion are two commits.
  {
    const url = await freshDatabase(pg.url, 'qboss');
    const work = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 * W } });
    await work.schema.createTable('work', (t) => {
      t.integer('id').primary();
      t.string('status', 16);
    });
    await work('work').insert(Array.from({ length: N }, (_, i) => ({ id: i, status: 'RECEIVED' })));
    const bosses = await Promise.all(Array.from({ length: W }, async () => {
      const b = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
      b.on('error', () => undefined);
      await b.start();
      return b;
    }));
    await bosses[0].createQueue('docs');
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await bosses[0].send('docs', { id: i });
    const enqueue = N / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    let done = 0;
    await Promise.all(bosses.map(async (b) => {
      for (;;) {
        const [job] = await b.fetch<{ id: number }>('docs', { batchSize: 1 });
        if (!job) break;
        await work.transaction((trx) => trx('work').where({ id: job.data.id }).update({ status: 'PROCESSED' }));
        await b.complete('docs', job.id);
        done++;
      }
    }));
    const rate = done / ((performance.now() - t0) / 1000);
    const left = Number((await work('work').whereNot({ status: 'PROCESSED' }).count({ n: '*' }))[0].n);
    rows.push(`| pg-boss 10.4.2 (job table beside the work) | ${N} | ${W} | ${enqueue.toFixed(0)} | ${rate.toFixed(0)} | ${done} done, ${left} left |`);
    for (const b of bosses) await b.stop({ graceful: false, wait: true });
    await work.destroy();
  }
  // Ours: the document row is the work item; claim with a lease, finish in the work's transaction.
  {
    const url = await freshDatabase(pg.url, 'qours');
    const dbs: Db[] = [];
    for (let w = 0; w < W; w++) dbs.push(await openDb({ client: 'pg', connection: url }));
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await documents.insertReceived(dbs[0], { partnerId: 'demo-retail', channel: 'folder:demo-retail', filename: `f-${i}`, sourcePath: null, sha256: String(i), size: 1, rawPath: 'x', format: 'x12', correlationId: String(i), receivedAt: new Date().toISOString() });
    const enqueue = N / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    let done = 0;
    await Promise.all(dbs.map(async (db, w) => {
      for (;;) {
        const [doc] = await documents.claimUnfinished(db, `w${w}`, new Date(), 60_000, { limit: 1 });
        if (!doc) break;
        await db.transaction(async (trx) => {
          await documents.lockForWork(trx, doc.id);
          await documents.finish(trx, doc.id, { status: 'PROCESSED', format: 'x12', partnerId: 'demo-retail', errorCode: null, errorMessage: null, setIds: '', isa13s: '', eventCount: 0, processedAt: new Date().toISOString() });
        });
        done++;
      }
    }));
    const rate = done / ((performance.now() - t0) / 1000);
    const left = Number((await dbs[0]('documents').whereNot({ status: 'PROCESSED' }).count({ n: '*' }))[0].n);
    rows.push(`| the gateway's leases (documents row, FOR UPDATE SKIP LOCKED) | ${N} | ${W} | ${enqueue.toFixed(0)} | ${rate.toFixed(0)} | ${done} done, ${left} left |`);
    for (const db of dbs) await db.destroy();
  }
} finally {
  pg.stop();
}
console.log('| queue | items | claimants | recorded/s | claimed and finished/s | result |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
