import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { runXmlMapping, streamPlan, xmlMatches, XmlStreamMapper, type CompiledXmlMapping } from '../../src/mapping/xml-mapping.ts';
import { translateXml } from '../../src/pipeline/translate-xml.ts';
import type { XmlNode } from '../../src/xml/read-xml.ts';
import { streamXml } from '../../src/xml/stream-xml.ts';
import { CORPUS, demo, ROOT } from '../helpers.ts';

/**
 * The streaming XML path (saxes, records mapped as each closes) against the reference it replaced:
 * fast-xml-parser's whole tree through runXmlMapping. Same values, same rejections, on every XML
 * file we have and on generated feeds with every arrangement a partner may send.
 */
const ctx = demo();
const repeats = ctx.mappings.xmlRepeats();
const LIMITS = { maxBytes: 50 * 1024 * 1024, maxDepth: 64 };

function fxp(text: string): XmlNode {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    removeNSPrefix: true,
    isArray: (name: string) => repeats.has(name),
  } as ConstructorParameters<typeof XMLParser>[0]).parse(text) as XmlNode;
}

/** Every mapping that takes `doc` (by root and `has`), for each channel that could carry it. */
function mappingsFor(doc: XmlNode): CompiledXmlMapping[] {
  const root = Object.keys(doc).find((k) => !k.startsWith('?'));
  if (!root) return [];
  const all = new Set([...ctx.mappings.xmlCandidates('demo-3pl', root), ...ctx.mappings.xmlCandidates(null, root)]);
  return [...all].filter((m) => xmlMatches(m, doc));
}

function streamed(m: CompiledXmlMapping, bytes: Buffer, partner: string | null) {
  const plan = streamPlan(m);
  assert.ok(plan, `${m.id} streams`);
  const mapper = new XmlStreamMapper(m, plan, ctx.mappings.crosswalk(partner));
  const { doc, rejections } = streamXml(bytes, LIMITS, (n) => repeats.has(n), mapper);
  assert.deepEqual(rejections, []);
  return mapper.finish(doc!);
}

function same(m: CompiledXmlMapping, text: string, what: string) {
  for (const partner of ['demo-3pl', null]) {
    const ref = runXmlMapping(m, fxp(text), ctx.mappings.crosswalk(partner));
    const got = streamed(m, Buffer.from(text, 'utf8'), partner);
    assert.deepEqual(got.data, ref.data, `${what} (${m.id}, ${partner}): values`);
    assert.deepEqual(got.rejections, ref.rejections, `${what} (${m.id}, ${partner}): rejections`);
  }
}

test('every XML mapping we ship streams (its records mapped as each closes)', () => {
  const roots = ['InventorySnapshot', 'ReturnDisposition', 'ReturnReceipt', 'ShipmentConfirmation', 'cXML'];
  const ids = roots.flatMap((r) => ctx.mappings.xmlCandidates('demo-3pl', r)).map((m) => `${m.id}:${streamPlan(m)?.lists.map((l) => l.path.join('.')).join(',')}`);
  assert.deepEqual(ids.sort(), [
    '_shared/cxml-product-activity.xml:cXML.Message.ProductActivityMessage.ProductActivityDetails',
    '_shared/cxml-ship-notice.xml:cXML.Request.ShipNoticeRequest.ShipNoticePortion',
    'demo-3pl/inventory-snapshot.xml:InventorySnapshot.Item',
    'demo-3pl/return-disposition.xml:ReturnDisposition.Item',
    'demo-3pl/return-receipt.xml:ReturnReceipt.Item',
    'demo-3pl/shipment-confirmation.xml:ShipmentConfirmation.Shipment.Order',
  ]);
});

test('the corpus and our samples: streamed mapping equals the whole-tree reference', () => {
  const files = [
    ...readdirSync(path.join(CORPUS, 'xml')).map((f) => path.join(CORPUS, 'xml', f)),
    ...readdirSync(path.join(ROOT, 'samples', 'demo-3pl')).filter((f) => f.endsWith('.xml')).map((f) => path.join(ROOT, 'samples', 'demo-3pl', f)),
  ];
  let compared = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of mappingsFor(fxp(text))) {
      same(m, text, path.basename(f));
      compared++;
    }
  }
  assert.ok(compared >= 7, `only ${compared} comparisons`);
});

