import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { po850, ROOT, snapshot846, testConfig, waitFor, gatewayTracker } from '../helpers.ts';
import { SSHD, sftpPartners, startSshd, type TestSshd } from './sshd.ts';

/**
 * Running SFTP channels against a real sshd: the per-host session limit (checked on the server's
 * side too), a delivery marked FAILED after the configured attempts and sent again with
 * `gateway resend`, and SIGTERM during a download (the process exits promptly, the file stays).
 */
let sshd: TestSshd | null = null;
let g: RunningGateway | null = null;
/** Every gateway a test starts is stopped at the end, even when the test fails half-way. */
const { track, stopAll } = gatewayTracker<RunningGateway>();
let n = 0;

before(async () => {
  sshd = await startSshd();
  if (!sshd) console.error('\n*** sshd (openssh-server) not found: the SFTP operation tests are SKIPPED (.ci/run installs it) ***\n');
});
after(async () => {
  await stopAll();
  await g?.stop();
  await sshd?.stop();
});

const files = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.')).sort();

/**
 * Sessions the server holds open: its ESTABLISHED sockets whose client side is ESTABLISHED too (a
 * session our client has already closed, FIN sent, is not counted while sshd is slow to tear its
 * side down under load), by the client's address.
 */
function serverConnections(port: number): Set<string> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3);
  const established = new Set(rows.filter((f) => f[3] === '01').map((f) => `${f[1]}>${f[2]}`));
  return new Set(rows.filter((f) => f[1].endsWith(`:${hex}`) && f[3] === '01' && established.has(`${f[2]}>${f[1]}`)).map((f) => f[2]));
}

/**
 * The most sessions open at once, sampled every 5 ms. /proc/net/tcp is not a snapshot (the kernel
 * lists it bucket by bucket, page by page, while connections come and go: under load one read can
 * show a closed session and the one that followed it), so a session counts as open beside another
 * only when both are seen in two reads in a row.
 */
function sessionSampler(port: number): { stop(): number } {
  let max = 0;
  let prev = new Set<string>();
  const t = setInterval(() => {
    const cur = serverConnections(port);
    max = Math.max(max, [...cur].filter((c) => prev.has(c)).length);
    prev = cur;
  }, 5);
  return {
    stop() {
      clearInterval(t);
      return max;
    },
  };
}

test('two partners on one host with maxSessionsPerHost 1: never two sessions at once, every file through', async (t) => {
  if (!sshd) return t.skip(`no sshd (${SSHD})`);
  const id = ++n;
  const dirs = { rin: sshd.dir(`s${id}/retail/in`), rout: sshd.dir(`s${id}/retail/out`), tin: sshd.dir(`s${id}/3pl/in`), tout: sshd.dir(`s${id}/3pl/out`) };
  const extra = { maxSessionsPerHost: 1, idleMs: 60_000, pollIntervalMs: 100 };
  const partners = sftpPartners(sshd, { inbound: dirs.rin, outbound: dirs.rout, extra });
  sftpPartners(sshd, { inbound: dirs.tin, outbound: dirs.tout, extra, partner: 'demo-3pl', dir: partners });
  const sampler = sessionSampler(sshd.port);
  try {
    g = await track(startGateway(testConfig({ partnersDir: partners }).env));
    const N = 8;
    for (let i = 0; i < N; i++) {
      writeFileSync(path.join(dirs.rin, `po-${i}.x12`), po850(10_000 + i, `PO-LIMIT-${i}`));
      writeFileSync(path.join(dirs.tin, `snap-${i}.x12`), snapshot846(11_000 + i, [['012345678905', 'ACME-EAST', String(10 + i)]]));
    }
    const gw = g;
    // The retailer also gets 846 deltas (the 3PL's snapshots move stock): count the 997s.
    const acks = (dir: string) => files(dir).filter((f) => f.startsWith('997')).length;
    await waitFor(() => acks(dirs.rout) === N && acks(dirs.tout) === N && !files(dirs.rin).length && !files(dirs.tin).length, 30_000, 'every 997 on both partners, both inboxes empty');
    assert.equal((await gw.db('documents').where({ status: 'PROCESSED' })).length, 2 * N);
    const st = gw.pipeline.channelStatus().filter((c) => c.channel.startsWith('sftp:'));
    assert.equal(st.length, 2);
    for (const c of st) assert.deepEqual({ peak: c.sessions!.peak, limit: c.sessions!.limit }, { peak: 1, limit: 1 });
    assert.equal(sampler.stop(), 1, 'the server never saw two sessions at once');
    await gw.stop();
    g = null;
  } finally {
    sampler.stop();
  }
});

