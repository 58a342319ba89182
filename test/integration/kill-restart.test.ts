import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import knexFactory from 'knex';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, ROOT, testConfig, waitFor } from '../helpers.ts';

/**
 * The gateway process is killed with SIGKILL while files are being processed, restarted, killed
 * again, restarted: every file is applied exactly once and acknowledged exactly once.
 */
const N = 60;

function bigPo(i: number): string {
  const ctrl = String(7000 + i).padStart(9, '0');
  const lines: string[] = [];
  for (let l = 1; l <= 150; l++) lines.push(`PO1*${l}*${l}*EA*1.5*PE*UP*0123456789${String(l % 100).padStart(2, '0')}`, `PID*F****ITEM ${l}`);
  const body = [`BEG*00*SA*KILL-${i}**20261120`, 'N1*ST*STORE*92*0017', ...lines, 'CTT*150'];
  return [
    `ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>`,
    `GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*${7000 + i}*X*004010`,
    'ST*850*0001',
    ...body,
    `SE*${body.length + 2}*0001`,
    `GE*1*${7000 + i}`,
    `IEA*1*${ctrl}`,
  ].join('~\n') + '~\n';
}

function start(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'start'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

test('SIGKILL during processing, restart: every file applied once and acknowledged once', { timeout: 120_000 }, async () => {
  const t = testConfig({ stabilityMs: 50 });
  const retail = drop(t.dataDir, 'demo-retail');
  let child = start(t.env);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitFor(() => ls(retail.in).length === 0 && ls(path.dirname(retail.in)).includes('in') && ls(retail.archive), 20_000, 'gateway up');
  await new Promise((r) => setTimeout(r, 500));
  for (let i = 0; i < N; i++) writeFileSync(path.join(retail.in, `po-${i}.x12`), bigPo(i));

  // Kill twice while work is in progress, restarting after each kill.
  for (const threshold of [8, 25]) {
    await waitFor(() => ls(retail.archive).length >= threshold, 60_000, `${threshold} files archived`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(ls(retail.archive).length < N, 'the kill came too late to test anything');
    child = start(t.env);
    child.stderr!.on('data', (d) => (stderr += d));
  }
  await waitFor(() => ls(retail.archive).length >= N && ls(retail.out).filter((f) => f.startsWith('997')).length >= N && ls(retail.out).filter((f) => f.startsWith('855')).length >= N, 60_000, 'all files archived, acknowledged (997) and answered (855)');
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  assert.equal(stderr.trim(), '', 'the gateway wrote errors');

  const db = knexFactory({ client: 'sqlite3', connection: { filename: path.join(t.dataDir, 'gateway.sqlite') }, useNullAsDefault: true });
  try {
    assert.deepEqual(ls(retail.in), []);
    assert.equal(ls(retail.archive).length, N);
    assert.deepEqual(ls(retail.error), []);
    // Exactly one event per purchase order.
    const events = await db('events').select('payload');
    const pos = events.map((e) => JSON.parse(e.payload).data.poNumber).sort();
    assert.equal(pos.length, N);
    assert.equal(new Set(pos).size, N);
    // Exactly one processed document per file name (a re-received file would show twice).
    const docs = await db('documents').select('filename', 'status');
    assert.equal(docs.length, N, `documents: ${docs.length}`);
    assert.ok(docs.every((d) => d.status === 'PROCESSED'));
    // Exactly one 997 per interchange and one 855 per PO (demo-retail's policy): in the outbox and in the out folder.
    const all = await db('outbox').select('isa13', 'status', 'filename', 'content', 'kind');
    assert.deepEqual([all.filter((o) => o.kind === '997').length, all.filter((o) => o.kind === '855').length, all.length], [N, N, 2 * N]);
    assert.ok(all.every((o) => o.status === 'SENT'));
    const outbox = all.filter((o) => o.kind === '997');
    assert.equal(ls(retail.out).filter((f) => f.startsWith('855')).length, N);
    const files = ls(retail.out).filter((f) => f.startsWith('997'));
    assert.equal(files.length, N);
    const acked = files.map((f) => readAllSegments(readFileSync(path.join(retail.out, f))).segments.find((s) => s.tag === 'AK1')!.elements[2]).sort();
    assert.equal(new Set(acked).size, N);
    assert.deepEqual(acked, Array.from({ length: N }, (_, i) => String(7000 + i)).sort());
    const isa13s = all.map((o) => o.isa13);
    assert.equal(new Set(isa13s).size, 2 * N, 'control numbers reused');
  } finally {
    await db.destroy();
  }
  // Keep the evidence readable when it fails.
  writeFileSync(path.join(t.dir, 'stderr.log'), stderr);
});
