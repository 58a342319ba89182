/**
 * Issue 4 benchmark: outbound 856 ASNs generated per second (build + pre-flight + SSCC + outbox,
 * in the store) for orders of 1, 50 and 500 lines.
 *   node --max-semi-space-size=32 --import tsx bench/asn.ts
 */
import path from 'node:path';
import { demo, processText, snapshot846, tempDir } from '../test/helpers.ts';
import { openDb } from '../src/store/db.ts';
import { RawStore } from '../src/store/raw-store.ts';

function po(isa13: number, n: number): string {
  const ctrl = String(isa13).padStart(9, '0');
  const body = [`BEG*00*SA*PO-${isa13}**20261120`, 'N1*ST*STORE 17*92*0017'];
  for (let i = 1; i <= n; i++) body.push(`PO1*${i}*2*EA*1.5*PE*UP*${String(200000000000 + i)}`);
  body.push(`CTT*${n}`);
  return [`ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>`, `GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*${isa13}*X*004010`, 'ST*850*0001', ...body, `SE*${body.length + 2}*0001`, `GE*1*${isa13}`, `IEA*1*${ctrl}`].join('~') + '~';
}

function shipment(id: number, poNumber: string, n: number): string {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) lines.push(`<Carton><Line number="${i}"><Upc>${200000000000 + i}</Upc><Qty uom="EA">2</Qty></Line></Carton>`);
  return `<ShipmentConfirmation><Shipment id="S-${id}" shipDate="2026-11-21" carrier="UPSN"><Warehouse code="ACME-EAST">East</Warehouse><Order number="${poNumber}">${lines.join('')}</Order></Shipment></ShipmentConfirmation>`;
}

const ctx = demo();
const rows: Record<string, unknown>[] = [];
for (const n of [1, 50, 500]) {
  const dir = tempDir('gw-asn-bench-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners: ctx.partners, mappings: ctx.mappings, now: () => new Date() };
  const stock: [string, string, string][] = [];
  for (let i = 1; i <= n; i++) stock.push([String(200000000000 + i), 'ACME-EAST', '100000']);
  await processText(h, 'stock.x12', snapshot846(1, stock), 'demo-3pl');
  const orders = Number(process.env.ASN_ORDERS ?? 0) || (n === 500 ? 40 : n === 50 ? 200 : 1000);
  for (let k = 0; k < orders; k++) await processText(h, `po-${k}.x12`, po(1000 + k, n), 'demo-retail');
  // Time the shipments: each becomes one ASN (mapping, stock, pre-flight, SSCCs, 856, outbox).
  const t0 = performance.now();
  for (let k = 0; k < orders; k++) {
    const r = await processText(h, `ship-${k}.xml`, shipment(k, `PO-${1000 + k}`, n), 'demo-3pl');
    if (r.asns?.[0]?.status !== 'QUEUED') throw new Error(JSON.stringify(r.asns));
  }
  const s = (performance.now() - t0) / 1000;
  const asns = Number((await db('outbox').where({ kind: '856' }).count({ c: '*' }))[0].c);
  rows.push({ lines: n, asns, seconds: +s.toFixed(2), asnsPerSecond: Math.round(asns / s), linesPerSecond: Math.round((asns * n) / s) });
  console.log(JSON.stringify(rows[rows.length - 1]));
  await db.destroy();
}
// The 856 alone (pre-flight + build, in memory), without reading the shipment or touching the store.
const { build856 } = await import('../src/x12/build-856.ts');
const { checkAsn, makeSscc } = await import('../src/domain/asn.ts');
const retail = ctx.partners.get('demo-retail')!;
for (const n of [1, 50, 500]) {
  const packs = Array.from({ length: n }, (_, i) => ({ sscc: makeSscc('0614141', i + 1), items: [{ lineNumber: String(i + 1), qualifier: 'UP', id: String(200000000000 + i), quantity: '2', uom: 'EA' }] }));
  const poLines = Array.from({ length: n }, (_, i) => ({ lineNumber: String(i + 1), ids: { UP: String(200000000000 + i) }, ordered: '2', shippedBefore: '0', uom: 'EA' }));
  const asn = { shipmentId: 'S', shipDate: '2026-11-21', shipFrom: { id: 'ACME-EAST' }, shipTo: { id: '0017', qualifier: '92' }, poNumber: 'PO', structure: 'SOPI' as const, packs };
  const reps = Math.max(20, Math.round(20000 / n));
  const t0 = performance.now();
  for (let k = 0; k < reps; k++) {
    if (checkAsn(asn, poLines, { allowOverShipment: false, usedSsccs: new Set() }).length) throw new Error('preflight');
    build856(asn, { envelope: retail.x12, sender: { qualifier: 'ZZ', id: 'DISTRIBUTOR1', gsId: 'DISTRIBUTOR1' }, receiver: { qualifier: 'ZZ', id: 'RETAILCO', gsId: 'RETAILCO' }, isaControl: k + 1, gsControl: k + 1, now: new Date() });
  }
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ buildOnly: true, lines: n, asns: reps, seconds: +s.toFixed(3), asnsPerSecond: Math.round(reps / s) }));
}
process.exit(0);
