import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { freePort } from '../helpers.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A throwaway PostgreSQL cluster for tests (design.md section 8): initdb + pg_ctl on 127.0.0.1 at
 * a free port, as user postgres when we are root (initdb refuses root). `null` when the server
 * binaries are not installed (.ci/run installs them; tests say so loudly when they are missing).
 */
export interface TestPostgres {
  url: string;
  stop(): void;
}


export function findPgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base).sort().reverse()) {
    const bin = path.join(base, v, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

export async function startPostgres(): Promise<TestPostgres | null> {
  const bin = findPgBin();
  if (!bin) {
    // Where PostgreSQL must be there (CI, .ci/run), its absence fails the tests instead of skipping them.
    if (process.env.GATEWAY_REQUIRE_PG === '1' || process.env.CI) throw new Error('PostgreSQL server binaries not found (.ci/run installs postgresql): the PostgreSQL tests cannot run');
    console.error('\n*** PostgreSQL server binaries not found: the PostgreSQL tests are SKIPPED (.ci/run installs them) ***\n');
    return null;
  }
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-pg-'));
  chmodSync(dir, 0o700);
  let uid = 0;
  let gid = 0;
  if (root) {
    uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) => {
    const r = root ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed: ${r.stderr || r.stdout}`);
  };
  const data = path.join(dir, 'data');
  as(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  as(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        as(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already gone */
      }
    },
  };
}
