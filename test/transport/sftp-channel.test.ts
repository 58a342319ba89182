import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { po850, testConfig, waitFor } from '../helpers.ts';
import { SSHD, sftpPartners, startSshd, type TestSshd } from './sshd.ts';

/**
 * The retailer's SFTP channel against a real OpenSSH sshd on 127.0.0.1: an 850 placed in its remote
 * inbox ends in the store, its 997 arrives in the remote outbox, the remote inbox is empty; the
 * same file again is not applied twice; a changed host key is refused and shows as the channel's error.
 */
let sshd: TestSshd | null = null;
let g: RunningGateway | null = null;
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
  await g?.stop();
  await sshd?.stop();
});

test('an 850 in the remote inbox: stored, 997 in the remote outbox, inbox empty; the same file again is not applied twice', async (t) => {
  if (!sshd) return t.skip(`no sshd (${SSHD})`);
  const cfg = testConfig({ partnersDir: partnersWithSftp(sshd, sshd.hostKeyFingerprint) });
  g = await startGateway(cfg.env);
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
  g = await startGateway(cfg.env);
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
