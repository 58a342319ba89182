import { copyFile, mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { fsyncDir, fsyncPath } from '../core/durable.ts';
import type { Logger } from '../core/ports.ts';
import type { InboundSource, IncomingFile, OutboundSink, SettleReport, SourceCoordination, SourceStatus } from './channel.ts';

export interface FolderPaths {
  in: string;
  out: string;
  archive: string;
  error: string;
}

export interface FolderOptions {
  /** chokidar's awaitWriteFinish stability threshold. */
  stabilityMs: number;
  /** A file without its trailer is handed over anyway once it is this old (and gets rejected as truncated). */
  incompleteAfterMs: number;
}

/** Between the claim's own prefix and the file's name in processing/. */
const CLAIM_MARK = '~~';

/** Names a writer uses while a file is still being written; they are never picked up. */
export const IN_PROGRESS = /(\.part|\.tmp|\.partial|\.filepart|~)$|^\./i;

/**
 * Is the file complete? X12 must end with an IEA segment, XML with a closing tag. A writer that
 * stalls past chokidar's threshold would otherwise hand over half a file.
 */
export async function looksComplete(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const n = Math.min(size, 512);
    const b = Buffer.alloc(n);
    await fh.read(b, 0, n, size - n);
    const first = Buffer.alloc(Math.min(size, 8));
    await fh.read(first, 0, first.length, 0);
    const start = first.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
    if (first[0] === 0xc9 || (first[0] === 0xef && first[3] === 0xc9)) {
      // EBCDIC: "IEA" is C9 C5 C1.
      return b.includes(Buffer.from([0xc9, 0xc5, 0xc1]));
    }
    const tail = b.toString('latin1').replace(/[\s\x00\x15\x85]+$/, '');
    if (start.startsWith('<')) return tail.endsWith('>');
    if (!start.startsWith('ISA')) return true; // not X12: let the reader reject it now
    // The last segment is IEA*<count>*<control> (+ terminator).
    return /IEA.\d{1,5}.\d{1,9}.{0,3}$/.test(tail.slice(-40));
  } finally {
    await fh.close();
  }
}

export class FolderChannel implements InboundSource, OutboundSink {
  private watcher: FSWatcher | null = null;
  private queue: Promise<void> = Promise.resolve();
  private pending = new Set<string>();
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  coordination?: SourceCoordination;
  private orphanTimer: NodeJS.Timeout | null = null;
  /**
   * For the status API: lastPollAt is when the watcher last looked at the folder (its start, each
   * file it saw, and every liveness tick while it runs), lastInboundAt the last file handed in.
   */
  readonly status: SourceStatus = { lastError: null, lastErrorAt: null, lastPollAt: null, lastInboundAt: null, lastOutboundAt: null };
  private liveTimer: NodeJS.Timeout | null = null;

  get channel(): string {
    return `folder:${this.id}`;
  }

  constructor(
    readonly id: string,
    private readonly paths: FolderPaths,
    private readonly opts: FolderOptions,
    private readonly logger: Logger,
  ) {}

  /** Where a file is while it is processed (a sibling of in/). */
  private get processing(): string {
    return path.join(path.dirname(this.paths.in), 'processing');
  }

  private claims = 0;

  async ensureFolders(): Promise<void> {
    for (const p of [...Object.values(this.paths), this.processing]) await mkdir(p, { recursive: true });
  }

  async start(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    await this.ensureFolders();
    const after = this.coordination?.orphanAfterMs ?? null;
    await this.returnUnrecorded(after ?? 0);
    this.stopped = false;
    if (after !== null) {
      // Shared with other instances: one of them may die between its claim and its record.
      this.orphanTimer = setInterval(() => void this.returnUnrecorded(after).catch((e) => this.logger.error({ channel: this.id, err: String(e) }, 'returning orphaned claims failed')), Math.max(250, after / 2));
      this.orphanTimer.unref?.();
    }
    const w = watch(this.paths.in, {
      depth: 0,
      ignoreInitial: false,
      awaitWriteFinish: { stabilityThreshold: this.opts.stabilityMs, pollInterval: Math.max(20, Math.floor(this.opts.stabilityMs / 4)) },
      ignored: (p: string, stats?: { isFile(): boolean }) => p !== this.paths.in && (IN_PROGRESS.test(path.basename(p)) || (!!stats && !stats.isFile())),
    });
    this.watcher = w;
    w.on('add', (p: string) => this.consider(p, onFile));
    w.on('change', (p: string) => this.consider(p, onFile));
    w.on('error', (e: unknown) => {
      this.status.lastError = String(e);
      this.status.lastErrorAt = new Date().toISOString();
      this.logger.error({ channel: this.id, err: String(e) }, 'watcher error');
    });
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    this.status.lastPollAt = new Date().toISOString();
    // The watcher is event-driven: a tick says it is still there (the in folder still readable).
    this.liveTimer = setInterval(() => {
      void readdir(this.paths.in).then(
        () => {
          this.status.lastPollAt = new Date().toISOString();
          this.status.lastError = null;
        },
        (e) => {
          this.status.lastError = `in folder unreadable: ${String(e)}`;
          this.status.lastErrorAt = new Date().toISOString();
        },
      );
    }, 30_000);
    this.liveTimer.unref?.();
  }

  /** Files present in the inbox right now (for recovery and tests). */
  async list(): Promise<string[]> {
    return (await readdir(this.paths.in)).filter((n) => !IN_PROGRESS.test(n));
  }

  private consider(p: string, onFile: (file: IncomingFile) => Promise<void>): void {
    if (this.stopped || this.pending.has(p) || (this.cooldown.get(p) ?? 0) > Date.now()) return;
    this.pending.add(p);
    this.queue = this.queue.then(() => this.handle(p, onFile)).catch((e) => this.logger.error({ channel: this.id, file: p, err: String(e) }, 'inbound file failed'));
  }