test('a delivery that keeps failing is marked FAILED and shows in GET /outbox; `gateway resend` sends it again', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const id = ++n;
  const inbound = sshd.dir(`r${id}/in`);
  const outbound = sshd.dir(`r${id}/out`);
  const cfg = testConfig({ partnersDir: sftpPartners(sshd, { inbound, outbound, extra: { outbound: `${outbound}/missing` } }), extra: 'outbound: { maxAttempts: 2, sweepMs: 200 }' });
  const gw = (g = await track(startGateway(cfg.env)));
  writeFileSync(path.join(inbound, 'po.x12'), po850(12_000, 'PO-RESEND'));
  const failed = await waitFor(async () => {
    const r = (await (await fetch(`http://127.0.0.1:${gw.port}/outbox?status=FAILED`)).json()) as { outbox: { id: number; attempts: number; lastError: string; kind: string }[] };
    return r.outbox[0];
  }, 20_000, 'the FAILED entry over the API');
  assert.equal(failed.attempts, 2);
  assert.equal(failed.kind, '997');
  assert.match(failed.lastError, /No such file/i);
  // The partner creates the folder; the operator resends (the CLI works beside the running gateway).
  sshd.dir(`r${id}/out/missing`);
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'resend', String(failed.id)], { env: { ...process.env, ...cfg.env }, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), { requeued: [failed.id] });
  await waitFor(() => files(`${outbound}/missing`).length === 1, 10_000, 'the resent 997');
  assert.match(readFileSync(path.join(outbound, 'missing', files(`${outbound}/missing`)[0]), 'utf8'), /AK1\*PO\*12000~/);
  const row = await gw.db('outbox').where({ id: failed.id }).first();
  assert.equal(row.status, 'SENT');
  // Nothing left to resend: a clear answer, exit 1.
  const again = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'resend', '--failed'], { env: { ...process.env, ...cfg.env }, timeout: 30_000 }).catch((e) => e);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /GW_NOT_FOUND/);
  await gw.stop();
  g = null;
});

test('SIGTERM during a download: the process abandons it and exits (nothing recorded), the remote file stays for the next start', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const id = ++n;
  const inbound = sshd.dir(`k${id}/in`);
  const outbound = sshd.dir(`k${id}/out`);
  const big = path.join(inbound, 'big.x12');
  writeFileSync(big, Buffer.alloc(400 * 1024 * 1024, 'x'));
  const cfg = testConfig({ partnersDir: sftpPartners(sshd, { inbound, outbound, extra: { shutdownGraceMs: 300 } }), maxBytes: 1e9 });
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'start'], { env: { ...process.env, ...cfg.env, PORT: '0' }, stdio: 'ignore' });
  try {
    const staged = path.join(cfg.dataDir, 'sftp', 'demo-retail', 'in', `${child.pid}~big.x12`);
    await waitFor(() => existsSync(staged) && statSync(staged).size > 0, 20_000, 'the download to start');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.equal(statSync(big).size, 400 * 1024 * 1024, 'the remote file is untouched');
    assert.ok(!existsSync(staged), 'no half download left behind');
    // The transfer was abandoned, not finished first: no document was recorded for it.
    const knex = (await import('knex')).default;
    const db = knex({ client: 'sqlite3', connection: { filename: path.join(cfg.dataDir, 'gateway.sqlite') }, useNullAsDefault: true });
    try {
      assert.equal((await db('documents').where({ filename: 'big.x12' })).length, 0, 'the download was finished and recorded before the exit');
    } finally {
      await db.destroy();
    }
  } finally {
    child.kill('SIGKILL');
  }
});

test('the private key from the environment is used and never written to the log', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const id = ++n;
  const inbound = sshd.dir(`l${id}/in`);
  const outbound = sshd.dir(`l${id}/out`);
  const key = readFileSync(sshd.clientKey, 'utf8');
  const partners = sftpPartners(sshd, { inbound, outbound });
  // The key from an environment variable instead of the file.
  const file = path.join(partners, 'demo-retail.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/"privateKeyPath":"[^"]*"/, '"privateKeyEnv":"RETAIL_SFTP_KEY"'));
  const cfg = testConfig({ partnersDir: partners });
  writeFileSync(path.join(inbound, 'po.x12'), po850(13_000, 'PO-LOG'));
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'start'], {
    env: { ...process.env, ...cfg.env, PORT: '0', LOG_LEVEL: 'debug', RETAIL_SFTP_KEY: Buffer.from(key).toString('base64') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  try {
    await waitFor(() => files(outbound).length === 1, 20_000, 'the 997 over SFTP with the key from the environment');
    // A failure too: the inbound folder disappears.
    rmSync(inbound, { recursive: true });
    await waitFor(() => log.includes('sftp channel error'), 10_000, 'the channel error in the log');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const body = key.split('\n').filter((l) => l && !l.startsWith('-----'));
  assert.ok(body.length > 0);
  for (const line of body) assert.ok(!log.includes(line), 'no line of the key in the log');
  assert.ok(!log.includes(Buffer.from(key).toString('base64').slice(0, 40)), 'nor its base64');
  assert.match(log, /"received"|received/);
});
