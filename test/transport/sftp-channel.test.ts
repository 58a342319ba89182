import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { SftpChannel } from '../../src/transport/sftp-channel.ts';
import { po850, testConfig, waitFor, gatewayTracker } from '../helpers.ts';
import { SSHD, sftpPartners, sftpSettings, startSshd, type TestSshd } from './sshd.ts';

/**
 * The retailer's SFTP channel against a real OpenSSH sshd on 127.0.0.1: an 850 placed in its remote
 * inbox ends in the store, its 997 arrives in the remote outbox, the remote inbox is empty; the
 * same file again is not applied twice; a changed host key is refused and shows as the channel's error.
 */
let sshd: TestSshd | null = null;
let g: RunningGateway | null = null;
/** Every gateway a test starts is stopped at the end, even when the test fails half-way. */
const { track, stopAll } = gatewayTracker<RunningGateway>();
let remoteIn = '';
let remoteOut = '';

function partnersWithSftp(d: TestSshd, fingerprint: string): string {
  return sftpPartners(d, { inbound: remoteIn, outbound: remoteOut, fingerprint });
}

before(async () => {
  sshd = await startSshd();
  if (!sshd) {
    console.error('\n*** sshd (openssh-server) not found: the SFTP tests are SKIPPED (.ci/run installs it) ***\n');
    return;
  }
  remoteIn = sshd.dir('in');
  remoteOut = sshd.dir('out');
});
after(async () => {
  await stopAll();
  await g?.stop();
  await sshd?.stop();
});

test('an 850 in the remote inbox: stored, 997 in the remote outbox, inbox empty; the same file again is not applied twice', async (t) => {
  if (!sshd) return t.skip(`no sshd (${SSHD})`);
  const cfg = testConfig({ partnersDir: partnersWithSftp(sshd, sshd.hostKeyFingerprint) });
  g = await track(startGateway(cfg.env));
  writeFileSync(path.join(remoteIn, 'po.x12.part'), po850(9301, 'PO-SFTP'));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await g.db('documents')).length, 0, 'a .part file is not taken');
  writeFileSync(path.join(remoteIn, 'po.x12'), po850(9301, 'PO-SFTP'));
  const ack = await waitFor(() => readdirSync(remoteOut).find((f) => f.endsWith('.x12') && !f.startsWith('.')), 15_000, 'the 997 on the SFTP server');
  assert.match(readFileSync(path.join(remoteOut, ack), 'utf8'), /AK1\*PO\*9301~/);
  const doc = await g.db('documents').where({ filename: 'po.x12' }).first();
  assert.equal(doc.channel, 'sftp:demo-retail');
  assert.equal(doc.status, 'PROCESSED');
  assert.deepEqual(readdirSync(remoteIn).filter((f) => f === 'po.x12'), [], 'the remote inbox is emptied after the commit');
  // The same file again (a remote delete that a crash prevented would look the same).
  writeFileSync(path.join(remoteIn, 'po.x12'), po850(9301, 'PO-SFTP'));
  await waitFor(async () => (await g!.db('documents').where({ filename: 'po.x12' })).length === 2 && !readdirSync(remoteIn).includes('po.x12'), 15_000, 'the second copy');
  assert.equal((await g.db('events').whereLike('payload', '%PO-SFTP%')).length, 1, 'applied once');
  await g.stop();
  g = null;
});

test('a host key that is not the pinned one is refused, and the channel reports it', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const wrong = 'SHA256:' + 'A'.repeat(43);
  const cfg = testConfig({ partnersDir: partnersWithSftp(sshd, wrong) });
  g = await track(startGateway(cfg.env));
  writeFileSync(path.join(remoteIn, 'po2.x12'), po850(9302, 'PO-SFTP-2'));
  const sftp = g.pipeline.channelStatus().find((c) => c.channel === 'sftp:demo-retail');
  const err = await waitFor(() => g!.pipeline.channelStatus().find((c) => c.channel === 'sftp:demo-retail')?.lastError, 10_000, 'the channel error');
  assert.match(err!, /not the pinned/);
  assert.ok(sftp);
  assert.equal((await g.db('documents')).length, 0);
  assert.ok(readdirSync(remoteIn).includes('po2.x12'), 'nothing taken from an unverified server');
  await g.stop();
  g = null;
});

