/**
 * Issue 12: throughput of several instances on one PostgreSQL (and one instance on SQLite beside
 * them), whole processes.
 *   node --import tsx bench/instances.ts [files]
 * Each round: a fresh store, N gateway processes sharing one data dir, `files` small 850s dropped
 * at once into the retailer's in/ (temp name, rename); timed from the first drop until every
 * file is archived and every 997 is in out/. Files per second, how the files were shared, and
 * what each instance cost (CPU time per file from /proc, peak RSS).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import { drop, ls, po850, testConfig, waitFor } from '../test/helpers.ts';
import { freshDatabase, spawnInstance, type Instance } from '../test/integration/instances.ts';
import { startPostgres } from '../test/store/postgres.ts';

const files = Number(process.argv[2] ?? 1000);
const pg = await startPostgres();
if (!pg) {
  console.error('PostgreSQL server binaries are needed (.ci/run installs them)');
  process.exit(1);
}
const rows: string[][] = [];
try {
  for (const [store, n] of [['sqlite', 1], ['pg', 1], ['pg', 2], ['pg', 3]] as const) {
    const cfg = testConfig({ stabilityMs: 50, leaseMs: 10_000 });
    const url = store === 'pg' ? await freshDatabase(pg.url, 'bench') : null;
    const env = { ...cfg.env, ...(url ? { DATABASE_URL: url } : {}) };
    const instances: Instance[] = [];
    for (let i = 0; i < n; i++) instances.push(spawnInstance(`b${i}`, env, path.join(cfg.dir, `b${i}.log`)));
    await Promise.all(instances.map((i) => i.up));
    const retail = drop(cfg.dataDir, 'demo-retail');
    const t0 = Date.now();
    for (let i = 0; i < files; i++) {
      const tmp = path.join(retail.in, `.po-${i}.tmp`);
      writeFileSync(tmp, po850(200_000 + i, `PO-BENCH-${i}`, { qty: '1' }));
      renameSync(tmp, path.join(retail.in, `po-${i}.x12`));
    }
    await waitFor(() => ls(retail.archive).length >= files && ls(retail.out).filter((f) => f.startsWith('997')).length >= files, 600_000, 'all files');
    const ms = Date.now() - t0;
    let shares = '';
    if (url) {
      const db = knexFactory({ client: 'pg', connection: url });
      const by = (await db('documents').where({ direction: 'in' }).select('claimed_by').count({ n: '*' }).groupBy('claimed_by')) as { n: unknown }[];
      shares = by.map((r) => String(r.n)).sort().join(' / ');
      await db.destroy();
    }
    // What each instance cost: CPU time (user + system, from /proc) and peak RSS.
    const cost = instances.map((i) => {
      const stat = readFileSync(`/proc/${i.child.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpuS = (Number(f[11]) + Number(f[12])) / 100;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${i.child.pid}/status`, 'utf8'));
      return { cpuS, rssMB: Number(hwm?.[1] ?? 0) / 1024 };
    });
    const cpuPerFile = (cost.reduce((a, c) => a + c.cpuS, 0) * 1000) / files;
    await Promise.all(instances.map((i) => i.kill('SIGTERM')));
    const errors = instances.flatMap((i) => i.errors).length;
    rows.push([store === 'pg' ? 'PostgreSQL' : 'SQLite', String(n), String(files), (ms / 1000).toFixed(1), (files / (ms / 1000)).toFixed(0), shares || '-', cpuPerFile.toFixed(1), cost.map((c) => c.rssMB.toFixed(0)).join(' / '), String(errors)]);
    console.log(rows.at(-1)!.join('\t'));
  }
} finally {
  pg.stop();
}
console.log('\n| store | instances | files | seconds | files/s | files per instance | gateway CPU ms per file (all instances) | peak RSS per instance MB | errors |\n|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
