/**
 * Promise engine benchmarks (issue 10), each in its own process:
 *   node --import tsx bench/promise.ts commit [lines]      PO lines committed per second (1,000 items, 2 locations, 3 partners)
 *   node --import tsx bench/promise.ts snapshot [lines]    a snapshot of N lines dropped into the running gateway -> every partner's 846 written
 *   node --import tsx bench/promise.ts snapshot-unknown [lines]  the same with items no crosswalk knows (provisional)
 *   node --import tsx bench/promise.ts                     all three, as JSON lines
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const [mode, arg] = process.argv.slice(2);
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);

const upc = (i: number) => String(500000000000 + i);
const sku = (i: number) => `BENCH-${String(i).padStart(6, '0')}`;

/** The shared crosswalk with `n` generated items (SKU <-> UPC) added, as YAML. */
function crosswalk(n: number): string {
  let s = readFileSync(path.join(root, 'mappings', '_shared', 'crosswalk.yaml'), 'utf8').trimEnd() + '\n';
  for (let i = 0; i < n; i++) s += `  - { sku: ${sku(i)}, ids: { UP: "${upc(i)}" } }\n`;
  return s;
}

/** A 3PL 846 of `lines` items over two locations (10,000 LIN per ST). */
function snapshot(isa13: number, lines: number, qty: (i: number) => number, perSt = 10_000, items = lines): string {
  const ctrl = String(isa13).padStart(9, '0');
  const parts = [`ISA*00*          *00*          *ZZ*ACME3PL        *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>~\n`, `GS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*${isa13}*X*004010~\n`];
  let st = 0;
  for (let done = 0; done < lines; ) {
    st++;
    const n = Math.min(perSt, lines - done);
    const loc = st % 2 ? 'CMH1' : 'RNO1';
    let buf = `ST*846*${String(st).padStart(4, '0')}~\nBIA*00*DD*B${isa13}-${st}*20261120~\nN1*WH*W*92*${loc}~\n`;
    for (let i = 0; i < n; i++) buf += `LIN*${i + 1}*UP*${upc((done + i) % items)}~\nQTY*17*${qty(done + i)}*EA~\n`;
    buf += `SE*${3 + n * 2 + 1}*${String(st).padStart(4, '0')}~\n`;
    parts.push(buf);
    done += n;
  }
  parts.push(`GE*${st}*${isa13}~\nIEA*1*${ctrl}~\n`);
  return parts.join('');
}