const upcs = ['012345678905', '012345678912', '012345678929', '000000000000'];
const ws = fc.constantFrom('', ' ', '\n  ');
const num = fc.oneof(fc.integer({ min: 0, max: 9999 }).map(String), fc.constantFrom('00040', '12.25', 'x1', '', '-3'));

/** A 3PL snapshot with items in any arrangement: attributes or not, fields missing, unknown ids, comments, CDATA. */
const snapshot = fc
  .record({
    id: fc.option(fc.constantFrom('WMS-1', 'A&amp;B'), { nil: undefined }),
    generated: fc.constantFrom('2026-11-21T06:00:00Z', 'not-a-date', ''),
    warehouse: fc.option(fc.constantFrom('ACME-WEST', 'RNO1'), { nil: undefined }),
    items: fc.array(
      fc.record({
        upc: fc.option(fc.constantFrom(...upcs), { nil: undefined }),
        vp: fc.option(fc.constantFrom('GD-100', 'NOPE'), { nil: undefined }),
        wh: fc.option(fc.constantFrom('ACME-EAST', 'CMH1'), { nil: undefined }),
        onHand: fc.option(num, { nil: undefined }),
        uom: fc.option(fc.constantFrom('EA', 'CA'), { nil: undefined }),
        damaged: fc.option(num, { nil: undefined }),
        cdata: fc.boolean(),
        comment: fc.boolean(),
        pad: ws,
      }),
      { maxLength: 8 },
    ),
  })
  .map((d) => {
    const attr = (k: string, v: string | undefined) => (v === undefined ? '' : ` ${k}="${v}"`);
    const items = d.items.map((i) => {
      const parts = [
        i.upc === undefined ? '' : i.cdata ? `<Upc><![CDATA[${i.upc}]]></Upc>` : `<Upc>${i.pad}${i.upc}${i.pad}</Upc>`,
        i.vp === undefined ? '' : `<VendorPart>${i.vp}</VendorPart>`,
        i.comment ? '<!-- counted at 06:00 -->' : '',
        i.onHand === undefined ? '' : `<OnHand${attr('uom', i.uom)}>${i.onHand}</OnHand>`,
        i.damaged === undefined ? '' : `<Damaged>${i.damaged}</Damaged>`,
      ];
      return `${i.pad}<Item${attr('warehouse', i.wh)}>${parts.join(i.pad)}</Item>`;
    });
    return `<?xml version="1.0" encoding="UTF-8"?>\n<InventorySnapshot${attr('id', d.id)}${attr('generated', d.generated)}${attr('warehouse', d.warehouse)}>${items.join('')}\n</InventorySnapshot>`;
  });

/** A 3PL shipment: orders, cartons and lines nested, with header elements before and after the orders. */
const shipment = fc
  .record({
    headerFirst: fc.boolean(),
    carrier: fc.option(fc.constantFrom('UPSN', 'FDEG'), { nil: undefined }),
    weight: fc.option(num, { nil: undefined }),
    orders: fc.array(
      fc.record({
        po: fc.option(fc.constantFrom('PO-1', 'PO-2', 'PO-3'), { nil: undefined }),
        cartons: fc.array(
          fc.record({ sscc: fc.option(fc.constantFrom('000614141000000014', '1'), { nil: undefined }), lines: fc.array(fc.record({ upc: fc.constantFrom(...upcs), qty: fc.option(num, { nil: undefined }), n: fc.integer({ min: 1, max: 9 }) }), { maxLength: 3 }) }),
          { maxLength: 3 },
        ),
      }),
      { maxLength: 4 },
    ),
    ns: fc.boolean(),
  })
  .map((d) => {
    const p = d.ns ? 'a:' : '';
    const header = `<${p}Warehouse code="ACME-EAST">East</${p}Warehouse><${p}ShipTo code="0017">Store</${p}ShipTo>`;
    const orders = d.orders
      .map((o) => `<${p}Order${o.po ? ` number="${o.po}"` : ''} customer="demo-retail">${o.cartons.map((c) => `<${p}Carton${c.sscc ? ` sscc="${c.sscc}"` : ''}>${c.lines.map((l) => `<${p}Line number="${l.n}"><${p}Upc>${l.upc}</${p}Upc>${l.qty === undefined ? '' : `<${p}Qty uom="EA">${l.qty}</${p}Qty>`}</${p}Line>`).join('')}</${p}Carton>`).join('')}</${p}Order>`)
      .join('\n');
    const attrs = `id="S-1" shipDate="2026-11-21"${d.carrier ? ` carrier="${d.carrier}"` : ''}${d.weight === undefined ? '' : ` weight="${d.weight}"`}`;
    return `<${p}ShipmentConfirmation${d.ns ? ' xmlns:a="urn:x"' : ''}><${p}Shipment ${attrs}>${d.headerFirst ? header + orders : orders + header}</${p}Shipment></${p}ShipmentConfirmation>`;
  });

