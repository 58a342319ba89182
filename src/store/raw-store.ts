import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { fsyncDir } from '../core/durable.ts';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

/**
 * Content-addressed storage of received bytes: `<dataDir>/raw/<sha[0..2]>/<sha256>`, written to a
 * temporary name, fsynced, then renamed, before the document row that points at it is committed.
 */
export class RawStore {
  constructor(private readonly root: string) {}

  /** Copy a file in; returns its sha256, size and stored path (relative to the root). */
  async put(source: string): Promise<{ sha256: string; size: number; rel: string }> {
    await mkdir(path.join(this.root, 'tmp'), { recursive: true });
    const tmp = path.join(this.root, 'tmp', `${process.pid}-${randomBytes(6).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(source), tap, createWriteStream(tmp));
      const fh = await open(tmp, 'r+');
      await fh.sync();
      await fh.close();
      const sha256 = hash.digest('hex');
      const rel = path.join(sha256.slice(0, 2), sha256);
      const dest = path.join(this.root, rel);
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(tmp, dest);
      await fsyncDir(path.dirname(dest)); // the name too, before the document row points at it
      return { sha256, size, rel };
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** sha256 of a file without storing it. */
  async hash(file: string): Promise<string> {
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    return h.digest('hex');
  }

  path(rel: string): string {
    return path.join(this.root, rel);
  }

  read(rel: string, highWaterMark = 1 << 16) {
    return createReadStream(this.path(rel), { highWaterMark });
  }

  readAll(rel: string): Promise<Buffer> {
    return readFile(this.path(rel));
  }

  /** The first `max` bytes (previews). */
  async head(rel: string, max: number): Promise<Buffer> {
    const fh = await open(this.path(rel), 'r');
    try {
      const b = Buffer.alloc(max);
      const { bytesRead } = await fh.read(b, 0, max, 0);
      return b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async exists(rel: string): Promise<boolean> {
    return stat(this.path(rel)).then(
      () => true,
      () => false,
    );
  }
}
