/**
 * `npm run fuzz [-- seconds [seed]]`: mutated corpus files and samples (truncation, byte flips,
 * separator swaps, duplicated and dropped segments, deep and cyclic HL trees, huge elements, a
 * bare ISA, delimiters inside values, XML bombs, deep and huge XML) through the real translate,
 * acknowledgment and XML paths, for a bounded time. Prints inputs, failures (with the seed that
 * reproduces each), and peak memory; exits 1 on any failure.
 */
import { fuzz } from '../test/fuzz/fuzz-lib.ts';

const seconds = Number(process.argv[2] ?? 120);
let seed = Number(process.argv[3] ?? Date.now() % 1_000_000_000);
const started = Date.now();
let inputs = 0;
const failures: unknown[] = [];
const byMutation: Record<string, number> = {};
while (Date.now() - started < seconds * 1000) {
  const r = await fuzz(seed, 50);
  seed += 50;
  inputs += r.inputs;
  failures.push(...r.failures);
  for (const [k, v] of Object.entries(r.byMutation)) byMutation[k] = (byMutation[k] ?? 0) + v;
}
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify({ bench: 'fuzz', seconds: Math.round((Date.now() - started) / 1000), inputs, failures: failures.length, peakRssMb, byMutation }));
for (const f of failures.slice(0, 50)) console.log(JSON.stringify(f));
process.exit(failures.length ? 1 : 0);