test('generated snapshots and shipments: streamed mapping equals the whole-tree reference (fast-check)', () => {
  const [snap] = ctx.mappings.xmlCandidates('demo-3pl', 'InventorySnapshot');
  const [ship] = ctx.mappings.xmlCandidates('demo-3pl', 'ShipmentConfirmation');
  fc.assert(fc.property(snapshot, (text) => same(snap, text, text)), { numRuns: 300 });
  fc.assert(fc.property(shipment, (text) => same(ship, text, text)), { numRuns: 300 });
});

test('translateXml picks the mapping as getXml does, streaming: a document no mapping takes is refused with its root', () => {
  const t = (text: string, partner?: string) => translateXml(Buffer.from(text), { partners: ctx.partners, mappings: ctx.mappings, channelPartnerId: partner, documentId: 'd', sha256: 's', correlationId: 'c', receivedAt: '2026-11-20T10:00:00Z' });
  // ShipmentConfirmation's mapping asks for a Shipment element (`has`): without one, no mapping.
  const none = t('<ShipmentConfirmation><Other/></ShipmentConfirmation>', 'demo-3pl');
  assert.equal(none.rejections[0].code, 'GW_XML_NO_MAPPING');
  assert.match(none.rejections[0].message, /<ShipmentConfirmation> on demo-3pl's channel/);
  const ok = t(readFileSync(path.join(ROOT, 'samples/demo-3pl/shipment-confirmation.xml'), 'utf8'), 'demo-3pl');
  assert.equal(ok.mappingId, 'demo-3pl/shipment-confirmation.xml');
  assert.equal(ok.events[0].type, 'shipment.confirmed');
  // A cXML document goes to the mapping whose `has` path it holds, wherever that element comes.
  const pam = readFileSync(path.join(CORPUS, 'xml', 'FriendsOfCXML__cxml-php__ProductActivityMessage.xml'), 'utf8');
  assert.equal(t(pam).mappingId, '_shared/cxml-product-activity.xml');
  assert.equal(t('<cXML><Header/></cXML>').rejections[0].code, 'GW_XML_NO_MAPPING');
  // Malformed after the point where the mapping was known: still refused as malformed.
  assert.equal(t('<InventorySnapshot id="1" generated="2026-11-21"><Item><Upc>1</Upc></Itm></InventorySnapshot>', 'demo-3pl').rejections[0].code, 'GW_XML_MALFORMED');
});

test('a stored file is read in pieces with the same result as its bytes; a BOM is not content; the size limit holds', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-xml-'));
  const text = '\uFEFF' + readFileSync(path.join(ROOT, 'samples/demo-3pl/inventory-snapshot.xml'), 'utf8').replace('</InventorySnapshot>', `${'<Item><Upc>012345678905</Upc><OnHand>1</OnHand></Item>\n'.repeat(5000)}</InventorySnapshot>`);
  const file = path.join(dir, 'big.xml');
  writeFileSync(file, text);
  const fromFile = streamXml({ path: file }, LIMITS, (n) => repeats.has(n));
  const fromBytes = streamXml(Buffer.from(text, 'utf8'), LIMITS, (n) => repeats.has(n));
  assert.deepEqual(fromFile.rejections, []);
  assert.deepEqual(fromFile.doc, fromBytes.doc);
  assert.equal(((fromFile.doc!.InventorySnapshot as XmlNode).Item as unknown[]).length, 5003);
  assert.equal(streamXml({ path: file }, { maxBytes: 1000, maxDepth: 64 }, () => false).rejections[0].code, 'GW_XML_TOO_LARGE');
});
