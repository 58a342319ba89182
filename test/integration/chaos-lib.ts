import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { rng } from '../fuzz/fuzz-lib.ts';
import { drop, ls, po850, ROOT, snapshot846, testConfig } from '../helpers.ts';
import type { TestPostgres } from '../store/postgres.ts';
import { sftpPartners, type TestSshd } from '../transport/sshd.ts';
import { freshDatabase, spawnInstance, type Instance } from './instances.ts';

/**
 * Chaos (issue 12): several gateway processes on one PostgreSQL and one data dir, a real sshd,
 * files of mixed sets dropped on folder and SFTP channels while instances are killed with SIGKILL
 * at random moments and restarted. When everything has settled, the invariants are checked on
 * the database and on the files the partners got. Used by `npm run chaos` (bench/chaos.ts, 1,000
 * files) and by a short run in `npm test`.
 */
export interface ChaosOptions {
  files: number;
  instances: number;
  /** Work and poll leases of the instances (inbound.leaseMs). */
  leaseMs: number;
  /** Time between two kills, drawn from [min, max]. */
  killEveryMs: [number, number];
  /** Time a killed instance stays down, drawn from [min, max]. */
  downMs: [number, number];
  /** Files are dropped evenly over this long. */
  writeSpanMs: number;
  quiesceTimeoutMs: number;
  seed: number;
  log?: (line: string) => void;
}

export interface Invariant {
  name: string;
  checked: number;
  violations: string[];
}

export interface ChaosReport {
  files: number;
  byChannel: Record<string, number>;
  kills: number;
  restarts: number;
  writeMs: number;
  settleMs: number;
  statuses: Record<string, number>;
  /** Documents whose processing was started more than once (interrupted by a kill, finished by an instance after it). */
  restarted: number;
  outbox: number;
  invariants: Invariant[];
  violations: number;
  errors: string[];
  dir: string;
}

const UPCS = ['012345678905', '012345678912', '012345678929'];

interface Planned {
  channel: 'folder:demo-retail' | 'sftp:demo-retail' | 'folder:demo-bigbox' | 'folder:demo-3pl';
  partner: string;
  name: string;
  content: string;
  /** The group's control number (GS06), acknowledged by a 997. */
  gs06: string;
  po: string | null;
}

