import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort, tempDir } from '../helpers.ts';

/**
 * A real OpenSSH sshd on 127.0.0.1 for SFTP tests (design.md section 8): its own host key, an
 * authorized client key, internal-sftp. `null` when sshd is not installed (.ci/run installs
 * openssh-server; the tests say so loudly).
 */
export interface TestSshd {
  port: number;
  user: string;
  root: string;
  clientKey: string;
  hostKeyFingerprint: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p)) ?? null;


export async function startSshd(): Promise<TestSshd | null> {
  if (!SSHD) return null;
  const dir = tempDir('gw-sshd-');
  const root = path.join(dir, 'home');
  mkdirSync(root, { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const port = await freePort();
  const user = execFileSync('id', ['-un']).toString().trim();
  mkdirSync('/run/sshd', { recursive: true });
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  // The SHA256 fingerprint of the host key, as ssh2 computes it (base64 of the raw key's digest).
  const pub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ')[1];
  const hostKeyFingerprint = `SHA256:${createHash('sha256').update(Buffer.from(pub, 'base64')).digest('base64').replace(/=+$/, '')}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Ready when the port accepts connections.
    const end = Date.now() + 5000;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), r(true)));
        s.once('error', () => r(false));
      });
      if (ok) return;
      if (Date.now() > end) throw new Error('sshd did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    if (!child) return;
    const c = child;
    child = null;
    c.kill('SIGTERM');
    await new Promise((r) => c.once('exit', r));
  };
  await start();
  return { port, user, root, clientKey, hostKeyFingerprint, stop, start };
}
