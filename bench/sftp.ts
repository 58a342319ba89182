/**
 * Issue 5 benchmark: SFTP over loopback against a real OpenSSH sshd (the test harness's).
 *   node --import tsx bench/sftp.ts
 * 1. Polling 1,000 small files (list, download 100 per poll, hand over, delete): files/s and MiB/s.
 * 2. Polling one 100 MiB file: MiB/s.
 * 3. Uploading: 1,000 small deliveries (Buffer to a temporary name, then posix-rename) and one
 *    100 MiB file (fastPut).
 * 4. End to end through the gateway: 1,000 850s in the retailer's remote inbox until their 1,000
 *    997s are in its remote outbox.
 * 5. ssh2-sftp-client's put(localPath) against fastPut for the 100 MiB file (why deliveries of
 *    files use fastPut).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { silentLogger } from '../src/core/ports.ts';
import { startGateway } from '../src/main.ts';
import { SftpChannel, type SftpSettings } from '../src/transport/sftp-channel.ts';
import { po850, tempDir, testConfig } from '../test/helpers.ts';
import { sftpPartners, sftpSettings, startSshd } from '../test/transport/sshd.ts';

const sshd = await startSshd();
if (!sshd) {
  console.error('sshd (openssh-server) is not installed: no SFTP benchmark');
  process.exit(1);
}
const MiB = 1024 * 1024;
const settings = (inbound: string, outbound: string): SftpSettings => sftpSettings(sshd, inbound, outbound, { pollIntervalMs: 3_600_000, connectTimeoutMs: 5000, idleMs: 60_000, shutdownGraceMs: 10_000 });
const rows: string[][] = [];
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d });

/** One poll of `inbound` through a channel that settles (deletes) each file at once. */
async function pollAll(label: string, inbound: string, expect: number): Promise<void> {
  const ch = new SftpChannel('bench', settings(inbound, sshd!.dir('bench-out')), tempDir('gw-sftp-bench-'), silentLogger);
  let bytes = 0;
  let files = 0;
  const t0 = performance.now();
  // A poll takes up to 100 files; poll until the inbox is empty.
  while (readdirSync(inbound).length) {
    await ch.poll(async (f) => {
      bytes += f.size;
      files++;
      await ch.settle(f, files, 'archive');
    });
  }
  const s = (performance.now() - t0) / 1000;
  await ch.stop();
  if (files !== expect || readdirSync(inbound).length) throw new Error(`${label}: ${files} of ${expect} taken`);
  rows.push([label, fmt(files, 0), fmt(bytes / MiB, 2), fmt(s, 2), fmt(files / s, files / s < 10 ? 2 : 0), fmt(bytes / MiB / s)]);
}

// 1. 1,000 small files.
const small = sshd.dir('bench-small');
for (let i = 0; i < 1000; i++) writeFileSync(path.join(small, `po-${i}.x12`), po850(100_000 + i, `PO-B-${i}`));
await pollAll('poll 1,000 small files (850s)', small, 1000);

// 2. One 100 MiB file.
const big = sshd.dir('bench-big');
writeFileSync(path.join(big, 'big.x12'), Buffer.alloc(100 * MiB, 'x'));
await pollAll('poll one 100 MiB file', big, 1);

// 3. Uploads.
{
  const out = sshd.dir('bench-up');
  const ch = new SftpChannel('bench-up', settings(sshd.dir('bench-up-in'), out), tempDir('gw-sftp-bench-'), silentLogger);
  const content = po850(1, 'PO-UP');
  let t0 = performance.now();
  for (let i = 0; i < 1000; i++) await ch.deliver(`997-${i}.x12`, content);
  let s = (performance.now() - t0) / 1000;
  if (readdirSync(out).length !== 1000) throw new Error('uploads missing');
  rows.push(['deliver 1,000 small files (tmp + posix-rename)', '1,000', fmt((1000 * content.length) / MiB, 2), fmt(s, 2), fmt(1000 / s, 0), fmt((1000 * content.length) / MiB / s)]);
  const local = path.join(tempDir('gw-sftp-bench-'), 'big.bin');
  writeFileSync(local, Buffer.alloc(100 * MiB, 'y'));
  t0 = performance.now();
  await ch.deliverFile('BIG.x12', local);
  s = (performance.now() - t0) / 1000;
  if (statSync(path.join(out, 'BIG.x12')).size !== 100 * MiB) throw new Error('big upload incomplete');
  rows.push(['deliver one 100 MiB file (fastPut)', '1', '100', fmt(s, 2), fmt(1 / s, 2), fmt(100 / s)]);
  await ch.stop();

  // 5. put(localPath), for comparison.
  const c = new SftpClient();
  await c.connect({ host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.clientKey) });
  t0 = performance.now();
  await c.put(local, `${out}/put-local.bin`);
  s = (performance.now() - t0) / 1000;
  rows.push(['ssh2-sftp-client put(localPath), same 100 MiB, for comparison', '1', '100', fmt(s, 2), fmt(1 / s, 2), fmt(100 / s)]);
  await c.end();
}

// 4. End to end through the gateway.
{
  const inbound = sshd.dir('bench-e2e/in');
  const outbound = sshd.dir('bench-e2e/out');
  const cfg = testConfig({ partnersDir: sftpPartners(sshd, { inbound, outbound, extra: { pollIntervalMs: 100 } }) });
  mkdirSync(cfg.dataDir, { recursive: true });
  const N = 1000;
  for (let i = 0; i < N; i++) writeFileSync(path.join(inbound, `.po-${i}.x12.tmp`), po850(200_000 + i, `PO-E-${i}`));
  const g = await startGateway(cfg.env);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) renameSync(path.join(inbound, `.po-${i}.x12.tmp`), path.join(inbound, `po-${i}.x12`));
  for (;;) {
    const out = readdirSync(outbound).filter((f) => !f.startsWith('.')).length;
    if (out === N && readdirSync(inbound).length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const s = (performance.now() - t0) / 1000;
  const bytes = N * po850(200_000, 'PO-E-0').length;
  rows.push(['gateway end to end: 1,000 850s in, 1,000 997s out (SFTP both ways)', '1,000', fmt(bytes / MiB, 2), fmt(s, 2), fmt(N / s, 0), fmt(bytes / MiB / s)]);
  await g.stop();
}

await sshd.stop();
console.log('| case | files | MiB | seconds | files/s | MiB/s |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