function plan(n: number, rand: () => number): Planned[] {
  const out: Planned[] = [];
  let snapshot = 0;
  const day = (k: number) => new Date(Date.UTC(2025, 0, 1) + k * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  for (let i = 0; i < n; i++) {
    const isa = 100_000 + i;
    const r = rand();
    const qty = String(1 + Math.floor(rand() * 12));
    const upc = UPCS[Math.floor(rand() * UPCS.length)];
    if (r < 0.4) out.push({ channel: 'folder:demo-retail', partner: 'demo-retail', name: `c-${i}-po.x12`, content: po850(isa, `PO-C-${i}`, { qty, upc }), gs06: String(isa), po: `PO-C-${i}` });
    else if (r < 0.6) out.push({ channel: 'sftp:demo-retail', partner: 'demo-retail', name: `c-${i}-sftp.x12`, content: po850(isa, `PO-S-${i}`, { qty, upc }), gs06: String(isa), po: `PO-S-${i}` });
    else if (r < 0.75) out.push({ channel: 'folder:demo-bigbox', partner: 'demo-bigbox', name: `c-${i}-bb.x12`, content: po850(isa, `PO-B-${i}`, { qty, upc, sender: 'BIGBOX' }), gs06: String(isa), po: `PO-B-${i}` });
    else {
      // Stock only grows from one snapshot to the next (an older one applied late is refused as
      // stale): whatever was committed never exceeds what is on hand, unless a unit was promised twice.
      const k = snapshot++;
      const lines = UPCS.map((u, j) => [u, 'ACME-EAST', String(10 + 4 * k + j)] as [string, string, string]);
      out.push({ channel: 'folder:demo-3pl', partner: 'demo-3pl', name: `c-${i}-snap.x12`, content: snapshot846(isa, lines, { date: day(k) }), gs06: String(isa), po: null });
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(pg: TestPostgres, sshd: TestSshd, o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const rand = rng(o.seed);
  const url = await freshDatabase(pg.url, 'chaos');
  const remoteIn = sshd.dir(`chaos-in-${process.pid}-${o.seed}`);
  const remoteOut = sshd.dir(`chaos-out-${process.pid}-${o.seed}`);
  const cfg = testConfig({ stabilityMs: 50, leaseMs: o.leaseMs, partnersDir: sftpPartners(sshd, { inbound: remoteIn, outbound: remoteOut }) });
  const env = { ...cfg.env, DATABASE_URL: url };
  const folders = Object.fromEntries(['demo-retail', 'demo-bigbox', 'demo-3pl'].map((p) => [p, drop(cfg.dataDir, p)]));
  const outOf: Record<string, string> = { 'demo-retail': remoteOut, 'demo-bigbox': folders['demo-bigbox'].out, 'demo-3pl': folders['demo-3pl'].out };

  const errors: string[] = [];
  let generation = 0;
  const launch = (slot: number) => spawnInstance(`i${slot}.${++generation}`, env, path.join(cfg.dir, `i${slot}.log`));
  const slots: (Instance | null)[] = [];
  for (let s = 0; s < o.instances; s++) slots.push(launch(s));
  await Promise.all(slots.map((i) => i!.up));
  log(`${o.instances} instances up; data in ${cfg.dir}`);

  const files = plan(o.files, rand);
  let kills = 0;
  let restarts = 0;
  // Kills go on while files are dropped and until every file has been processed once.
  let killing = true;
  const pending = new Set<Promise<void>>();
  const killer = (async () => {
    while (killing) {
      await sleep(o.killEveryMs[0] + rand() * (o.killEveryMs[1] - o.killEveryMs[0]));
      if (!killing) break;
      const live = slots.map((x, s) => (x ? s : -1)).filter((s) => s >= 0);
      if (live.length === 0) continue;
      const s = live[Math.floor(rand() * live.length)];
      const victim = slots[s]!;
      slots[s] = null;
      await victim.kill('SIGKILL');
      errors.push(...victim.errors);
      kills++;
      const down = o.downMs[0] + rand() * (o.downMs[1] - o.downMs[0]);
      const p = sleep(down).then(() => {
        slots[s] = launch(s);
        restarts++;
      });
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
  })();

  const t0 = Date.now();
  for (const [i, f] of files.entries()) {
    const due = t0 + (i * o.writeSpanMs) / files.length;
    if (due > Date.now()) await sleep(due - Date.now());
    const dir = f.channel === 'sftp:demo-retail' ? remoteIn : folders[f.partner].in;
    const tmp = path.join(dir, `.${f.name}.tmp`);
    writeFileSync(tmp, f.content);
    renameSync(tmp, path.join(dir, f.name));
  }
  const writeMs = Date.now() - t0;
  log(`${files.length} files written in ${writeMs} ms; ${kills} SIGKILLs so far; killing on until all are processed`);
  const stopKilling = async () => {
    killing = false;
    await killer;
    await Promise.all(pending);
    await Promise.all(slots.map((i) => i!.up.catch(() => undefined)));
  };

  const db = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  const t1 = Date.now();
  try {
    // Settled: every file recorded and finished, every folder empty, every outbox entry sent, and
    // nothing new in the outbox for a while (846 deltas follow stock movements after a debounce).
    let stableSince = 0;
    let lastOutbox = -1;
    for (;;) {
      const [{ n: docs }] = await db('documents').where({ direction: 'in' }).count({ n: '*' });
      const [{ n: open }] = await db('documents').where({ direction: 'in' }).andWhere((w) => w.where({ status: 'RECEIVED' }).orWhere({ source_done: false })).count({ n: '*' });
      const [{ n: unsent }] = await db('outbox').whereNot({ status: 'SENT' }).count({ n: '*' });
      const [{ n: box }] = await db('outbox').count({ n: '*' });
      const [{ n: due }] = await db('publish_due').count({ n: '*' }).catch(() => [{ n: 0 }]);
      const emptyDirs = Object.values(folders).every((f) => ls(f.in).length === 0 && ls(path.join(path.dirname(f.in), 'processing')).length === 0) && ls(remoteIn).length === 0;
      if (killing && Number(docs) >= files.length && Number(open) === 0) {
        await stopKilling();
        log(`all files processed once; ${kills} SIGKILLs in all; waiting for the instances to settle`);
        continue;
      }
      const settled = !killing && Number(docs) >= files.length && Number(open) === 0 && Number(unsent) === 0 && emptyDirs && Number(due) === 0;
      if (settled && Number(box) === lastOutbox) {
        if (!stableSince) stableSince = Date.now();
        if (Date.now() - stableSince > 3000) break;
      } else stableSince = 0;
      lastOutbox = Number(box);
      if (Date.now() - t1 > o.quiesceTimeoutMs) {
        log(`not settled after ${o.quiesceTimeoutMs} ms: documents ${docs}/${files.length}, unfinished ${open}, unsent ${unsent}, due ${due}, folders empty ${emptyDirs}`);
        break;
      }
      await sleep(250);
    }
    if (killing) await stopKilling();
    const settleMs = Date.now() - t1;
    for (const i of slots) {
      await i!.kill('SIGTERM');
      errors.push(...i!.errors);
    }
    const invariants = await check(db, env, files, outOf, folders, remoteIn);
    const statuses: Record<string, number> = {};
    for (const r of (await db('documents').where({ direction: 'in' }).select('status').count({ n: '*' }).groupBy('status')) as { status: string; n: unknown }[]) statuses[r.status] = Number(r.n);
    const [{ n: outbox }] = await db('outbox').count({ n: '*' });
    const [{ n: restarted }] = await db('documents').where('starts', '>', 1).count({ n: '*' });
    const byChannel: Record<string, number> = {};
    for (const f of files) byChannel[f.channel] = (byChannel[f.channel] ?? 0) + 1;
    const report: ChaosReport = { files: files.length, byChannel, kills, restarts, writeMs, settleMs, statuses, restarted: Number(restarted), outbox: Number(outbox), invariants, violations: invariants.reduce((s, i) => s + i.violations.length, 0) + errors.length, errors, dir: cfg.dir };
    return report;
  } finally {
    await db.destroy();
  }
}

function acks(dir: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const f of ls(dir).filter((x) => x.endsWith('.x12'))) {
    for (const s of readAllSegments(readFileSync(path.join(dir, f))).segments) {
      if (s.tag !== 'AK1') continue;
      const k = `${s.elements[1]}:${s.elements[2]}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
  }
  return seen;
}

async function check(db: Knex, env: NodeJS.ProcessEnv, files: Planned[], outOf: Record<string, string>, folders: Record<string, { in: string; error: string; archive: string }>, remoteIn: string): Promise<Invariant[]> {
  const inv: Invariant[] = [];
  const add = (name: string, checked: number, violations: string[]) => inv.push({ name, checked, violations: violations.slice(0, 20).concat(violations.length > 20 ? [`... and ${violations.length - 20} more`] : []) });

  // 1. Every file recorded exactly once, finished, none lost in a folder.
  const docs = await db('documents').where({ direction: 'in' }).select('id', 'filename', 'channel', 'status', 'source_done');
  const byName = new Map<string, typeof docs>();
  for (const d of docs) byName.set(String(d.filename), [...(byName.get(String(d.filename)) ?? []), d]);
  const v1: string[] = [];
  for (const f of files) {
    const ds = byName.get(f.name) ?? [];
    if (ds.length !== 1) v1.push(`${f.name}: ${ds.length} documents (${ds.map((d) => d.status).join(', ')})`);
    else if (ds[0].channel !== f.channel) v1.push(`${f.name}: recorded on ${ds[0].channel}`);
  }
  for (const d of docs) if (!files.some((f) => f.name === d.filename)) v1.push(`document ${d.id} (${d.filename}) for no file dropped`);
  add('every file recorded as exactly one document', files.length, v1);

  const v2 = docs.filter((d) => ['RECEIVED', 'FAILED'].includes(String(d.status)) || !d.source_done).map((d) => `${d.filename}: ${d.status}${d.source_done ? '' : ', source not settled'}`);
  for (const p of Object.keys(folders)) {
    for (const sub of ['in', 'processing', 'error']) {
      const dir = sub === 'processing' ? path.join(path.dirname(folders[p].in), 'processing') : folders[p][sub as 'in' | 'error'];
      for (const n of ls(dir)) v2.push(`${p}/${sub}/${n} left behind`);
    }
  }
  for (const n of ls(remoteIn)) v2.push(`remote inbox: ${n} left behind`);
  add('every document finished, no file left in in/, processing/, error/ or the remote inbox', docs.length, v2);

  // 2. Every PO applied once.
  const pos = files.filter((f) => f.po);
  const orders = await db('orders').select('partner_id', 'po_number');
  const received = await db('events').where({ type: 'order.received' }).select('payload');
  const evCount = new Map<string, number>();
  for (const e of received) {
    const p = JSON.parse(e.payload).data.poNumber as string;
    evCount.set(p, (evCount.get(p) ?? 0) + 1);
  }
  const orderSet = new Set(orders.map((r) => `${r.partner_id}:${r.po_number}`));
  const v3: string[] = [];
  for (const f of pos) {
    if (!orderSet.has(`${f.partner}:${f.po}`)) v3.push(`${f.po}: no order`);
    if ((evCount.get(f.po!) ?? 0) !== 1) v3.push(`${f.po}: ${evCount.get(f.po!) ?? 0} order.received events`);
  }
  if (orders.length !== pos.length) v3.push(`${orders.length} orders for ${pos.length} POs`);
  add('every PO applied exactly once (one order, one order.received)', pos.length, v3);

  // 3. Every inbound group acknowledged exactly once, on the partner's own channel.
  const v4: string[] = [];
  const acked = Object.fromEntries(Object.entries(outOf).map(([p, dir]) => [p, acks(dir)]));
  for (const f of files) {
    const fn = f.po ? 'PO' : 'IB';
    const n = acked[f.partner].get(`${fn}:${f.gs06}`) ?? 0;
    if (n !== 1) v4.push(`${f.partner} group ${f.gs06} (${f.name}): acknowledged ${n} times`);
  }
  add('every inbound group acknowledged exactly once', files.length, v4);

  // 4. Control numbers unique; every outbox entry delivered once (one file per entry).
  const box = await db('outbox').select('id', 'partner_id', 'isa13', 'filename', 'status');
  const v5: string[] = [];
  const seen = new Set<string>();
  for (const b of box) {
    const k = `${b.partner_id}:${b.isa13}`;
    if (seen.has(k)) v5.push(`ISA13 ${k} used twice`);
    seen.add(k);
  }
  for (const [p, dir] of Object.entries(outOf)) {
    const isa = new Map<string, number>();
    for (const f of ls(dir).filter((x) => x.endsWith('.x12'))) {
      const s = readAllSegments(readFileSync(path.join(dir, f))).segments.find((x) => x.tag === 'ISA');
      const c = String(s?.elements[13]);
      isa.set(c, (isa.get(c) ?? 0) + 1);
    }
    for (const [c, n] of isa) if (n > 1) v5.push(`${p}: ${n} files carry ISA13 ${c}`);
  }
  add('control numbers unique (outbox and the files partners got)', box.length, v5);

  const v6: string[] = [];
  for (const [p, dir] of Object.entries(outOf)) {
    const got = new Set(ls(dir).filter((x) => !x.startsWith('.')));
    const rows = box.filter((b) => b.partner_id === p);
    for (const b of rows) {
      if (b.status !== 'SENT') v6.push(`outbox ${b.id} (${p}) ${b.status}`);
      if (!got.has(String(b.filename))) v6.push(`outbox ${b.id} (${p}) SENT but ${b.filename} is not there`);
    }
    const names = new Set(rows.map((b) => String(b.filename)));
    for (const g of got) if (!names.has(g)) v6.push(`${p}: ${g} delivered for no outbox entry`);
  }
  add('every outbox entry delivered once, no stray file', box.length, v6);

  // 5. No unit committed beyond stock (stock only grew), and order lines agree with positions.
  const positions = await db('positions').select('item', 'location', 'on_hand', 'committed', 'hold', 'damaged');
  const lines = (await db('order_lines').whereNotNull('location').select('item', 'location').sum({ c: 'committed' }).groupBy('item', 'location')) as { item: string; location: string; c: unknown }[];
  const v7: string[] = [];
  for (const p of positions) {
    const free = Number(p.on_hand) - Number(p.hold) - Number(p.damaged);
    if (Number(p.committed) > free) v7.push(`${p.item} at ${p.location}: committed ${p.committed} > ${free} available to commit`);
    const l = lines.find((x) => x.item === p.item && x.location === p.location);
    if (Number(l?.c ?? 0) !== Number(p.committed)) v7.push(`${p.item} at ${p.location}: order lines commit ${l?.c ?? 0}, the position says ${p.committed}`);
  }
  add('no unit committed beyond stock; order lines agree with positions', positions.length, v7);

  // 6. Positions equal a rebuild from the movement log.
  const positionsBefore = (await db('positions').select('item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'safety_stock')) as Record<string, unknown>[];
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'rebuild'], { cwd: ROOT, env: { ...process.env, ...env, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 120_000 });
  const v8: string[] = [];
  if (r.status !== 0) {
    v8.push(`gateway rebuild exited ${r.status}: ${(r.stdout + r.stderr).trim().slice(0, 500)}`);
    const rebuilt = await db('positions').select('item', 'location', 'on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'safety_stock');
    const before = await Promise.resolve(positionsBefore);
    for (const a of rebuilt) {
      const b = before.find((x) => x.item === a.item && x.location === a.location);
      const diff = Object.keys(a).filter((k) => String(a[k]) !== String(b?.[k])).map((k) => `${k} ${b?.[k]} -> ${a[k]}`);
      if (diff.length) v8.push(`${a.item} at ${a.location}: ${diff.join(', ')}`);
    }
  }
  add('positions equal a rebuild from the movement log (gateway rebuild)', positions.length, v8);
  return inv;
}

/** The report as lines for people. */
export function describe(r: ChaosReport): string {
  const lines = [
    `files: ${r.files} (${Object.entries(r.byChannel).map(([c, n]) => `${c} ${n}`).join(', ')}), written in ${(r.writeMs / 1000).toFixed(1)} s`,
    `kills: ${r.kills} SIGKILLs, ${r.restarts} restarts; settled ${(r.settleMs / 1000).toFixed(1)} s after the last file`,
    `documents: ${Object.entries(r.statuses).map(([s, n]) => `${s} ${n}`).join(', ')} (${r.restarted} started more than once: interrupted and finished after); outbox entries: ${r.outbox}`,
    'invariants:',
    ...r.invariants.map((i) => `  ${i.violations.length ? 'VIOLATED' : 'ok      '} ${i.name} (${i.checked} checked)${i.violations.map((v) => `\n      ${v}`).join('')}`),
    `errors logged by the instances: ${r.errors.length}${r.errors.slice(0, 10).map((e) => `\n      ${e.slice(0, 400)}`).join('')}`,
    `violations: ${r.violations}`,
  ];
  return lines.join('\n');
}