test('a server that starts showing another host key is refused until it shows the pinned one again', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const cfg = testConfig({ partnersDir: partnersWithSftp(sshd, sshd.hostKeyFingerprint) });
  g = await track(startGateway(cfg.env));
  const gw = g;
  const status = () => gw.pipeline.channelStatus().find((c) => c.channel === 'sftp:demo-retail')!;
  await waitFor(() => status().lastPollAt, 10_000, 'a first poll');
  await sshd.rekey('other');
  try {
    writeFileSync(path.join(remoteIn, 'po3.x12'), po850(9303, 'PO-SFTP-3'));
    // (A poll during the restart may first see the connection refused.)
    assert.match(await waitFor(() => (/not the pinned/.test(status().lastError ?? '') ? status().lastError! : undefined), 10_000, 'the refusal'), /not the pinned/);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(readdirSync(remoteIn).includes('po3.x12'), 'nothing taken from the impostor');
    assert.equal((await gw.db('documents').where({ filename: 'po3.x12' })).length, 0);
  } finally {
    await sshd.rekey('own');
  }
  await waitFor(() => !readdirSync(remoteIn).includes('po3.x12'), 10_000, 'the file once the pinned key is back');
  assert.equal((await gw.db('documents').where({ filename: 'po3.x12' })).length, 1);
  await waitFor(() => status().lastError === null, 5000, 'the error to clear after a whole poll');
  await gw.stop();
  g = null;
});

test('without the posix-rename extension, delivery falls back to a plain rename (replacing the old file)', async () => {
  const calls: string[] = [];
  const client = {
    posixRename: async () => {
      throw new Error('posixRename: Server does not support this extended request');
    },
    delete: async (p: string, notFoundOk: boolean) => void calls.push(`delete ${p} ${notFoundOk}`),
    rename: async (a: string, b: string) => void calls.push(`rename ${a} ${b}`),
  };
  const ch = Object.create(SftpChannel.prototype) as { rename(c: unknown, a: string, b: string): Promise<void> };
  await ch.rename(client, '/out/.a.tmp', '/out/a');
  assert.deepEqual(calls, ['delete /out/a true', 'rename /out/.a.tmp /out/a']);
  // Any other failure is not taken for a missing extension.
  client.posixRename = async () => {
    throw new Error('posixRename: Permission denied');
  };
  await assert.rejects(ch.rename(client, '/out/.b.tmp', '/out/b'), /Permission denied/);
  assert.equal(calls.length, 2);
});

test('polls never overlap: a slow poll is not joined by the next tick', async (t) => {
  if (!sshd) return t.skip('no sshd');
  const inbound = sshd.dir('overlap/in');
  for (let i = 0; i < 3; i++) writeFileSync(path.join(inbound, `f${i}.x12`), `file ${i}`);
  const ch = new SftpChannel(
    'overlap',
    sftpSettings(sshd, inbound, sshd.dir('overlap/out'), { pollIntervalMs: 20, maxSessionsPerHost: 4, shutdownGraceMs: 1000 }),
    path.join(sshd.root, '..', 'overlap-staging'),
    silentLogger,
  );
  let inside = 0;
  let most = 0;
  const seen: string[] = [];
  await ch.start(async (f) => {
    inside++;
    most = Math.max(most, inside);
    seen.push(f.name);
    await new Promise((r) => setTimeout(r, 150)); // a slow commit: many poll ticks pass meanwhile
    await ch.settle(f, seen.length, 'archive');
    inside--;
  });
  await waitFor(() => readdirSync(inbound).length === 0, 10_000, 'the three files');
  await ch.stop();
  assert.equal(most, 1, 'one file in hand at a time');
  assert.deepEqual(seen.sort(), ['f0.x12', 'f1.x12', 'f2.x12'], 'each handed over once');
});
