import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { openDb, type Db } from '../../src/store/db.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, processText, snapshot846, tempDir } from '../helpers.ts';
import { po, x12 } from '../store/promise-harness.ts';

/**
 * The 940 invariant over random sequences (fast-check): POs from demo-retail, replacements,
 * cancels, stock arriving (backorders filled), and a simulated 3PL that reads only the 940s we
 * sent it (N opens an order, R states every line anew, F cancels) and ships what one of its open
 * orders says, some lines short, in 945s that report some or all of its lines. After every
 * step: **what the warehouse holds as told-and-not-shipped for each PO line is exactly what we
 * hold committed for it** (nothing promised twice at the shelf, nothing committed that the
 * warehouse was never told), and every 940 passes our own strict reader.
 */
const ctx = demo();
const opened: Db[] = [];
after(async () => {
  for (const db of opened) await db.destroy();
});

const UPC = { A: '012345678905', M: '012345678912' } as const;
const CODE: Record<string, string> = { 'ACME-EAST': 'CMH1', 'ACME-WEST': 'RNO1' };

type Op =
  | { kind: 'po'; a: number; m: number }
  | { kind: 'replace'; which: number; a: number; m: number }
  | { kind: 'cancel'; which: number }
  | { kind: 'stock'; loc: 'ACME-EAST' | 'ACME-WEST'; a: number; m: number }
  | { kind: 'ship'; which: number; shortA: number; shortM: number; only: 'all' | 'first' | 'last' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('po' as const), a: fc.integer({ min: 0, max: 20 }), m: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replace' as const), which: fc.nat(5), a: fc.integer({ min: 0, max: 20 }), m: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), which: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stock' as const), loc: fc.constantFrom('ACME-EAST' as const, 'ACME-WEST' as const), a: fc.integer({ min: 0, max: 40 }), m: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ship' as const), which: fc.nat(9), shortA: fc.integer({ min: 0, max: 3 }), shortM: fc.integer({ min: 0, max: 3 }), only: fc.constantFrom('all' as const, 'first' as const, 'last' as const) }) },
);

/** PO `number` from demo-retail: lines 1 (A) and 2 (M) where they ask for units (a replacement states both). */
function retailPo(isa13: number, number: string, purpose: '00' | '01' | '05', a: number, m: number): string {
  const lines = [...(a > 0 || purpose === '05' ? [`PO1*1*${a}*EA*1*PE*UP*${UPC.A}`] : []), ...(m > 0 || purpose === '05' ? [`PO1*2*${m}*EA*1*PE*UP*${UPC.M}`] : [])];
  return po('RETAILCO', isa13, number, lines, purpose);
}

/** What the simulated 3PL knows: its orders, from our 940s only. */
interface WhOrder {
  po: string;
  location: string;
  open: boolean;
  lines: Map<string, { qty: number; upc: string }>;
}

function readWarehouse(rows: { content: string }[], wh: Map<string, WhOrder>): void {
  for (const r of rows) {
    const segs = readAllSegments(Buffer.from(r.content)).segments;
    const w05 = segs.find((s) => s.tag === 'W05')!.elements;
    const [status, number, poNumber] = [w05[1], w05[2], w05[3]];
    const sf = segs.filter((s) => s.tag === 'N1').find((s) => s.elements[1] === 'SF')!.elements[4];
    const location = Object.entries(CODE).find(([, c]) => c === sf)![0];
    const lines = new Map<string, { qty: number; upc: string }>();
    let cur: { qty: number; upc: string } | null = null;
    for (const s of segs) {
      if (s.tag === 'W01') cur = { qty: Number(s.elements[1]), upc: s.elements[3] };
      if (s.tag === 'N9' && s.elements[1] === 'LI' && cur) lines.set(s.elements[2], cur);
    }
    const known = wh.get(number);
    if (status === 'N') {
      assert.ok(!known?.open, `940 N for ${number}, which the warehouse holds open`);
      wh.set(number, { po: poNumber, location, open: true, lines });
    } else {
      assert.ok(known?.open, `940 ${status} for ${number}, which the warehouse does not hold open`);
      if (status === 'F') known.open = false;
      else known.lines = lines;
    }
  }
}

