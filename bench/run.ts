/**
 * Reader benchmark (issue 2): throughput and peak memory of our streaming reader, of the whole
 * inbound translation (reader + envelope checks + mapping), and of node-x12's parse() on the
 * same files: a 50 MiB 846 and a file of 10,000 850s.
 *   npm run bench            (BENCH_MIB=50 BENCH_850=10000 BENCH_SKIP_NODEX12=1 to change)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate846, generate850s } from './generate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');
mkdirSync(out, { recursive: true });
const mib = Number(process.env.BENCH_MIB ?? 50);
const n850 = Number(process.env.BENCH_850 ?? 10_000);
const f846 = path.join(out, `846-${mib}MiB.x12`);
const f850 = path.join(out, `850x${n850}.x12`);
if (!existsSync(f846)) await generate846(f846, mib);
if (!existsSync(f850)) await generate850s(f850, n850);

const rows: Record<string, unknown>[] = [];
for (const file of [f846, f850]) {
  for (const impl of ['reader', 'validate', 'translate', ...(process.env.BENCH_SKIP_NODEX12 ? [] : ['node-x12'])]) {
    const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', path.join(here, 'measure.ts'), impl, file], { encoding: 'utf8' });
    if (r.status !== 0) {
      rows.push({ impl, file: path.basename(file), error: (r.stderr || '').split('\n').slice(-3).join(' ') });
      continue;
    }
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!);
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
console.log('\n| file | implementation | MiB | seconds | MiB/s | peak RSS MB | segments/events |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.file} | ${r.impl} | ${r.mib ?? ''} | ${r.seconds ?? ''} | ${r.mibPerSec ?? ''} | ${r.peakRssMb ?? ''} | ${r.error ?? r.count} |`);
for (const f of [path.basename(f846), path.basename(f850)]) {
  const ours = rows.find((r) => r.file === f && r.impl === 'reader');
  const theirs = rows.find((r) => r.file === f && r.impl === 'node-x12');
  if (ours?.mibPerSec && theirs?.mibPerSec) console.log(`${f}: reader is ${(Number(ours.mibPerSec) / Number(theirs.mibPerSec)).toFixed(1)}x node-x12 parse()`);
}