/** 10,000 PO lines over 1,000 items from 3 partners of different ranks, through processDocument. */
async function commit(lines: number) {
  const { demo, processText, tempDir } = await import('../test/helpers.ts');
  const { openDb } = await import('../src/store/db.ts');
  const { RawStore } = await import('../src/store/raw-store.ts');
  const { partnerDirectory } = await import('../src/domain/partner.ts');
  const { Publisher } = await import('../src/pipeline/publisher.ts');
  const { silentLogger } = await import('../src/core/ports.ts');
  const ctx = demo();
  const items = 1000;
  const problems = ctx.mappings.update({ rel: '_shared/crosswalk.yaml', text: crosswalk(items) });
  if (problems.length) throw new Error(JSON.stringify(problems));
  const retail = ctx.partners.get('demo-retail')!;
  // A third retailer: rank 5, a fixed reservation of 3 units of every item at every location.
  const third = { ...retail, id: 'demo-third', interchange: { qualifier: 'ZZ', id: 'THIRD' }, gsId: 'THIRD', publish846: { ...retail.publish846!, rank: 5, share: { quantity: 30_000 }, idQualifiers: ['UP'] } };
  const partners = partnerDirectory(ctx.partners.us, [...ctx.partners.all(), third], ctx.partners);
  const dir = tempDir('gw-bench-prom-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners, mappings: ctx.mappings, now: () => new Date() };
  const snap = await processText(h, 'snap.x12', snapshot(1, items * 2, (i) => 50 + (i % 40), items, items), 'demo-3pl');
  if (snap.status !== 'PROCESSED') throw new Error(`snapshot: ${snap.status}`);
  const publisher = new Publisher({ db, partners, mappings: ctx.mappings, clock: { now: () => new Date() }, logger: silentLogger, outboundDir: path.join(dir, 'out'), exclusive: (fn) => fn(), queued: () => undefined });
  for (const p of ['demo-bigbox', 'demo-third', 'demo-retail']) await publisher.emit(p, true);
  const senders = [['demo-retail', 'RETAILCO'], ['demo-bigbox', 'BIGBOX'], ['demo-third', 'THIRD']] as const;
  const perPo = 100;
  const docs: { name: string; text: string; partner: string }[] = [];
  for (let n = 0; n * perPo < lines; n++) {
    const [pid, isa] = senders[n % 3];
    const ctrl = String(1000 + n).padStart(9, '0');
    const body = [`BEG*00*SA*BP-${n}**20261120`, 'N1*ST*S*92*1'];
    for (let l = 0; l < perPo; l++) body.push(`PO1*${l + 1}*${1 + ((n + l) % 4)}*EA*1*PE*UP*${upc((n * 37 + l * 11) % items)}`);
    body.push(`CTT*${perPo}`);
    const text = [`ISA*00*          *00*          *ZZ*${isa.padEnd(15)}*ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>`, `GS*PO*${isa}*DISTRIBUTOR1*20261120*0930*${1000 + n}*X*004010`, 'ST*850*0001', ...body, `SE*${body.length + 2}*0001`, `GE*1*${1000 + n}`, `IEA*1*${ctrl}`].join('~\n') + '~\n';
    docs.push({ name: `po-${n}.x12`, text, partner: pid });
  }
  const t0 = performance.now();
  for (const d of docs) {
    const r = await processText(h, d.name, d.text, d.partner);
    if (r.status !== 'PROCESSED') throw new Error(`${d.name}: ${r.status} ${JSON.stringify(r.rejections.slice(0, 3))}`);
  }
  const s = (performance.now() - t0) / 1000;
  const [c] = await db('order_lines').count({ n: '*' }).sum({ committed: 'committed', backordered: 'backordered' });
  const over = Number((await db('oversells').count({ n: '*' }))[0].n);
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
  return { bench: 'PO lines committed', lines: Number(c.n), items, partners: 3, pos: docs.length, seconds: +s.toFixed(2), linesPerSecond: Math.round(Number(c.n) / s), committedUnits: Number(c.committed) / 10_000, backorderedUnits: Number(c.backordered) / 10_000, oversells: over, peakRssMb: rss() };
}

/** A snapshot of `lines` lines dropped into the running gateway -> an 846 delta in every retailer's out folder. */
async function snapshotTo846(lines: number, known: boolean) {
  const { testConfig, drop, tempDir } = await import('../test/helpers.ts');
  const { startGateway } = await import('../src/main.ts');
  const mappings = path.join(tempDir('gw-bench-maps-'), 'mappings');
  cpSync(path.join(root, 'mappings'), mappings, { recursive: true });
  // Known items: all in the crosswalk; unknown: each becomes a provisional item (the worst case).
  if (known) writeFileSync(path.join(mappings, '_shared', 'crosswalk.yaml'), crosswalk(lines));
  const t = testConfig({ stabilityMs: 50, mappingsDir: mappings, maxBytes: 1_000_000_000 });
  const g = await startGateway({ ...t.env, LOG_LEVEL: process.env.BENCH_LOG ?? 'silent' });
  const tpl = drop(t.dataDir, 'demo-3pl');
  const retailers = ['demo-retail', 'demo-bigbox'];
  const outs = retailers.map((p) => drop(t.dataDir, p).out);
  const file = snapshot(1, lines, (i) => 10 + (i % 90));
  const tmp = path.join(tpl.in, '.snap.x12.part');
  writeFileSync(tmp, file);
  const t0 = Date.now();
  const { renameSync } = await import('node:fs');
  renameSync(tmp, path.join(tpl.in, 'snap.x12'));
  const count = (out: string) => readdirSync(out).filter((f) => f.startsWith('846_')).length;
  let processedAt = 0;
  while (!outs.every((o) => count(o) > 0)) {
    if (!processedAt && readdirSync(tpl.archive).length) processedAt = Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Date.now() - t0;
  const linesOut = outs.map((o) => readFileSync(path.join(o, readdirSync(o).find((f) => f.startsWith('846_'))!), 'latin1').split('LIN*').length - 1);
  const debounce = g.config.partners.find((p) => p.id === 'demo-retail')!.publish846!.debounceMs;
  await g.stop();
  return { bench: `snapshot -> every partner's 846 (${known ? 'items in the crosswalk' : 'items unknown: provisional'})`, lines, mib: +(file.length / 1048576).toFixed(1), partners: retailers.length, msToAll846: ms, msToProcessed: processedAt ? processedAt - t0 : null, debounceMs: debounce, linesPer846: linesOut, peakRssMb: rss() };
}

if (mode === 'commit') console.log(JSON.stringify(await commit(Number(arg ?? 10_000))));
else if (mode === 'snapshot') console.log(JSON.stringify(await snapshotTo846(Number(arg ?? 100_000), true)));
else if (mode === 'snapshot-unknown') console.log(JSON.stringify(await snapshotTo846(Number(arg ?? 100_000), false)));
else {
  mkdirSync(path.join(here, 'out'), { recursive: true });
  for (const m of ['commit', 'snapshot', 'snapshot-unknown']) {
    const r = spawnSync(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', path.join(here, 'promise.ts'), m], { cwd: root, encoding: 'utf8' });
    console.log(r.status === 0 ? r.stdout.trim() : `${m} failed: ${r.stderr.split('\n').slice(-8).join(' ')}`);
  }
}
process.exit(0);
