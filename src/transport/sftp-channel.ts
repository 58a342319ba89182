import { createHash } from 'node:crypto';
import { copyFile, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { Logger } from '../core/ports.ts';
import { within } from '../core/within.ts';
import type { InboundSource, IncomingFile, OutboundSink, SettleReport, SourceCoordination, SourceStatus } from './channel.ts';
import { IN_PROGRESS } from './folder-channel.ts';
import { HostSessions, type SessionSlots } from './host-sessions.ts';

/**
 * A partner's SFTP server (ssh2-sftp-client), polled for inbound files and written to for
 * outbound ones. The host key is pinned (SHA256 fingerprint: an unknown or changed key refuses to
 * connect); the private key comes from a file or an environment variable and is never logged.
 * A poll lists, skips files too young, too big or still being written, downloads, hands each file
 * to the pipeline (which commits its bytes), and only then deletes it or moves it to the remote
 * archive (after checking it has not changed since it was listed). Polls never overlap. Delivery
 * uploads under a temporary name, then renames. Sessions per host are limited (shared by every
 * channel to that host); an idle session is given up when another channel waits for one.
 */
export interface SftpSettings {
  host: string;
  port: number;
  user: string;
  privateKey: Buffer;
  /** "SHA256:<base64>" as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  inbound: string;
  outbound: string;
  /** Remote folder for handled files; absent: they are deleted. */
  archive?: string;
  /** Remote folder for files that were rejected; absent: like `archive` (the bytes and the reason are kept locally). */
  error?: string;
  pattern: RegExp;
  pollIntervalMs: number;
  minAgeMs: number;
  maxBytes: number;
  connectTimeoutMs: number;
  /** Concurrent sessions to this host:port, over all channels that use it. */
  maxSessionsPerHost: number;
  /** An unused session is closed after this long. */
  idleMs: number;
  /** At shutdown, a transfer in progress gets this long to finish, then it is abandoned. */
  shutdownGraceMs: number;
}

const GONE = /No such file|ENOENT/i;
/**
 * Download reads of 255 KiB, 32 in flight: OpenSSH's largest read (limits@openssh.com). Measured on
 * loopback: 48 MiB/s with ssh2's default 32 KiB x 64, 190-230 MiB/s with this. A server that
 * answers with less data is read on from where it stopped (ssh2's fastGet handles short reads).
 */
const READ_CHUNK = 261_120;
/**
 * End a session and resolve once its TCP connection is closed. ssh2-sftp-client's end() resolves
 * at once, without closing anything, when its SFTP channel is already gone (after an error or a
 * connect that failed half-way), so the underlying ssh2 connection is ended and waited for too.
 */
function closeConnection(c: SftpClient, graceMs = 2000): Promise<void> {
  const conn = (c as unknown as { client?: { end(): unknown; once(event: 'close', f: () => void): unknown; _sock?: { destroyed?: boolean; destroy(): unknown } } }).client;
  const sock = conn?._sock;
  const open = !!sock && !sock.destroyed;
  const closed = open ? new Promise<void>((r) => conn!.once('close', () => r())) : Promise.resolve();
  void c.end().catch(() => undefined);
  conn?.end();
  if (!open) return closed;
  // A server too busy to answer the close (or still in the handshake a timed-out connect left) does
  // not keep the connection: after the grace period the socket is destroyed, so a session given up
  // is closed on our side before its slot goes to another.
  let t: NodeJS.Timeout | undefined;
  return Promise.race([closed, new Promise<void>((r) => (t = setTimeout(r, graceMs)))]).then(() => {
    clearTimeout(t);
    if (!sock!.destroyed) sock!.destroy();
  });
}

/** Files downloaded per poll before they are handed over (the rest wait for the next poll). */
const POLL_BATCH = 100;

export class SftpChannel implements InboundSource, OutboundSink {
  /** Recovery leaves the remote side to the next poll (it finds the same name and hash). */
  readonly remote = true;
  private client: SftpClient | null = null;
  /** Rejects the calls in flight on the current session when it is closed under them. */
  private abort: { promise: Promise<never>; reject: (e: Error) => void } | null = null;
  private connecting: Promise<SftpClient> | null = null;
  private holdsSlot = false;
  private users = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** SFTP calls on the one session run one at a time (ssh2-sftp-client's listeners are per client). */
  private ops: Promise<unknown> = Promise.resolve();
  /** What each file looked like when listed: it is only removed if it still looks the same. */
  private listed = new Map<string, { size: number; modifyTime: number }>();
  private readonly slots: SessionSlots;
  readonly status: SourceStatus = { lastError: null, lastErrorAt: null, lastPollAt: null, lastInboundAt: null, lastOutboundAt: null };
  /** Other instances on the same channel: one polls at a time (a lease renewed before each file). */
  coordination?: SourceCoordination;

  constructor(
    readonly id: string,
    private readonly s: SftpSettings,
    private readonly stagingDir: string,
    private readonly logger: Logger,
    sessions: HostSessions = new HostSessions(),
  ) {
    this.slots = sessions.for(`${s.host}:${s.port}`, s.maxSessionsPerHost);
  }

  get channel(): string {
    return `sftp:${this.id}`;
  }

  get sessions(): { host: string; open: number; peak: number; limit: number } {
    return { host: `${this.s.host}:${this.s.port}`, open: this.slots.active, peak: this.slots.peak, limit: this.slots.limit };
  }

  private fail(e: unknown): void {
    this.status.lastError = String((e as Error).message ?? e);
    this.status.lastErrorAt = new Date().toISOString();
    this.logger.warn({ channel: this.channel, err: this.status.lastError }, 'sftp channel error');
    // An SFTP status (numeric code: permission denied, no such file...) leaves the session usable
    // for the other calls in flight; anything else closes it.
    if (typeof (e as { code?: unknown }).code !== 'number') this.disconnect();
  }

  private disconnect(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.slots.notIdle(this.release);
    const c = this.client;
    this.client = null;
    // ssh2-sftp-client ignores the close it caused with end(): calls in flight would never settle.
    this.abort?.reject(new Error('the SFTP session was closed'));
    this.abort = null;
    const closed = c ? closeConnection(c) : Promise.resolve();
    if (this.holdsSlot) {
      this.holdsSlot = false;
      // The slot is free once the connection is closed (destroyed after 2 s at most): the server
      // never sees more sessions than the limit, not even while one is being torn down.
      void closed.then(() => this.slots.release());
    }
  }

  private readonly release = () => this.disconnect();

  private connect(): Promise<SftpClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      if (!this.holdsSlot) {
        await this.slots.acquire();
        this.holdsSlot = true;
      }
      if (this.stopped) {
        this.disconnect();
        throw new Error('the channel is stopping');
      }
      // The connection ended or failed under us: close it for good (its slot is freed once it is).
      const dropped = () => {
        if (this.client === client) this.disconnect();
      };
      let reject!: (e: Error) => void;
      const promise = new Promise<never>((_, r) => (reject = r));
      promise.catch(() => undefined);
      const client = new SftpClient(this.id, { error: dropped, end: dropped, close: dropped });
      const wanted = this.s.hostKeyFingerprint.replace(/^SHA256:/, '').replace(/=+$/, '');
      let seen = '';
      try {
        await client.connect({
          host: this.s.host,
          port: this.s.port,
          username: this.s.user,
          privateKey: this.s.privateKey,
          readyTimeout: this.s.connectTimeoutMs,
          keepaliveInterval: 5000,
          keepaliveCountMax: 3,
          retries: 0,
          hostHash: 'sha256',
          hostVerifier: (hex: string) => {
            seen = Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '');
            return seen === wanted;
          },
        } as unknown as Parameters<SftpClient['connect']>[0]);
      } catch (e) {
        // Closed like any session, so that its slot is freed only once this connection is closed
        // (a connect that timed out can still hold a session on the server).
        this.client = client;
        this.disconnect();
        if (seen && seen !== wanted) throw new Error(`host key SHA256:${seen} is not the pinned SHA256:${wanted}: refusing to connect`);
        throw e;
      }
      this.client = client;
      this.abort = { promise, reject };
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** Run `fn` with a session: connects (within the host's limit) and keeps the session while in use. */
  private async session<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped) throw new Error('the channel is stopping');
    this.users++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.slots.notIdle(this.release);
    try {
      return await fn();
    } catch (e) {
      this.fail(e);
      throw e;
    } finally {
      if (--this.users === 0) this.idle();
    }
  }

  private idle(): void {
    if (!this.client && !this.holdsSlot) return;
    if (this.stopped || this.slots.waiting > 0) return this.disconnect();
    this.slots.idle(this.release);
    this.idleTimer = setTimeout(this.release, this.s.idleMs);
    this.idleTimer.unref?.();
  }

  /** One SFTP call on the session, after the previous one. */
  private op<T>(fn: (c: SftpClient) => Promise<T>): Promise<T> {
    const run = async () => {
      const c = await this.connect();
      const abort = this.abort;
      return abort ? Promise.race([fn(c), abort.promise]) : fn(c);
    };
    const p = this.ops.then(run, run);
    this.ops = p.catch(() => undefined);
    return p;
  }

  async start(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    this.stopped = false;
    await mkdir(path.join(this.stagingDir, 'in'), { recursive: true });
    const tick = () => {
      if (this.stopped || this.polling) return;
      this.polling = (async () => {
        // Another instance polls this channel while it holds the lease (takeover when it dies).
        if (this.coordination && !(await this.coordination.mayPoll())) return;
        await this.poll(onFile);
      })()
        .catch(() => undefined)
        .finally(() => {
          this.polling = null;
        });
    };
    this.timer = setInterval(tick, this.s.pollIntervalMs);
    tick();
  }

  /**
   * One poll (never two at once: `start` guards it). Errors are recorded in `status` and thrown.
   * Files are downloaded first (up to `POLL_BATCH` of them), then the session is given back before
   * they are handed over: a channel never holds a session while it waits for the pipeline, which
   * may be busy settling another channel's file on the same host (a deadlock with one session).
   */
  async poll(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    await mkdir(path.join(this.stagingDir, 'in'), { recursive: true });
    const batch = await this.session(async () => {
      const now = Date.now();
      const list = (await this.op((c) => c.list(this.s.inbound))).filter((f) => f.type === '-' && !IN_PROGRESS.test(f.name) && this.s.pattern.test(f.name));
      const got: { file: IncomingFile; listed: { size: number; modifyTime: number } }[] = [];
      for (const f of list.sort((a, b) => a.modifyTime - b.modifyTime || a.name.localeCompare(b.name))) {
        if (this.stopped || got.length >= POLL_BATCH) break;
        if (now - f.modifyTime < this.s.minAgeMs) continue; // still young: maybe still growing
        if (f.size > this.s.maxBytes) {
          this.logger.warn({ channel: this.channel, file: f.name, size: f.size }, 'remote file over the size limit; left in place');
          continue;
        }
        const remote = `${this.s.inbound}/${f.name}`;
        // Staged under a name of this process's own (instances may share the data dir).
        const local = path.join(this.stagingDir, 'in', `${process.pid}~${f.name}`);
        try {
          await this.op((c) => c.fastGet(remote, local, { concurrency: 32, chunkSize: READ_CHUNK }));
        } catch (e) {
          await unlink(local).catch(() => undefined);
          // Gone between list and get (another consumer, a person): nothing to do.
          if (GONE.test(String((e as Error).message))) continue;
          throw e;
        }
        const size = (await stat(local)).size;
        if (size !== f.size) {
          // It grew (or shrank) since it was listed: still being written. The next poll takes it.
          this.logger.info({ channel: this.channel, file: f.name, listed: f.size, got: size }, 'remote file changed while read; left for the next poll');
          await unlink(local).catch(() => undefined);
          continue;
        }
        got.push({ file: { name: f.name, localPath: local, size }, listed: { size: f.size, modifyTime: f.modifyTime } });
      }
      return got;
    });
    try {
      for (const [i, { file, listed }] of batch.entries()) {
        // Not handed over when stopping (left on the server for the next start), nor when the poll
        // lease, renewed before each hand-over, was lost (this instance stalled past it: the rest
        // is left to the instance that has it now).
        if (this.stopped || (this.coordination && !(await this.coordination.mayPoll()))) {
          for (const rest of batch.slice(i)) await unlink(rest.file.localPath).catch(() => undefined);
          return;
        }
        this.listed.set(file.name, listed);
        await onFile(file);
        this.status.lastInboundAt = new Date().toISOString();
      }
    } catch (e) {
      this.fail(e);
      throw e;
    }
    this.status.lastPollAt = new Date().toISOString();
    this.status.lastError = null;
  }

  /**
   * The bytes are committed: remove the remote file or move it to the remote archive (or error)
   * folder, unless it changed since it was listed (then the next poll takes the new content).
   * A rejected file is also kept locally with its reason, next to the staging folder.
   */
  async settle(file: IncomingFile, documentId: number, outcome: 'archive' | 'error', report?: SettleReport): Promise<void> {
    const remote = `${this.s.inbound}/${file.name}`;
    const was = this.listed.get(file.name);
    // A rejected file's bytes and reason are kept locally first (the raw store has the bytes too).
    let keep: string | null = null;
    if (outcome === 'error') {
      const dir = path.join(this.stagingDir, 'error');
      await mkdir(dir, { recursive: true });
      keep = path.join(dir, `${documentId}-${file.name}`);
      if (report) await writeFile(`${keep}.error.json`, JSON.stringify({ file: file.name, channel: this.channel, ...report }, null, 2) + '\n');
      await copyFile(file.localPath, keep).catch(() => undefined);
    }
    await this.session(async () => {
      const now = await this.op((c) => c.stat(remote)).catch((e) => {
        if (GONE.test(String((e as Error).message))) return null;
        throw e;
      });
      if (now && was && (now.size !== was.size || now.modifyTime !== was.modifyTime)) {
        this.logger.warn({ channel: this.channel, file: file.name, documentId }, 'remote file changed after it was read; left for the next poll');
      } else if (now) {
        const folder = outcome === 'error' ? (this.s.error ?? this.s.archive) : this.s.archive;
        if (folder) await this.op((c) => this.rename(c, remote, `${folder}/${documentId}-${file.name}`));
        else await this.op((c) => c.delete(remote));
      }
    });
    this.listed.delete(file.name);
    await unlink(file.localPath).catch(() => undefined);
  }

  async deliver(filename: string, content: string | Buffer): Promise<void> {
    const tmp = `${this.s.outbound}/.${filename}.tmp`;
    await this.session(async () => {
      await this.op((c) => c.put(Buffer.isBuffer(content) ? content : Buffer.from(content), tmp));
      await this.op((c) => this.rename(c, tmp, `${this.s.outbound}/${filename}`));
    });
    this.status.lastOutboundAt = new Date().toISOString();
  }

  async deliverFile(filename: string, localPath: string): Promise<void> {
    const tmp = `${this.s.outbound}/.${filename}.tmp`;
    await this.session(async () => {
      await this.op((c) => c.fastPut(localPath, tmp));
      await this.op((c) => this.rename(c, tmp, `${this.s.outbound}/${filename}`));
    });
    this.status.lastOutboundAt = new Date().toISOString();
  }

  /** posix-rename@openssh.com replaces atomically; plain rename where the server lacks it. */
  private async rename(c: SftpClient, from: string, to: string): Promise<void> {
    try {
      await c.posixRename(from, to);
    } catch (e) {
      // ssh2: "Server does not support this extended request"; servers: SSH_FX_OP_UNSUPPORTED.
      if (/not support|unsupported/i.test(String((e as Error).message))) {
        await c.delete(to, true); // plain SFTP rename does not replace
        await c.rename(from, to);
      }
      else throw e;
    }
  }

  /**
   * No new polls or transfers; a transfer in progress gets `shutdownGraceMs` to finish, then the
   * session is closed under it. Nothing is lost: an abandoned download stays on the server (the
   * next start takes it), an abandoned upload leaves only its temporary name (the outbox entry
   * stays pending and is sent again).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    let giveUp = false;
    const busy = async () => {
      while (!giveUp && (this.users > 0 || this.polling)) await new Promise((r) => setTimeout(r, 20));
    };
    if ((await within(busy(), this.s.shutdownGraceMs)) === 'late') this.logger.warn({ channel: this.channel }, 'shutdown: transfer abandoned after the grace period');
    this.disconnect();
    // The calls in flight are rejected by the disconnect; only a wait for a session slot could linger.
    await within(busy(), 1000);
    giveUp = true;
  }
}

export function fingerprintOf(publicKeyBase64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
