/**
 * One measurement in its own process (so peak RSS belongs to it alone):
 *   node --import tsx bench/measure.ts <reader|grammar|validate|translate|node-x12> <file>
 * Prints one JSON line: seconds, MiB/s, peak RSS (MB), segments or events.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { X12SegmentReader } from '../src/x12/segment-reader.ts';

const [impl, file] = process.argv.slice(2);
const size = statSync(file).size;
// Small files are run several times in the same process (JIT warm), the best run is reported;
// the same for every implementation.
const reps = size > 20 * 1048576 ? 1 : 5;
let best = Infinity;
let count = 0;
let extra: Record<string, unknown> = {};
for (let rep = 0; rep < reps; rep++) {
count = 0;
const t0 = process.hrtime.bigint();

if (impl === 'reader') {
  const r = new X12SegmentReader();
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) count += r.push(chunk as Buffer).length;
  count += r.end().length;
} else if (impl === 'grammar') {
  // The reader and the strict grammar check, segment by segment (nothing of a set is held).
  const { projectGrammars, DocumentChecker } = await import('../src/x12/grammar.ts');
  const d = new DocumentChecker(projectGrammars());
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) d.push(chunk as Buffer);
  const sets = d.end();
  count = sets.length;
  extra = { errors: sets.reduce((n, v) => n + v.errors.length, 0) };
} else if (impl === 'validate') {
  const { EnvelopeValidator } = await import('../src/x12/envelope-validator.ts');
  const r = new X12SegmentReader();
  const v = new EnvelopeValidator<number>({ mapSet: () => ({ events: [1], rejections: [] }) });
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) {
    for (const seg of r.push(chunk as Buffer)) v.feed(seg);
    count += v.takeActions().length;
  }
  for (const seg of r.end()) v.feed(seg);
  const ics = v.finish();
  extra = { accepted: ics.every((i) => i.accepted) };
} else if (impl === 'translate') {
  const { directoryOf, loadConfig, readMappingFiles } = await import('../src/config/load-config.ts');
  const { MappingRegistry } = await import('../src/mapping/registry.ts');
  const { translateX12 } = await import('../src/pipeline/translate-x12.ts');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const config = loadConfig({ GATEWAY_DATA_DIR: '/tmp/gw-bench' }, root);
  const mappings = new MappingRegistry();
  mappings.loadAll(readMappingFiles(config.mappingsDir));
  let lines = 0;
  const res = await translateX12(createReadStream(file, { highWaterMark: 1 << 16 }), {
    partners: directoryOf(config),
    mappings,
    documentId: 'bench',
    correlationId: 'bench',
    receivedAt: new Date().toISOString(),
    sink: {
      events: (_ic, _g, evs) => {
        count += evs.length;
        for (const e of evs) lines += ((e.data as { lines?: unknown[] }).lines ?? []).length;
      },
      discard: () => undefined,
    },
  });
  extra = { segments: res.segmentCount, lines, accepted: res.interchanges.every((i) => i.accepted) };
} else if (impl === 'node-x12') {
  const mod = (await import('node-x12')) as unknown as { default?: typeof import('node-x12') } & typeof import('node-x12');
  const x12 = mod.default ?? mod;
  const parser = new x12.X12Parser(true);
  const ic = parser.parse(readFileSync(file, 'utf8')) as { functionalGroups: { transactions: { segments: unknown[] }[] }[] };
  for (const g of ic.functionalGroups) for (const t of g.transactions) count += t.segments.length + 2;
} else {
  throw new Error(`unknown implementation ${impl}`);
}
best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
const seconds = best;
const peakRssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ impl, file: path.basename(file), reps, mib: +(size / 1048576).toFixed(1), seconds: +seconds.toFixed(3), mibPerSec: +(size / 1048576 / seconds).toFixed(1), peakRssMb: Math.round(peakRssMb), count, ...extra }));
