import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { drop, ls, po850, ROOT, testConfig, waitFor } from '../helpers.ts';

/**
 * One gateway per SQLite data dir: a second one started on it exits at once with a clear message
 * (not SQLITE_BUSY, not files received twice); a gateway killed with SIGKILL leaves a stale lock
 * that the next start takes over without waiting.
 */
const bin = path.join(ROOT, 'bin', 'gateway.js');

function start(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [bin, 'start'], { cwd: ROOT, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
}

test('a second gateway on the same SQLite data dir exits at once with GW_DATA_DIR_LOCKED; after a SIGKILL the next start takes over', { timeout: 90_000 }, async () => {
  const t = testConfig();
  const retail = drop(t.dataDir, 'demo-retail');
  const first = start(t.env);
  try {
    await waitFor(() => existsSync(path.join(t.dataDir, 'gateway.lock')) && existsSync(retail.in), 30_000, 'the first gateway up');
    const second = spawnSync(process.execPath, [bin, 'start'], { cwd: ROOT, env: { ...process.env, ...t.env, PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(second.status, 2, second.stderr);
    const err = JSON.parse(second.stderr.trim().split('\n').pop()!);
    assert.equal(err.code, 'GW_DATA_DIR_LOCKED');
    assert.match(err.fix, /GATEWAY_DATA_DIR/, 'with its fix');
    assert.equal(second.stderr.trim().split('\n').length, 1, 'one line');
    assert.match(err.message, new RegExp(`pid ${first.pid}`));
    assert.doesNotMatch(second.stderr, /SQLITE_BUSY|\n\s+at /);
    // The first one goes on: a file dropped now is received once.
    writeFileSync(path.join(retail.in, 'one.x12'), po850(9701, 'PO-ONE-WRITER'));
    await waitFor(() => ls(retail.archive).some((f) => f.endsWith('-one.x12')), 30_000, 'the file archived');
  } finally {
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
  }
  // Killed: its lock is stale, and the next start takes it over at once.
  const held = JSON.parse(readFileSync(path.join(t.dataDir, 'gateway.lock'), 'utf8'));
  assert.equal(held.pid, first.pid);
  const third = start(t.env);
  let stderr = '';
  third.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitFor(() => {
      try {
        return JSON.parse(readFileSync(path.join(t.dataDir, 'gateway.lock'), 'utf8')).pid === third.pid;
      } catch {
        return false;
      }
    }, 30_000, 'the restarted gateway holds the lock');
    writeFileSync(path.join(retail.in, 'two.x12'), po850(9702, 'PO-TWO-WRITER'));
    await waitFor(() => ls(retail.archive).some((f) => f.endsWith('-two.x12')), 30_000, 'the next file archived');
    assert.equal(ls(retail.archive).filter((f) => f.endsWith('-one.x12')).length, 1, 'the first file once');
  } finally {
    third.kill('SIGTERM');
    await new Promise((r) => third.once('exit', r));
  }
  assert.ok(!existsSync(path.join(t.dataDir, 'gateway.lock')), `a gateway that stops releases the lock (exit ${third.exitCode} ${third.signalCode}; ${stderr.slice(-500)})`);
});

test('a CLI command beside a gateway that holds the write lock waits for it, and when it stays busy says GW_STORE_BUSY (exit 3), not a trace', { timeout: 60_000 }, async () => {
  const { openDb } = await import('../../src/store/db.ts');
  const t = testConfig({ extra: 'database: { client: sqlite3, filename: gateway.sqlite, cliWaitMs: 300 }' });
  const db = await openDb({ client: 'sqlite3', filename: path.join(t.dataDir, 'gateway.sqlite') });
  const emit = () => spawnSync(process.execPath, [bin, 'emit', '846', '--partner', 'demo-retail', '--full'], { cwd: ROOT, env: { ...process.env, ...t.env }, encoding: 'utf8', timeout: 30_000 });
  // Another connection holds SQLite's write lock (as a gateway does during a long transaction).
  let release!: () => void;
  let locked!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const isLocked = new Promise<void>((r) => (locked = r));
  const trx = db.transaction(async (x) => {
    await x('counters').insert({ partner_id: 'lock-holder', name: 'isa', value: 1 });
    locked();
    await held;
  });
  await isLocked;
  try {
    const busy = emit();
    assert.equal(busy.status, 3, busy.stderr);
    assert.equal(JSON.parse(busy.stderr.trim().split('\n').pop()!).code, 'GW_STORE_BUSY');
    assert.doesNotMatch(busy.stderr, /\n\s+at /);
  } finally {
    release();
    await trx;
  }
  const ok = emit();
  assert.equal(ok.status, 0, ok.stderr);
  await db.destroy();
});
