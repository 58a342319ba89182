import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readXml } from '../../src/xml/read-xml.ts';
import { translateXml } from '../../src/pipeline/translate-xml.ts';
import { CORPUS, demo } from '../helpers.ts';

/** Hostile and broken XML gets a clear, coded rejection; good XML keeps its text as text. */
const code = (x: string | Buffer, limits?: Parameters<typeof readXml>[1]) => readXml(x, limits).rejections[0]?.code;

test('billion laughs is refused before any expansion', () => {
  const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>`;
  const r = readXml(lol);
  assert.equal(r.doc, undefined);
  assert.equal(r.rejections[0].code, 'GW_XML_ENTITY_FORBIDDEN');
  assert.match(r.rejections[0].message, /line 3/);
});

test('external entities (XXE) are refused', () => {
  assert.equal(code('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'), 'GW_XML_ENTITY_FORBIDDEN');
  assert.equal(code('<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1/evil.dtd"> %p;]><r/>'), 'GW_XML_ENTITY_FORBIDDEN');
});

test('deep nesting, malformed documents and oversized documents are refused with the reason', () => {
  const deep = '<a>'.repeat(200) + '</a>'.repeat(200);
  assert.equal(code(deep), 'GW_XML_TOO_DEEP');
  const r = readXml('<Shipment><Line><Qty>5</Qty></Shipment>');
  assert.equal(r.rejections[0].code, 'GW_XML_MALFORMED');
  assert.match(r.rejections[0].message, /line 1/);
  assert.equal(code('<a>unclosed'), 'GW_XML_MALFORMED');
  assert.equal(code('not xml at all'), 'GW_XML_MALFORMED');
  assert.equal(code('<a>' + 'x'.repeat(2000) + '</a>', { maxBytes: 1000, maxDepth: 10 }), 'GW_XML_TOO_LARGE');
});

test('values stay text (leading zeros), attributes and text both readable, a BOM is fine', () => {
  const r = readXml('\uFEFF<?xml version="1.0"?><a code="007"><qty uom="EA">00123</qty><n>1e5</n></a>');
  assert.deepEqual(r.rejections, []);
  assert.deepEqual(r.doc, { a: { qty: { '#text': '00123', '@uom': 'EA' }, n: '1e5', '@code': '007' } });
});

test('every XML file of the corpus: events, or a coded rejection; the cXML ship notice and product activity map', () => {
  const ctx = demo();
  const dir = path.join(CORPUS, 'xml');
  const mapped: string[] = [];
  for (const f of readdirSync(dir)) {
    const r = translateXml(readFileSync(path.join(dir, f)), { partners: ctx.partners, mappings: ctx.mappings, documentId: f, sha256: f, correlationId: 't', receivedAt: '2026-11-20T10:00:00Z' });
    assert.ok(r.events.length === 1 || r.rejections.some((x) => x.severity === 'error'), f);
    if (r.events.length) mapped.push(`${f}:${r.events[0].type}`);
  }
  assert.deepEqual(mapped.sort(), [
    'FriendsOfCXML__cxml-php__ProductActivityMessage.xml:inventory.snapshot',
    'FriendsOfCXML__cxml-php__ShipNoticeRequest.xml:shipment.confirmed',
  ]);
});
