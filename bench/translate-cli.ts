/**
 * Issue 16's first target: `gateway translate` of a large 846, the whole process (start, reading,
 * envelope, grammar, mapping, NDJSON out), beside node-x12 `parse()` of the same file in its own
 * process, taken in turns in one run (this machine's timings drift by tens of percent between
 * minutes). Peak RSS from GNU time.
 *   node --import tsx bench/translate-cli.ts            (BENCH_MIB=50, BENCH_RUNS=3, BENCH_SKIP_NODEX12=1)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate846 } from './generate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..');
const out = path.join(here, 'out');
mkdirSync(out, { recursive: true });
const mib = Number(process.env.BENCH_MIB ?? 50);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const file = path.join(out, `846-${mib}MiB.x12`);
if (!existsSync(file)) await generate846(file, mib);

function timed(label: string, args: string[]): { label: string; seconds: number; peakRssMb: number; ok: boolean } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [s, kb] = last.split(' ').map(Number);
  return { label, seconds: s, peakRssMb: Math.round(kb / 1024), ok: r.status === 0 || r.status === 1 };
}

const rows: ReturnType<typeof timed>[] = [];
for (let i = 0; i < runs; i++) {
  rows.push(timed('gateway translate', [process.execPath, 'bin/gateway.js', 'translate', file, '-p', 'demo-3pl']));
  if (!process.env.BENCH_SKIP_NODEX12) rows.push(timed('node-x12 parse()', [process.execPath, '--import', 'tsx', 'bench/measure.ts', 'node-x12', file]));
  console.log(JSON.stringify(rows.slice(-2)));
}
console.log(`\n${path.basename(file)}, ${runs} runs in turns\n`);
console.log('| process | seconds | peak RSS MB |');
console.log('| --- | --- | --- |');
for (const label of ['gateway translate', 'node-x12 parse()']) {
  const mine = rows.filter((r) => r.label === label);
  if (mine.length) console.log(`| ${label} | ${mine.map((r) => r.seconds.toFixed(2)).join(', ')} | ${mine.map((r) => r.peakRssMb).join(', ')} |`);
}
const ours = rows.filter((r) => r.label === 'gateway translate').map((r) => r.seconds);
const theirs = rows.filter((r) => r.label === 'node-x12 parse()').map((r) => r.seconds);
if (theirs.length) {
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`\nmedian: translate ${med(ours).toFixed(2)} s, node-x12 ${med(theirs).toFixed(2)} s: ${(med(theirs) / med(ours)).toFixed(1)}x`);
}
