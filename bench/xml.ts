/**
 * Issue 12: XML read with bounded memory.
 *   node --import tsx bench/xml.ts [MiB]
 * Generates a snapshot feed (InventorySnapshot, one Item per line) and a shipment feed
 * (ShipmentConfirmation, many orders of cartons and lines) of about MiB each (default 45) under
 * bench/out/, then, each in a fresh process: the whole-tree path this replaced (fast-xml-parser's
 * validator and parser, then the mapping over the tree) and translateXml (saxes, records mapped
 * as each closes). Prints seconds, peak RSS, and the memory held at the end (the mapped event).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2];

if (mode === 'child') {
  const [, , , which, file] = process.argv;
  const { readFileSync } = await import('node:fs');
  const { demo } = await import('../test/helpers.ts');
  const ctx = demo();
  // The whole-tree path reads the file whole (as the gateway did); the streaming paths read it in pieces.
  const data = which === 'fxp' ? readFileSync(file) : Buffer.alloc(0);
  const t0 = performance.now();
  let lines = 0;
  if (which === 'fxp') {
    const { XMLParser, XMLValidator } = await import('fast-xml-parser');
    const { runXmlMapping } = await import('../src/mapping/xml-mapping.ts');
    const repeats = ctx.mappings.xmlRepeats();
    const text = data.toString('utf8');
    if (XMLValidator.validate(text) !== true) throw new Error('invalid');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', parseTagValue: false, parseAttributeValue: false, trimValues: true, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true, removeNSPrefix: true, isArray: (n: string) => repeats.has(n) } as never).parse(text);
    const m = ctx.mappings.getXml('demo-3pl', doc)!;
    const r = runXmlMapping(m, doc, ctx.mappings.crosswalk('demo-3pl'));
    lines = ((r.data.lines ?? r.data.orders) as unknown[]).length;
  } else if (which === 'read') {
    // The reading alone: every record handed over and dropped (what the streaming costs by itself).
    const { streamXml } = await import('../src/xml/stream-xml.ts');
    const r = streamXml({ path: file }, { maxBytes: 1e10, maxDepth: 64 }, () => false, { prune: (p) => p.length === 2 || (p.length === 3 && p[1] === 'Shipment' && p[2] === 'Order'), record: () => void lines++ });
    if (!r.doc) throw new Error(JSON.stringify(r.rejections));
  } else {
    const { translateXml } = await import('../src/pipeline/translate-xml.ts');
    const r = translateXml({ path: file }, { partners: ctx.partners, mappings: ctx.mappings, channelPartnerId: 'demo-3pl', documentId: 'b', sha256: 'b', correlationId: 'b', receivedAt: new Date().toISOString(), limits: { maxBytes: 1e10, maxDepth: 64 } });
    const d = r.events[0]?.data as Record<string, unknown[]> | undefined;
    lines = (d?.lines ?? d?.orders ?? []).length;
    if (!lines) throw new Error(JSON.stringify(r.rejections.slice(0, 3)));
  }
  const s = (performance.now() - t0) / 1000;
  globalThis.gc?.();
  const held = process.memoryUsage().heapUsed;
  console.log(JSON.stringify({ s, lines, maxRssMB: process.resourceUsage().maxRSS / 1024, heldMB: held / 1048576 }));
  process.exit(0);
}

const MiB = Number(mode ?? 45);
const out = path.join(here, 'out');
mkdirSync(out, { recursive: true });
const upcs = ['012345678905', '012345678912', '012345678929'];

async function write(file: string, head: string, unit: (i: number) => string, tail: string) {
  if (existsSync(file) && statSync(file).size >= MiB * 1048576) return;
  const w = createWriteStream(file);
  w.write(head);
  let n = head.length;
  for (let i = 0; n < MiB * 1048576; i++) {
    const u = unit(i);
    n += u.length;
    if (!w.write(u)) await new Promise<void>((r) => w.once('drain', () => r()));
  }
  w.write(tail);
  await new Promise<void>((r) => w.end(() => r()));
}

const snap = path.join(out, `snapshot-${MiB}.xml`);
const ship = path.join(out, `shipment-${MiB}.xml`);
await write(snap, '<?xml version="1.0" encoding="UTF-8"?>\n<InventorySnapshot id="WMS-1" generated="2026-11-21T06:00:00Z" warehouse="ACME-WEST">\n', (i) => `  <Item><Upc>${upcs[i % 3]}</Upc><OnHand uom="EA">${i % 500}</OnHand><Damaged>${i % 3}</Damaged></Item>\n`, '</InventorySnapshot>\n');
await write(
  ship,
  '<?xml version="1.0" encoding="UTF-8"?>\n<ShipmentConfirmation><Shipment id="S-1" shipDate="2026-11-21" carrier="UPSN" tracking="1Z1"><Warehouse code="ACME-EAST">East</Warehouse><ShipTo code="0017">Store 17</ShipTo>\n',
  (i) => `<Order number="PO-${i}" customer="demo-retail"><Carton sscc="00061414100${String(i).padStart(7, '0')}"><Line number="1"><Upc>${upcs[i % 3]}</Upc><Qty uom="EA">${1 + (i % 9)}</Qty></Line><Line number="2"><Upc>${upcs[(i + 1) % 3]}</Upc><Qty uom="EA">2</Qty></Line></Carton></Order>\n`,
  '</Shipment></ShipmentConfirmation>\n',
);

console.log('| file | MiB | path | records | seconds | MiB/s | peak RSS MB | held after (heap MB) |\n|---|---|---|---|---|---|---|---|');
for (const file of [snap, ship]) {
  const size = statSync(file).size / 1048576;
  for (const which of ['fxp', 'read', 'stream']) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', fileURLToPath(import.meta.url), 'child', which, file], { encoding: 'utf8', cwd: path.join(here, '..') });
    if (r.status !== 0) {
      console.log(`| ${path.basename(file)} | ${size.toFixed(1)} | ${which} | failed: ${(r.stderr || '').split('\n').find((l) => l.trim()) ?? r.status} | | | | |`);
      continue;
    }
    const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const label = which === 'fxp' ? 'fast-xml-parser whole tree, then the mapping (before)' : which === 'read' ? 'saxes reading alone, records dropped' : 'translateXml: saxes, records mapped as each closes (after)';
    console.log(`| ${path.basename(file)} | ${size.toFixed(1)} | ${label} | ${j.lines.toLocaleString('en-US')} | ${j.s.toFixed(1)} | ${(size / j.s).toFixed(1)} | ${j.maxRssMB.toFixed(0)} | ${j.heldMB.toFixed(0)} |`);
  }
}
