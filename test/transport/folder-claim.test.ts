import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import knexFactory from 'knex';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, snapshot846, testConfig, waitFor } from '../helpers.ts';

/**
 * A folder channel claims a file by an atomic rename into processing/ under a name of its own, so
 * a file written to the same name while the first is processed is a new file: both are received,
 * processed and archived, each with its own bytes (before, the second was archived under the
 * first's document and never processed).
 */
let g: RunningGateway;
let dataDir: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

test('a file replaced under the same name while the first is processed: both processed and archived, each as itself', async () => {
  const tpl = drop(dataDir, 'demo-3pl');
  // Big enough to be seen while it is processed (9,000 LIN: within one 846's limit).
  const big = snapshot846(9801, Array.from({ length: 9_000 }, (_, i) => [String(300000000000 + i), 'ACME-EAST', String(i % 50)] as [string, string, string]));
  const small = snapshot846(9802, [['012345678905', 'ACME-EAST', '7']]);
  // The gateway's one SQLite connection is busy with the document: look through a reader of our own (WAL).
  const reader = knexFactory({ client: 'sqlite3', connection: { filename: path.join(dataDir, 'gateway.sqlite') }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
  try {
    writeFileSync(path.join(tpl.in, 'same-name.x12'), big);
    await waitFor(async () => (await reader('documents').where({ filename: 'same-name.x12', status: 'RECEIVED' })).length === 1, 20_000, 'the first file in processing');
    writeFileSync(path.join(tpl.in, 'same-name.x12'), small);
  } finally {
    await reader.destroy();
  }
  await waitFor(() => ls(tpl.archive).filter((f) => f.endsWith('-same-name.x12')).length === 2, 30_000, 'both archived');
  const both = await g.db('documents').where({ filename: 'same-name.x12' }).orderBy('id');
  assert.deepEqual(both.map((d) => d.status), ['PROCESSED', 'PROCESSED']);
  assert.notEqual(both[0].sha256, both[1].sha256);
  assert.equal(readFileSync(path.join(tpl.archive, `${both[0].id}-same-name.x12`), 'utf8'), big);
  assert.equal(readFileSync(path.join(tpl.archive, `${both[1].id}-same-name.x12`), 'utf8'), small);
  assert.deepEqual(ls(path.join(path.dirname(tpl.in), 'processing')), []);
});

test('a file that cannot be taken in (ENOSPC on the raw store) goes back to in/ and is taken in once there is room, without a restart', async () => {
  const tpl = drop(dataDir, 'demo-3pl');
  // A full disk, injected beside the real raw store: its first two writes fail as a full disk does.
  const raw = (g.pipeline as unknown as { deps: { raw: { put: (src: string) => Promise<unknown> } } }).deps.raw;
  const put = raw.put.bind(raw);
  let failures = 0;
  raw.put = async (src: string) => {
    if (failures < 2) {
      failures++;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return put(src);
  };
  try {
    writeFileSync(path.join(tpl.in, 'full-disk.x12'), snapshot846(9803, [['012345678905', 'ACME-EAST', '9']]));
    await waitFor(() => ls(tpl.archive).some((f) => f.endsWith('-full-disk.x12')), 30_000, 'taken in after the disk had room again');
  } finally {
    raw.put = put;
  }
  assert.equal(failures, 2);
  const docs = await g.db('documents').where({ filename: 'full-disk.x12' });
  assert.deepEqual(docs.map((d) => d.status), ['PROCESSED'], 'received once');
  assert.deepEqual(ls(tpl.in), []);
  assert.deepEqual(ls(path.join(path.dirname(tpl.in), 'processing')), []);
});

test('GET /ready answers while the store\'s writer is held by a long transaction (a big file being processed)', async () => {
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const isHeld = new Promise<void>((r) => (holding = r));
  // The gateway's one SQLite writer connection, held the way a 50 MiB document's transaction holds it.
  const trx = g.db.transaction(async (x) => {
    await x.raw('select 1');
    holding();
    await held;
  });
  await isHeld;
  try {
    const r = await fetch(`http://127.0.0.1:${g.port}/ready`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).status, 'ready');
  } finally {
    release();
    await trx;
  }
});
