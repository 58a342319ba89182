import { createHash } from 'node:crypto';
import { mkdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { Logger } from '../core/ports.ts';
import type { InboundSource, IncomingFile, OutboundSink } from './channel.ts';
import { IN_PROGRESS } from './folder-channel.ts';

/**
 * A partner's SFTP server (ssh2-sftp-client), polled for inbound files and written to for
 * outbound ones. The host key is pinned (SHA256 fingerprint: an unknown or changed key refuses to
 * connect); the private key comes from a file or an environment variable and is never logged.
 * A poll lists, skips files too young, too big or still being written, downloads, hands each file
 * to the pipeline (which commits its bytes), and only then deletes it or moves it to the remote
 * archive. Polls never overlap. Delivery uploads under a temporary name, then renames.
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
  pattern: RegExp;
  pollIntervalMs: number;
  minAgeMs: number;
  maxBytes: number;
  connectTimeoutMs: number;
}

export class SftpChannel implements InboundSource, OutboundSink {
  private client: SftpClient | null = null;
  private connecting: Promise<SftpClient> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** The last error and the last success, for the status API. */
  readonly status: { lastError: string | null; lastErrorAt: string | null; lastPollAt: string | null } = { lastError: null, lastErrorAt: null, lastPollAt: null };

  constructor(
    readonly id: string,
    private readonly s: SftpSettings,
    private readonly stagingDir: string,
    private readonly logger: Logger,
  ) {}

  get channel(): string {
    return `sftp:${this.id}`;
  }

  private fail(e: unknown): void {
    this.status.lastError = String((e as Error).message ?? e);
    this.status.lastErrorAt = new Date().toISOString();
    this.logger.warn({ channel: this.channel, err: this.status.lastError }, 'sftp channel error');
    const c = this.client;
    this.client = null;
    void c?.end().catch(() => undefined);
  }

  private connect(): Promise<SftpClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new SftpClient(this.id, { error: () => undefined, end: () => undefined, close: () => undefined });
      const wanted = this.s.hostKeyFingerprint.replace(/^SHA256:/, '').replace(/=+$/, '');
      let seen = '';
      try {
        await client.connect({
          host: this.s.host,
          port: this.s.port,
          username: this.s.user,
          privateKey: this.s.privateKey,
          readyTimeout: this.s.connectTimeoutMs,
          retries: 0,
          hostHash: 'sha256',
          hostVerifier: (hex: string) => {
            seen = Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '');
            return seen === wanted;
          },
        } as unknown as Parameters<SftpClient['connect']>[0]);
      } catch (e) {
        if (seen && seen !== wanted) throw new Error(`host key SHA256:${seen} is not the pinned SHA256:${wanted}: refusing to connect`);
        throw e;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  async start(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    this.stopped = false;
    await mkdir(this.stagingDir, { recursive: true });
    const tick = () => {
      if (this.stopped || this.polling) return;
      this.polling = this.poll(onFile).finally(() => {
        this.polling = null;
      });
    };
    this.timer = setInterval(tick, this.s.pollIntervalMs);
    tick();
  }

  /** One poll (never two at once: `start` guards it). */
  async poll(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    try {
      const c = await this.connect();
      const now = Date.now();
      const list = (await c.list(this.s.inbound)).filter((f) => f.type === '-' && !IN_PROGRESS.test(f.name) && this.s.pattern.test(f.name));
      for (const f of list.sort((a, b) => a.modifyTime - b.modifyTime || a.name.localeCompare(b.name))) {
        if (this.stopped) return;
        if (now - f.modifyTime < this.s.minAgeMs) continue; // still young: maybe still growing
        if (f.size > this.s.maxBytes) {
          this.logger.warn({ channel: this.channel, file: f.name, size: f.size }, 'remote file over the size limit; left in place');
          continue;
        }
        const remote = `${this.s.inbound}/${f.name}`;
        const local = path.join(this.stagingDir, f.name);
        try {
          await c.fastGet(remote, local);
        } catch (e) {
          // Gone between list and get (another consumer, a person): nothing to do.
          if (/No such file|ENOENT/i.test(String((e as Error).message))) continue;
          throw e;
        }
        const got = (await stat(local)).size;
        if (got !== f.size) {
          await unlink(local).catch(() => undefined);
          continue; // it grew while we read it: next poll
        }
        await onFile({ name: f.name, localPath: local, size: got });
      }
      this.status.lastPollAt = new Date().toISOString();
      this.status.lastError = null;
    } catch (e) {
      this.fail(e);
    }
  }

  /** The bytes are committed: remove the remote file (or move it to the remote archive). */
  async settle(file: IncomingFile, documentId: number): Promise<void> {
    const c = await this.connect();
    const remote = `${this.s.inbound}/${file.name}`;
    try {
      if (this.s.archive) await c.posixRename(remote, `${this.s.archive}/${documentId}-${file.name}`);
      else await c.delete(remote);
    } catch (e) {
      if (!/No such file|ENOENT/i.test(String((e as Error).message))) throw e;
    }
    await unlink(file.localPath).catch(() => undefined);
  }

  async deliver(filename: string, content: string | Buffer): Promise<void> {
    const c = await this.connect().catch((e) => {
      this.fail(e);
      throw e;
    });
    const tmp = `${this.s.outbound}/.${filename}.tmp`;
    const dest = `${this.s.outbound}/${filename}`;
    try {
      await c.put(Buffer.isBuffer(content) ? content : Buffer.from(content), tmp);
      await this.rename(c, tmp, dest);
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  async deliverFile(filename: string, localPath: string): Promise<void> {
    const c = await this.connect();
    const tmp = `${this.s.outbound}/.${filename}.tmp`;
    try {
      await c.fastPut(localPath, tmp);
      await this.rename(c, tmp, `${this.s.outbound}/${filename}`);
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  /** posix-rename@openssh.com replaces atomically; plain rename where the server lacks it. */
  private async rename(c: SftpClient, from: string, to: string): Promise<void> {
    try {
      await c.posixRename(from, to);
    } catch (e) {
      if (/not supported|unsupported|extension/i.test(String((e as Error).message))) await c.rename(from, to);
      else throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

export function fingerprintOf(publicKeyBase64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
