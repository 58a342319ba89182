/**
 * Issue 3 benchmarks, each in its own process (peak RSS its own):
 *   node --import tsx bench/availability.ts ingest [lines]      snapshot 846 -> store (lines/s)
 *   node --import tsx bench/availability.ts ingest-again [lines] the same snapshot a day later (new report id, same quantities): the second one timed
 *   node --import tsx bench/availability.ts full846 [positions] full 846 build time and peak RSS
 *   node --import tsx bench/availability.ts latency [changes]   file landing -> 846 written (ms)
 *   node --import tsx bench/availability.ts                     all three, printed as a table
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(here, 'out');
mkdirSync(out, { recursive: true });
const [mode, arg] = process.argv.slice(2);
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);

async function snapshotFile(file: string, lines: number, locations = 5): Promise<void> {
  const w = createWriteStream(file);
  const put = async (s: string) => {
    if (!w.write(s)) await once(w, 'drain');
  };
  await put('ISA*00*          *00*          *ZZ*ACME3PL        *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*000000001*0*P*>~\nGS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*1*X*004010~\n');
  let st = 0;
  for (let done = 0; done < lines; ) {
    st++;
    const n = Math.min(10_000, lines - done);
    const loc = ["ACME-EAST", "ACME-WEST", "CMH1", "RNO1"][st % Math.min(4, locations)];
    let buf = `ST*846*${String(st).padStart(4, '0')}~\nBIA*00*DD*B${st}*20261120~\nN1*WH*W*92*${loc}~\n`;
    for (let i = 0; i < n; i++) {
      const item = done + i;
      buf += `LIN*${i + 1}*UP*${String(100000000000 + item)}~\nQTY*17*${(item * 7) % 1000}*EA~\n`;
    }
    buf += `SE*${3 + n * 2 + 1}*${String(st).padStart(4, '0')}~\n`;
    await put(buf);
    done += n;
  }
  await put(`GE*${st}*1~\nIEA*1*000000001~\n`);
  w.end();
  await once(w, 'finish');
}

async function ingest(lines: number, known = true, again = false) {
  const { demo, processText, tempDir } = await import('../test/helpers.ts');
  const { openDb } = await import('../src/store/db.ts');
  const { RawStore } = await import('../src/store/raw-store.ts');
  const file = path.join(out, `846-snapshot-${lines}.x12`);
  if (!existsSync(file)) await snapshotFile(file, lines);
  const dir = tempDir('gw-bench-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const ctx = demo();
  if (known) {
    // The usual case: the 3PL's items are in our crosswalk (each unknown item becomes a provisional one: ingest-unknown).
    // JSON: a YAML crosswalk of 500,000 items takes gigabytes to parse (the yaml package's document model).
    const items = Array.from({ length: lines }, (_, i) => ({ sku: `SKU-${i}`, ids: { UP: String(100000000000 + i) } }));
    const problems = ctx.mappings.update({ rel: '_shared/crosswalk.json', text: JSON.stringify({ version: 1, items }) });
    if (problems.length) throw new Error(JSON.stringify(problems));
  }
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: ctx.partners, mappings: ctx.mappings, now: () => new Date() };
  const { readFileSync } = await import('node:fs');
  let t0 = performance.now();
  let r = await processText(h, 'snap.x12', readFileSync(file), 'demo-3pl');
  if (again) {
    // The next day's report with the same quantities: nothing differs but its as-of time.
    const next = readFileSync(file, 'latin1').replaceAll('000000001', '000000002').replace('*0930*1*X*004010', '*0930*2*X*004010').replace(/GE\*(\d+)\*1~/, 'GE*$1*2~').replaceAll('*DD*B', '*DD*N').replaceAll('*20261120~', '*20261121~');
    t0 = performance.now();
    r = await processText(h, 'snap2.x12', Buffer.from(next, 'latin1'), 'demo-3pl');
  }
  const s = (performance.now() - t0) / 1000;
  const n = Number((await db('positions').count({ n: '*' }))[0].n);
  const provisional = Number((await db('provisional_items').count({ n: '*' }))[0].n);
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
  return { bench: `snapshot ingest (${known ? 'items in the crosswalk' : 'items unknown: provisional'}${again ? ', the second day: same quantities' : ''})`, provisional, lines, status: r.status, positions: n, movements: r.movements, seconds: +s.toFixed(2), linesPerSecond: Math.round(lines / s), peakRssMb: rss() };
}

/** Seed a database with `count` positions (its own process), then build the full 846 in a fresh one. */
async function full846(count: number) {
  const { openDb } = await import('../src/store/db.ts');
  const dbFile = path.join(out, `positions-${count}.sqlite`);
  if (!existsSync(dbFile)) {
    const db = await openDb({ client: 'sqlite3', filename: dbFile });
    for (let i = 0; i < count; i += 5000) {
      const rows = [];
      for (let j = i; j < Math.min(count, i + 5000); j++) rows.push({ item: `SKU-${String(j).padStart(7, '0')}`, location: `LOC-${j % 4}`, on_hand: ((j * 7) % 1000) * 10_000, committed: ((j * 3) % 100) * 10_000, last_movement_seq: 1 });
      for (let k = 0; k < rows.length; k += 500) await db('positions').insert(rows.slice(k, k + 500));
    }
    await db.destroy();
  }
  const r = spawnSync(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(here, 'availability.ts'), 'full846-run', dbFile], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return { ...JSON.parse(r.stdout.trim()), positions: count };
}

