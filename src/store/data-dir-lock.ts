import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { GatewayError } from '../core/errors.ts';

/**
 * One gateway per SQLite data dir: SQLite has one writer, and two pipelines on one store would
 * receive files twice and answer one interchange twice. The lock is a file naming its holder
 * (pid, host, start); a holder that is gone (killed with SIGKILL) leaves a stale lock that the
 * next start takes over at once, so a restart after a crash never waits.
 */
export interface DataDirLock {
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dir: string, now = new Date()): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'gateway.lock');
  const me: Holder = { pid: process.pid, host: hostname(), startedAt: now.toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            const h = JSON.parse(readFileSync(file, 'utf8')) as Holder;
            if (h.pid === me.pid && h.startedAt === me.startedAt) unlinkSync(file);
          } catch {
            // gone already
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: Holder | null = null;
    const text = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return null;
      }
    })();
    if (text === null) continue; // released meanwhile
    try {
      held = JSON.parse(text) as Holder;
    } catch {
      held = null; // a lock written half (the holder died while writing it): stale
    }
    if (held && (held.host !== me.host || alive(held.pid))) {
      throw new GatewayError(
        'GW_DATA_DIR_LOCKED',
        `${dir} is in use by the gateway with pid ${held.pid} on ${held.host}, started ${held.startedAt}: one gateway per SQLite data dir (several instances need PostgreSQL)`,
      );
    }
    // Stale: its holder is gone. Take it over, unless someone else just did.
    try {
      if (readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // someone else removed it
    }
  }
  throw new GatewayError('GW_DATA_DIR_LOCKED', `${dir}: could not take the lock (another gateway is starting on it)`);
}
