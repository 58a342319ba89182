import { open } from 'node:fs/promises';

/**
 * Durability on a POSIX file system: a file's bytes are on disk after its fsync, and a rename (or
 * a new name) only once its directory is fsynced too. Written files count as written, and their
 * rows are committed, only after both.
 */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory, so that the names created or renamed in it survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch (e) {
    // Some file systems refuse fsync on a directory (EINVAL, EISDIR on a few); nothing more to do there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR') throw e;
  }
}
