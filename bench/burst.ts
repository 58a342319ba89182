/**
 * Issue 16's end-to-end target: small 850s dropped at once into a running gateway (a real
 * process, one instance), timed from the first drop until every file is archived and every 997 is
 * in the retailer's out/; beside it, in the same run and on the same disk, the rate of fsync'd
 * small-file writes (write, fsync, close: what the gateway cannot go faster than if it made every
 * file durable on its own), and the landing-to-846 latency the gateway measured meanwhile
 * (its gateway_landing_to_846_seconds histogram: the 846s to the retailers that the 850s'
 * reservations trigger).
 *   node --import tsx bench/burst.ts [files] [sqlite|pg|both]
 * BENCH_PROF=dir writes the gateway's CPU profile there.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { drop, ls, po850, testConfig, waitFor } from '../test/helpers.ts';
import { freshDatabase, spawnInstance } from '../test/integration/instances.ts';
import { startPostgres } from '../test/store/postgres.ts';

const files = Number(process.argv[2] ?? 1000);
const which = process.argv[3] ?? 'both';

function fsyncRate(dir: string, n = 1000): number {
  mkdirSync(dir, { recursive: true });
  const body = po850(1, 'PO-FSYNC');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const fd = openSync(path.join(dir, `f-${i}`), 'w');
    writeSync(fd, body);
    fsyncSync(fd);
    closeSync(fd);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(dir, { recursive: true, force: true });
  return n / s;
}

/** p50/p99 of a Prometheus histogram from its buckets (upper bounds: what the buckets can say). */
function quantiles(metrics: string, name: string): { count: number; p50: string; p99: string } {
  const buckets = new Map<number, number>();
  let count = 0;
  for (const line of metrics.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`).exec(line);
    if (m) buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), (buckets.get(m[1] === '+Inf' ? Infinity : Number(m[1])) ?? 0) + Number(m[2]));
    const c = new RegExp(`^${name}_count\\{.*\\} (\\d+)`).exec(line);
    if (c) count += Number(c[1]);
  }
  const at = (q: number) => {
    for (const [le, n] of [...buckets].sort((a, b) => a[0] - b[0])) if (n >= q * count) return le === Infinity ? '>max' : `<= ${le}`;
    return '-';
  };
  return { count, p50: at(0.5), p99: at(0.99) };
}

const pg = which === 'sqlite' ? null : await startPostgres();
if (which !== 'sqlite' && !pg) {
  console.error('PostgreSQL server binaries are needed (.ci/run installs them)');
  process.exit(1);
}
const rows: string[][] = [];
try {
  for (const store of which === 'both' ? ['sqlite', 'pg'] : [which]) {
    const cfg = testConfig({ stabilityMs: 50 });
    const url = store === 'pg' ? await freshDatabase(pg!.url, 'burst') : null;
    const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_PROF, store)}`] : [];
    const inst = spawnInstance('burst', { ...cfg.env, ...(url ? { DATABASE_URL: url } : {}) }, path.join(cfg.dir, 'burst.log'), prof);
    const port = await inst.up;
    const writes = fsyncRate(path.join(cfg.dataDir, 'fsync-probe'));
    const retail = drop(cfg.dataDir, 'demo-retail');
    const t0 = Date.now();
    for (let i = 0; i < files; i++) {
      const tmp = path.join(retail.in, `.po-${i}.tmp`);
      writeFileSync(tmp, po850(300_000 + i, `PO-BURST-${i}`, { qty: '1' }));
      renameSync(tmp, path.join(retail.in, `po-${i}.x12`));
    }
    await waitFor(() => ls(retail.archive).length >= files && ls(retail.out).filter((f) => f.startsWith('997')).length >= files, 900_000, 'all files');
    const seconds = (Date.now() - t0) / 1000;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const l846 = quantiles(metrics, 'gateway_landing_to_846_seconds');
    const cpu = (() => {
      const stat = readFileSync(`/proc/${inst.child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(f[11]) + Number(f[12])) / 100 / files) * 1000;
    })();
    await inst.kill('SIGTERM');
    const rate = files / seconds;
    rows.push([store === 'pg' ? 'PostgreSQL' : 'SQLite', String(files), seconds.toFixed(1), rate.toFixed(0), writes.toFixed(0), (rate / writes).toFixed(3), cpu.toFixed(1), `${l846.count}: p50 ${l846.p50}, p99 ${l846.p99}`, String(inst.errors.length)]);
    console.log(rows.at(-1)!.join('\t'));
  }
} finally {
  pg?.stop();
}
console.log('\n| store | files | seconds | files/s | fsync\'d writes/s | ratio | gateway CPU ms per file | landing-to-846 s (846s: buckets) | errors |\n|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
