import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { openDb } from '../../src/store/db.ts';
import { documents } from '../../src/store/document-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, po850, testConfig, waitFor } from '../helpers.ts';
import { startPostgres, type TestPostgres } from '../store/postgres.ts';
import { SSHD, sftpPartners, startSshd, type TestSshd } from '../transport/sshd.ts';
import { freshDatabase as freshDatabaseAt, spawnInstance, type Instance } from './instances.ts';

/**
 * Several gateway processes on one PostgreSQL, sharing one data dir (issue 12): files claimed
 * once, documents taken over from a dead instance when its lease runs out, one SFTP poller per
 * channel with takeover. Real processes, a real PostgreSQL cluster, a real sshd.
 */
let pg: TestPostgres | null = null;
let sshd: TestSshd | null = null;
const running: Instance[] = [];
let seq = 0;

before(async () => {
  pg = await startPostgres();
  sshd = await startSshd();
});
after(async () => {
  for (const i of running) await i.kill();
  pg?.stop();
  await sshd?.stop();
});

const freshDatabase = () => freshDatabaseAt(pg!.url);

function start(name: string, env: NodeJS.ProcessEnv, dir: string): Instance {
  const i = spawnInstance(name, env, path.join(dir, `${name}.log`));
  running.push(i);
  return i;
}

function ackedGroups(dir: string): string[] {
  return ls(dir)
    .filter((f) => f.endsWith('.x12'))
    .flatMap((f) => readAllSegments(readFileSync(path.join(dir, f))).segments.filter((s) => s.tag === 'AK1').map((s) => `${s.elements[1]}:${s.elements[2]}`));
}

async function withDb<T>(url: string, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = knexFactory({ client: 'pg', connection: url });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

test('two instances on one PostgreSQL and one data dir: 40 POs, each applied once and acknowledged once', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  const url = await freshDatabase();
  const cfg = testConfig({ stabilityMs: 50, leaseMs: 3000 });
  const env = { ...cfg.env, DATABASE_URL: url };
  const a = start('a', env, cfg.dir);
  await a.up;
  const b = start('b', env, cfg.dir);
  await b.up;
  const retail = drop(cfg.dataDir, 'demo-retail');
  const N = 40;
  for (let i = 0; i < N; i++) {
    const tmp = path.join(cfg.dir, `po-${i}.tmp`);
    writeFileSync(tmp, po850(8100 + i, `PO-TWO-${i}`, { qty: '1' }));
    renameSync(tmp, path.join(retail.in, `po-${i}.x12`));
  }
  await waitFor(() => ls(retail.archive).length >= N && ackedGroups(retail.out).length >= N, 60_000, 'all files archived and acknowledged');
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
  assert.deepEqual([...a.errors, ...b.errors], [], 'the instances logged errors');

  await withDb(url, async (db) => {
    const docs = await db('documents').where({ direction: 'in' }).select('filename', 'status', 'claimed_by');
    assert.equal(docs.length, N, 'one document per file');
    assert.equal(new Set(docs.map((d) => d.filename)).size, N);
    assert.ok(docs.every((d) => d.status === 'PROCESSED'), JSON.stringify(docs.filter((d) => d.status !== 'PROCESSED')));
    const orders = await db('events').where({ type: 'order.received' }).select('payload');
    assert.equal(orders.length, N, 'one order.received per PO');
    const box = await db('outbox').select('isa13', 'status', 'partner_id', 'kind');
    assert.equal(box.filter((o) => o.kind === '997').length, N, 'one 997 per interchange');
    assert.equal(box.filter((o) => o.kind === '855').length, N, 'one 855 per PO (demo-retail\'s policy)');
    assert.equal(box.length, 2 * N);
    assert.ok(box.every((o) => o.status === 'SENT'));
    assert.equal(new Set(box.map((o) => `${o.partner_id}:${o.isa13}`)).size, 2 * N, 'control numbers unique');
    const byInstance = new Map<string, number>();
    for (const d of docs) byInstance.set(String(d.claimed_by).split(':')[1], (byInstance.get(String(d.claimed_by).split(':')[1]) ?? 0) + 1);
    t.diagnostic(`documents received per instance (pid: count): ${JSON.stringify(Object.fromEntries(byInstance))}`);
  });
  const acked = ackedGroups(retail.out).sort();
  assert.equal(acked.length, N, 'one 997 file per group');
  assert.deepEqual(acked, Array.from({ length: N }, (_, i) => `PO:${8100 + i}`).sort());
  assert.deepEqual(ls(retail.in), []);
  assert.deepEqual(ls(retail.error), []);
  assert.deepEqual(ls(path.join(path.dirname(retail.in), 'processing')), []);
});

