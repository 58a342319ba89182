import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fingerprintOf, type SftpSettings } from '../../src/transport/sftp-channel.ts';
import { freePort, ROOT, tempDir } from '../helpers.ts';

/**
 * A real OpenSSH sshd on 127.0.0.1 for SFTP tests (design.md section 8): its own host key, an
 * authorized client key, internal-sftp. `null` when sshd is not installed (.ci/run installs
 * openssh-server; the tests say so loudly).
 *
 * Run as root (CI), the SFTP sessions log in as `nobody`, so that file permissions on the remote
 * folders mean something (root would bypass them). `stop()` kills the sessions too: sshd detaches
 * each connection into its own session, and killing only the listener would leave them serving.
 */
export interface TestSshd {
  port: number;
  user: string;
  root: string;
  clientKey: string;
  /** Another key pair, not authorized. */
  otherKey: string;
  hostKeyFingerprint: string;
  /** A folder under the SFTP user's home, owned by that user. */
  dir(rel: string): string;
  /** Restart with another host key (a rebuilt or impersonated server), or with its own again. */
  rekey(which: 'other' | 'own'): Promise<void>;
  /** Authorize a key (the public half of `keyPath`). */
  authorize(keyPath: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  running(): boolean;
}

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p)) ?? null;

/** Every live descendant of `pid` (from /proc), deepest last. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

export async function startSshd(): Promise<TestSshd | null> {
  // CI sets GATEWAY_REQUIRE_SSHD: there a missing sshd fails the tests instead of skipping them.
  if (!SSHD && process.env.GATEWAY_REQUIRE_SSHD) throw new Error('sshd (openssh-server) is required here (GATEWAY_REQUIRE_SSHD) but not installed');
  if (!SSHD) return null;
  const dir = tempDir('gw-sshd-');
  chmodSync(dir, 0o755);
  const root = path.join(dir, 'home');
  mkdirSync(root, { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  const otherKey = path.join(dir, 'other_ed25519');
  const otherHostKey = path.join(dir, 'host2_ed25519');
  for (const k of [hostKey, clientKey, otherKey, otherHostKey]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`));
  chmodSync(authorizedKeys, 0o644);
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  const user = isRoot ? 'nobody' : execFileSync('id', ['-un']).toString().trim();
  const uid = Number(execFileSync('id', ['-u', user]).toString());
  const gid = Number(execFileSync('id', ['-g', user]).toString());
  if (isRoot) chownSync(root, uid, gid);
  const dirOf = (rel: string) => {
    const p = path.join(root, rel);
    mkdirSync(p, { recursive: true });
    if (isRoot) chownSync(p, uid, gid);
    return p;
  };
  mkdirSync('/run/sshd', { recursive: true });
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 100',
      'MaxSessions 100',
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  // The SHA256 fingerprint of the host key, as ssh-keygen -lf prints it.
  const pub = readFileSync(`${hostKey}.pub`, 'utf8').split(' ')[1];
  const hostKeyFingerprint = fingerprintOf(pub);
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) return;
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
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
    const sessions = descendants(c.pid!);
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    for (const p of sessions) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };
  const rekey = async (which: 'other' | 'own') => {
    const text = readFileSync(config, 'utf8').replace(/^HostKey .*$/m, `HostKey ${which === 'own' ? hostKey : otherHostKey}`);
    writeFileSync(config, text);
    await stop();
    await start();
  };
  const authorize = (keyPath: string) => {
    writeFileSync(authorizedKeys, readFileSync(`${keyPath}.pub`), { flag: 'a' });
  };
  await start();
  return { port, user, root, clientKey, otherKey, hostKeyFingerprint, dir: dirOf, rekey, authorize, stop, start, running: () => !!child };
}

/**
 * A copy of the repository's partner files where a partner (demo-retail unless told) also has an
 * SFTP channel to `d`; with `dir`, that copy is changed instead.
 */
export function sftpPartners(
  d: TestSshd,
  o: { inbound: string; outbound: string; fingerprint?: string; key?: string; extra?: Record<string, unknown>; partner?: string; dir?: string },
): string {
  let dir = o.dir;
  if (!dir) {
    dir = path.join(tempDir('gw-partners-'), 'partners');
    cpSync(path.join(ROOT, 'config', 'partners'), dir, { recursive: true });
  }
  const file = path.join(dir, `${o.partner ?? 'demo-retail'}.yaml`);
  const settings: Record<string, unknown> = {
    host: '127.0.0.1',
    port: d.port,
    user: d.user,
    privateKeyPath: o.key ?? d.clientKey,
    hostKeyFingerprint: o.fingerprint ?? d.hostKeyFingerprint,
    inbound: o.inbound,
    outbound: o.outbound,
    pattern: '\\.(x12|edi|xml)$',
    pollIntervalMs: 200,
    minAgeMs: 0,
    connectTimeoutMs: 3000,
    ...o.extra,
  };
  const sftp = `  sftp: ${JSON.stringify(settings)}\n`;
  // The transport tests count what the channel carries for each file (its 997); the retailer's
  // 855s, which the order-loop tests cover, are turned off here.
  const text = readFileSync(file, 'utf8').replace(/^ack855: .*$/m, 'ack855: { send: never }');
  const anchor = 'channels:\n  folder: { enabled: true }\n';
  if (!text.includes(anchor)) throw new Error(`${file} changed: no folder channel line`);
  writeFileSync(file, text.replace(anchor, () => `${anchor}${sftp}`));
  return dir;
}

/** Settings for an SftpChannel made directly (not through a partner file) to `d`. */
export function sftpSettings(d: TestSshd, inbound: string, outbound: string, o: Partial<SftpSettings> = {}): SftpSettings {
  return {
    host: '127.0.0.1',
    port: d.port,
    user: d.user,
    privateKey: readFileSync(d.clientKey),
    hostKeyFingerprint: d.hostKeyFingerprint,
    inbound,
    outbound,
    pattern: /.*/,
    pollIntervalMs: 100,
    minAgeMs: 0,
    maxBytes: 1e10,
    connectTimeoutMs: 3000,
    maxSessionsPerHost: 2,
    idleMs: 1000,
    shutdownGraceMs: 5000,
    ...o,
  };
}
