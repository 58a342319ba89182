/**
 * The strict grammar check's cost (issue 14): the 50 MiB 846 read alone, read and checked by the
 * 846 grammar segment by segment, and translated whole (reader, envelope, grammar, mapping), each
 * in its own process for its peak RSS.
 *   node --import tsx bench/grammar.ts        (BENCH_MIB=50 to change)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate846 } from './generate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');
mkdirSync(out, { recursive: true });
const mib = Number(process.env.BENCH_MIB ?? 50);
const file = path.join(out, `846-${mib}MiB.x12`);
if (!existsSync(file)) await generate846(file, mib);
const rows: Record<string, unknown>[] = [];
for (const impl of ['reader', 'grammar', 'translate']) {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(here, 'measure.ts'), impl, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const row = JSON.parse(r.stdout.trim().split('\n').pop()!);
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log('\n| step | MiB | seconds | MiB/s | peak RSS MB |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.impl} | ${r.mib} | ${r.seconds} | ${r.mibPerSec} | ${r.peakRssMb} |`);