test('940s over random POs, changes, cancels, stock and short shipments: the warehouse holds exactly what we hold committed', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 14 }), async (ops) => {
      const dir = tempDir('gw-940p-');
      const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
      opened.push(db);
      const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: ctx.partners, mappings: ctx.mappings };
      let isa = 100;
      let day = 20;
      const date = () => `202611${String(day).padStart(2, '0')}`;
      await processText(h, 's0.x12', snapshot846(isa++, [[UPC.A, 'ACME-EAST', '15'], [UPC.M, 'ACME-WEST', '10']], { date: date() }), 'demo-3pl');
      const pos: string[] = [];
      const wh = new Map<string, WhOrder>();
      let seen = 0;
      for (const [step, o] of ops.entries()) {
        const name = `${step}-${o.kind}.x12`;
        if (o.kind === 'po') {
          if (o.a + o.m === 0) continue;
          const n = `P${pos.length + 1}`;
          pos.push(n);
          await processText(h, name, retailPo(isa++, n, '00', o.a, o.m), 'demo-retail');
        } else if (o.kind === 'replace' || o.kind === 'cancel') {
          if (!pos.length) continue;
          const n = pos[o.which % pos.length];
          await processText(h, name, o.kind === 'cancel' ? retailPo(isa++, n, '01', 0, 0) : retailPo(isa++, n, '05', o.a, o.m), 'demo-retail');
        } else if (o.kind === 'stock') {
          day++;
          await processText(h, name, snapshot846(isa++, [[UPC.A, o.loc, String(o.a)], [UPC.M, o.loc, String(o.m)]], { date: date() }), 'demo-3pl');
        } else {
          const open = [...wh.entries()].filter(([, w]) => w.open && [...w.lines.values()].some((l) => l.qty > 0));
          if (!open.length) continue;
          const [number, w] = open[o.which % open.length];
          let lines = [...w.lines.entries()].filter(([, l]) => l.qty > 0);
          if (o.only === 'first') lines = lines.slice(0, 1);
          if (o.only === 'last') lines = lines.slice(-1);
          day++;
          const body = [`W06*F*${number}*${date()}*SHP-${isa}**${w.po}`, `N1*SF*ACME*92*${CODE[w.location]}`, `G62*11*${date()}`, 'W27*M*UPSN'];
          let total = 0;
          for (const [i, [line, l]] of lines.entries()) {
            const short = Math.min(l.qty, l.upc === UPC.A ? o.shortA : o.shortM);
            body.push(`LX*${i + 1}`, `W12*${short ? 'CP' : 'CC'}*${l.qty}*${l.qty - short}*${short}*EA*${l.upc}`, `N9*LI*${line}`);
            total += l.qty - short;
            l.qty = 0; // reported: final for the line
          }
          body.push(`W03*${total}`);
          if ([...w.lines.values()].every((l) => l.qty === 0)) w.open = false;
          const r = await processText(h, name, x12('ACME3PL', isa++, 'SW', '945', body), 'demo-3pl');
          assert.equal(r.status, 'PROCESSED', `945 for ${number}: ${r.status} ${r.errorMessage}`);
        }
        // The 3PL reads what we sent it since.
        const rows = await db('outbox').where({ kind: '940' }).andWhere('id', '>', seen).orderBy('id');
        if (rows.length) seen = Number(rows.at(-1).id);
        readWarehouse(rows, wh);
        // Invariant: per PO line, told and not shipped at the warehouse == committed here.
        const ours = await db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').select('o.po_number', 'l.line_number', 'l.committed', 'l.location');
        const told = new Map<string, number>();
        for (const w of wh.values()) if (w.open) for (const [line, l] of w.lines) told.set(`${w.po}:${line}`, (told.get(`${w.po}:${line}`) ?? 0) + l.qty);
        for (const l of ours) {
          const k = `${l.po_number}:${l.line_number}`;
          assert.equal(told.get(k) ?? 0, Number(l.committed) / 10_000, `after step ${step} (${JSON.stringify(o)}): ${k} at ${l.location}: the warehouse holds ${told.get(k) ?? 0}, we committed ${Number(l.committed) / 10_000}`);
          told.delete(k);
        }
        assert.deepEqual([...told.entries()].filter(([, n]) => n > 0), [], 'the warehouse holds lines we do not have');
      }
      // Every 940 we wrote passes our own strict reader.
      for (const r of await db('outbox').where({ kind: '940' })) {
        const { translateBuffer } = await import('../helpers.ts');
        const { result } = await translateBuffer(r.content, ctx);
        const ic = result.interchanges[0];
        assert.deepEqual(ic.rejections.filter((x) => x.severity === 'error' && !x.code.startsWith('GW_PARTNER')), []);
        assert.deepEqual(ic.groups[0].sets[0].rejections.filter((x) => x.severity === 'error' && x.code !== 'GW_MAPPING_MISSING'), []);
      }
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 25), endOnFailure: true },
  );
});