async function full846Run(dbFile: string) {
  const { tempDir, demo } = await import('../test/helpers.ts');
  const { openDb } = await import('../src/store/db.ts');
  const { Publisher } = await import('../src/pipeline/publisher.ts');
  const { silentLogger } = await import('../src/core/ports.ts');
  const { copyFileSync } = await import('node:fs');
  const dir = tempDir('gw-bench-');
  copyFileSync(dbFile, path.join(dir, 'gw.sqlite'));
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const ctx = demo();
  const before = rss();
  const publisher = new Publisher({ db, partners: ctx.partners, mappings: ctx.mappings, clock: { now: () => new Date() }, logger: silentLogger, outboundDir: path.join(dir, 'outbound'), exclusive: (fn) => fn(), queued: () => undefined });
  // demo-retail publishes ACME-EAST/WEST only: the same policy over every location.
  const p = ctx.partners.get('demo-retail')!;
  p.publish846 = { ...p.publish846!, locations: undefined, kits: {}, idQualifiers: ['UP'] };
  const t0 = performance.now();
  const r = await publisher.emit('demo-retail', true);
  const s = (performance.now() - t0) / 1000;
  const size = statSync((await db('outbox').where({ id: r.outboxId }).first()).content_path).size;
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
  return { bench: 'full 846', lines: r.lines, sets: r.sets, mib: +(size / 1048576).toFixed(1), seconds: +s.toFixed(2), peakRssMb: rss(), rssBeforeBuildMb: before };
}

async function latency(changes: number) {
  const { testConfig, po850, snapshot846, drop } = await import('../test/helpers.ts');
  const { startGateway } = await import('../src/main.ts');
  const t = testConfig({ stabilityMs: 50 });
  const g = await startGateway(t.env);
  const debounce = g.config.partners.find((p) => p.id === 'demo-retail')!.publish846!.debounceMs;
  const tpl = drop(t.dataDir, 'demo-3pl');
  const retail = drop(t.dataDir, 'demo-retail');
  const count846 = () => readdirSync(retail.out).filter((f) => f.startsWith('846_')).length;
  writeFileSync(path.join(tpl.in, 'seed.x12'), snapshot846(1, [['012345678905', 'ACME-EAST', '100000']]));
  while (count846() < 1) await new Promise((r) => setTimeout(r, 10));
  const ms: number[] = [];
  for (let i = 0; i < changes; i++) {
    const n = count846();
    const t0 = Date.now();
    writeFileSync(path.join(retail.in, `po-${i}.x12`), po850(1000 + i, `PO-L${i}`, { qty: '10' }));
    // 10 units: enough to change what the retailer is shown (a delta carries only what changed for it).
    const deadline = Date.now() + 30_000;
    while (count846() <= n) {
      if (Date.now() > deadline) throw new Error(`no 846 after PO ${i}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    ms.push(Date.now() - t0);
  }
  await g.stop();
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  return { bench: 'landing -> 846', changes, debounceMs: debounce, medianMs: q(0.5), p99Ms: q(0.99), maxMs: ms[ms.length - 1], p99BeyondDebounceMs: q(0.99) - debounce };
}

if (mode === 'ingest') console.log(JSON.stringify(await ingest(Number(arg ?? 500_000))));
else if (mode === 'ingest-again') console.log(JSON.stringify(await ingest(Number(arg ?? 500_000), true, true)));
else if (mode === 'ingest-unknown') console.log(JSON.stringify(await ingest(Number(arg ?? 500_000), false)));
else if (mode === 'full846') console.log(JSON.stringify(await full846(Number(arg ?? 1_000_000))));
else if (mode === 'full846-run') console.log(JSON.stringify(await full846Run(arg)));
else if (mode === 'latency') console.log(JSON.stringify(await latency(Number(arg ?? 200))));
else {
  for (const m of ['ingest', 'ingest-again', 'ingest-unknown', 'full846', 'latency']) {
    // The gateway's own V8 setting (package.json start, bin/gateway.js).
    const r = spawnSync(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(here, 'availability.ts'), m], { cwd: root, encoding: 'utf8' });
    console.log(r.status === 0 ? r.stdout.trim() : `${m} failed: ${r.stderr.split('\n').slice(-5).join(' ')}`);
  }
}
process.exit(0);