  private async handle(p: string, onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    let st;
    try {
      st = await stat(p);
    } catch {
      this.pending.delete(p);
      return; // gone (moved by recovery or a person)
    }
    const complete = await looksComplete(p).catch(() => false);
    const age = Date.now() - st.mtimeMs;
    if (!complete && age < this.opts.incompleteAfterMs) {
      // Look again later; the trailer may still be coming.
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.pending.delete(p);
        this.consider(p, onFile);
      }, Math.min(1000, Math.max(50, this.opts.incompleteAfterMs - age)));
      this.timers.add(t);
      return;
    }
    if (this.stopped) {
      this.pending.delete(p);
      return;
    }
    // Claimed by an atomic rename into processing/ under a name of its own: a file written to the
    // same name meanwhile is a new file in in/, never mistaken for this one when it is settled.
    const name = path.basename(p);
    // The claim's time, then a number unique to this process (instances share the folder).
    const claimed = path.join(this.processing, `${Date.now()}-${process.pid}.${++this.claims}${CLAIM_MARK}${name}`);
    try {
      await rename(p, claimed);
    } catch (e) {
      this.pending.delete(p);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // gone meanwhile
      throw e;
    }
    this.pending.delete(p); // a file written to the same name from now on is a new one
    try {
      this.status.lastInboundAt = this.status.lastPollAt = new Date().toISOString();
      await onFile({ name, localPath: claimed, size: st.size });
      this.backoff.delete(p);
    } catch (e) {
      // Not taken in (a full disk, the store unreachable): the file goes back to in/ and is tried
      // again after a pause that grows (a second, doubling, at most a minute), without a restart.
      const wait = Math.min(60_000, (this.backoff.get(p) ?? 500) * 2);
      this.backoff.set(p, wait);
      this.cooldown.set(p, Date.now() + wait);
      await rename(claimed, p).catch((err) => this.logger.error({ channel: this.id, file: name, err: String(err) }, 'could not return a file to in/'));
      this.logger.error({ channel: this.id, file: name, retryInMs: wait, err: String(e) }, 'inbound file not taken in; retried');
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.cooldown.delete(p);
        this.consider(p, onFile);
      }, wait);
      this.timers.add(t);
    }
  }

  /** Per inbox path: the pause before the next try after a failed hand-over, and until when it lasts. */
  private backoff = new Map<string, number>();
  private cooldown = new Map<string, number>();

  /**
   * Files claimed but never recorded (the process died between the rename and the document's
   * commit) go back to in/ under their own name, once claimed at least `olderThanMs` ago (the
   * claim's time is in its name); recorded ones are settled by recovery.
   */
  private async returnUnrecorded(olderThanMs: number): Promise<void> {
    for (const n of await readdir(this.processing).catch(() => [] as string[])) {
      const i = n.indexOf(CLAIM_MARK);
      if (i < 0) continue;
      const claimedAt = Number(n.slice(0, i).split('-')[0]);
      if (olderThanMs > 0 && !(Date.now() - claimedAt >= olderThanMs)) continue;
      if (await this.coordination?.isRecorded(path.join(this.processing, n))) continue;
      const original = n.slice(i + CLAIM_MARK.length);
      let target = path.join(this.paths.in, original);
      if (await stat(target).then(() => true, () => false)) target = path.join(this.paths.in, `${n.slice(0, i)}-${original}`);
      await rename(path.join(this.processing, n), target).then(
        () => this.logger.warn({ channel: this.id, file: original }, 'a file claimed before a crash goes back to in/'),
        // ENOENT: another instance returned or settled it meanwhile.
        (e) => (e as NodeJS.ErrnoException).code === 'ENOENT' || this.logger.error({ channel: this.id, file: n, err: String(e) }, 'could not return a claimed file to in/'),
      );
    }
  }

  async settle(file: IncomingFile, documentId: number, outcome: 'archive' | 'error', report?: SettleReport): Promise<void> {
    if (!(await stat(file.localPath).then(() => true, () => false))) return; // already moved
    const name = `${documentId}-${file.name}`;
    const dir = outcome === 'archive' ? this.paths.archive : this.paths.error;
    await mkdir(dir, { recursive: true });
    if (outcome === 'error' && report) {
      const tmp = path.join(dir, `.${name}.error.json.tmp`);
      await writeFile(tmp, JSON.stringify({ file: file.name, ...report }, null, 2) + '\n');
      await rename(tmp, path.join(dir, `${name}.error.json`));
    }
    try {
      await rename(file.localPath, path.join(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  async deliver(filename: string, content: string | Buffer): Promise<void> {
    await mkdir(this.paths.out, { recursive: true });
    const tmp = path.join(this.paths.out, `.${filename}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(this.paths.out, filename));
    await fsyncDir(this.paths.out); // delivered means the name is on disk too
    this.status.lastOutboundAt = new Date().toISOString();
  }

  async deliverFile(filename: string, localPath: string): Promise<void> {
    await mkdir(this.paths.out, { recursive: true });
    const tmp = path.join(this.paths.out, `.${filename}.tmp`);
    await copyFile(localPath, tmp);
    await fsyncPath(tmp);
    await rename(tmp, path.join(this.paths.out, filename));
    await fsyncDir(this.paths.out);
    this.status.lastOutboundAt = new Date().toISOString();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.orphanTimer) clearInterval(this.orphanTimer);
    if (this.liveTimer) clearInterval(this.liveTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.watcher?.close();
    await this.queue.catch(() => undefined);
  }

  /** Remove a delivered file (tests). */
  async remove(name: string): Promise<void> {
    await unlink(path.join(this.paths.out, name));
  }
}