test('work of a dead instance is taken over once its lease runs out: a received document, and a claimed file never recorded', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  const url = await freshDatabase();
  const leaseMs = 2000;
  const cfg = testConfig({ stabilityMs: 50, leaseMs });
  const retail = drop(cfg.dataDir, 'demo-retail');
  const processing = path.join(path.dirname(retail.in), 'processing');
  mkdirSync(processing, { recursive: true });
  // What a dead instance left: a file claimed and recorded (RECEIVED, its lease still running)...
  const held = path.join(processing, `${Date.now()}-999991.1~~held.x12`);
  writeFileSync(held, po850(8201, 'PO-HELD'));
  const db = await openDb({ client: 'pg', connection: url, filename: '' });
  try {
    const raw = new RawStore(path.join(cfg.dataDir, 'raw'));
    const s = await raw.put(held);
    const id = await documents.insertReceived(db, { partnerId: 'demo-retail', channel: 'folder:demo-retail', filename: 'held.x12', sourcePath: held, sha256: s.sha256, size: s.size, rawPath: s.rel, format: 'unknown', correlationId: 'dead-1', receivedAt: new Date().toISOString(), claimedBy: 'deadhost:999991:x', leaseUntil: new Date(Date.now() + 60_000).toISOString() });
    // ...and a file claimed (renamed into processing/) but never recorded: it died in between.
    writeFileSync(path.join(processing, `${Date.now()}-999991.2~~orphan.x12`), po850(8202, 'PO-ORPHAN'));

    const c = start('c', { ...cfg.env, DATABASE_URL: url }, cfg.dir);
    await c.up;
    // The dead holder's lease still runs (6 s more): nobody touches its document meanwhile, though
    // the live instance looks for unfinished work every half of its own lease (1 s).
    await db('documents').where({ id }).update({ lease_until: new Date(Date.now() + 6000).toISOString() });
    await waitFor(() => ls(retail.archive).length === 1, 20_000, 'the orphaned claim processed meanwhile');
    assert.equal((await documents.get(db, id))!.status, 'RECEIVED', 'taken while its lease ran');
    // Once it has run out, the live instance takes both over.
    await waitFor(async () => (await documents.get(db, id))!.status === 'PROCESSED', 20_000, 'the held document taken over');
    await waitFor(() => ls(retail.archive).length === 2 && ackedGroups(retail.out).length === 2, 20_000, 'both files archived and acknowledged');
    assert.deepEqual(ackedGroups(retail.out).sort(), ['PO:8201', 'PO:8202']);
    const docs = await db('documents').where({ direction: 'in' }).select('filename', 'status', 'claimed_by');
    assert.deepEqual(docs.map((d) => `${d.filename}:${d.status}`).sort(), ['held.x12:PROCESSED', 'orphan.x12:PROCESSED']);
    assert.ok(docs.every((d) => String(d.claimed_by).split(':')[1] === String(c.child.pid)), 'the live instance holds both');
    assert.deepEqual(ls(processing), []);
    assert.equal((await db('events').where({ type: 'order.received' })).length, 2);
    await c.kill('SIGTERM');
    assert.deepEqual(c.errors, []);
  } finally {
    await db.destroy();
  }
});

test('one SFTP poller per channel across instances; when it is killed, another takes the channel over', { timeout: 120_000 }, async (t) => {
  if (!pg) return t.skip('no PostgreSQL');
  if (!sshd) return t.skip(`no sshd (${SSHD})`);
  const url = await freshDatabase();
  const remoteIn = sshd.dir(`in-${++seq}`);
  const remoteOut = sshd.dir(`out-${seq}`);
  const cfg = testConfig({ stabilityMs: 50, leaseMs: 2000, partnersDir: sftpPartners(sshd, { inbound: remoteIn, outbound: remoteOut }) });
  const env = { ...cfg.env, DATABASE_URL: url };
  const a = start('sa', env, cfg.dir);
  const b = start('sb', env, cfg.dir);
  await Promise.all([a.up, b.up]);
  const put = (i: number) => {
    const tmp = path.join(remoteIn, `.po-${i}.tmp`);
    writeFileSync(tmp, po850(8300 + i, `PO-SFTP-${i}`, { qty: '1' }));
    renameSync(tmp, path.join(remoteIn, `po-${i}.x12`));
  };
  await withDb(url, async (db) => {
    const holder = async () => (await db('leases').where({ name: 'poll:sftp:demo-retail' }).first())?.holder as string | undefined;
    const first = await waitFor(holder, 10_000, 'a poll lease');
    for (let i = 0; i < 10; i++) put(i);
    await waitFor(async () => (await db('documents').where({ channel: 'sftp:demo-retail', status: 'PROCESSED' })).length === 10, 30_000, 'the first ten');
    const pollers = new Set((await db('documents').where({ channel: 'sftp:demo-retail' }).select('claimed_by')).map((d) => String(d.claimed_by)));
    assert.deepEqual([...pollers], [first], 'every remote file was taken by the lease holder');
    // Kill the holder: the other instance takes the channel over when the lease runs out.
    const [dead, live] = String(first).split(':')[1] === String(a.child.pid) ? [a, b] : [b, a];
    await dead.kill('SIGKILL');
    for (let i = 10; i < 20; i++) put(i);
    await waitFor(async () => (await db('documents').where({ channel: 'sftp:demo-retail', status: 'PROCESSED' })).length === 20, 30_000, 'the ten after the kill');
    const now = await holder();
    assert.equal(String(now).split(':')[1], String(live.child.pid), 'the live instance holds the lease');
    const docs = await db('documents').where({ channel: 'sftp:demo-retail' }).select('filename');
    assert.equal(docs.length, 20, 'one document per remote file');
    assert.equal(new Set(docs.map((d) => d.filename)).size, 20);
    assert.equal((await db('events').where({ type: 'order.received' })).length, 20);
    await waitFor(() => ls(remoteIn).length === 0 && ackedGroups(remoteOut).length === 20, 20_000, 'inbox emptied, 20 acks on the server');
    assert.equal(new Set(ackedGroups(remoteOut)).size, 20, 'each group acknowledged once');
    await live.kill('SIGTERM');
    assert.deepEqual(live.errors, []);
  });
});
