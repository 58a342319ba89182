import { copyFile, mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../core/ports.ts';
import type { InboundSource, IncomingFile, OutboundSink, SettleReport } from './channel.ts';

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

  get channel(): string {
    return `folder:${this.id}`;
  }

  constructor(
    readonly id: string,
    private readonly paths: FolderPaths,
    private readonly opts: FolderOptions,
    private readonly logger: Logger,
  ) {}

  async ensureFolders(): Promise<void> {
    for (const p of Object.values(this.paths)) await mkdir(p, { recursive: true });
  }

  async start(onFile: (file: IncomingFile) => Promise<void>): Promise<void> {
    await this.ensureFolders();
    this.stopped = false;
    const w = watch(this.paths.in, {
      depth: 0,
      ignoreInitial: false,
      awaitWriteFinish: { stabilityThreshold: this.opts.stabilityMs, pollInterval: Math.max(20, Math.floor(this.opts.stabilityMs / 4)) },
      ignored: (p: string, stats?: { isFile(): boolean }) => p !== this.paths.in && (IN_PROGRESS.test(path.basename(p)) || (!!stats && !stats.isFile())),
    });
    this.watcher = w;
    w.on('add', (p: string) => this.consider(p, onFile));
    w.on('change', (p: string) => this.consider(p, onFile));
    w.on('error', (e: unknown) => this.logger.error({ channel: this.id, err: String(e) }, 'watcher error'));
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
  }

  /** Files present in the inbox right now (for recovery and tests). */
  async list(): Promise<string[]> {
    return (await readdir(this.paths.in)).filter((n) => !IN_PROGRESS.test(n));
  }

  private consider(p: string, onFile: (file: IncomingFile) => Promise<void>): void {
    if (this.stopped || this.pending.has(p)) return;
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
    try {
      if (this.stopped) return;
      await onFile({ name: path.basename(p), localPath: p, size: st.size });
    } finally {
      this.pending.delete(p);
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
  }

  async deliverFile(filename: string, localPath: string): Promise<void> {
    await mkdir(this.paths.out, { recursive: true });
    const tmp = path.join(this.paths.out, `.${filename}.tmp`);
    await copyFile(localPath, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(this.paths.out, filename));
  }

  async stop(): Promise<void> {
    this.stopped = true;
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
