import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parsePath } from '../../src/mapping/path.ts';
import { MappingRegistry } from '../../src/mapping/registry.ts';
import { readMappingFiles } from '../../src/config/load-config.ts';
import { normaliseDecimal } from '../../src/mapping/run-inbound.ts';
import { demo, po850, ROOT, translateBuffer } from '../helpers.ts';

test('path language: elements, components, conditions, header scope, node-x12 spelling', () => {
  assert.deepEqual(parsePath('PO102'), { text: 'PO102', header: false, tag: 'PO1', element: 2, component: undefined, conditions: [] });
  const p = parsePath('^N104[N101=ST|BT]');
  assert.ok(typeof p !== 'string' && p.header && p.tag === 'N1' && p.element === 4 && p.conditions[0].values.join() === 'ST,BT');
  const q = parsePath('REF02:REF01["IA"]');
  assert.ok(typeof q !== 'string' && q.conditions[0].element === 1 && q.conditions[0].values[0] === 'IA');
  const c = parsePath('QTY03-01');
  assert.ok(typeof c !== 'string' && c.component === 1);
  assert.equal(typeof parsePath('N102[REF01=X]'), 'string');
  assert.equal(typeof parsePath('beg03'), 'string');
});

test('decimals are kept exactly, never through floats', () => {
  assert.equal(normaliseDecimal('00123'), '123');
  assert.equal(normaliseDecimal('12.500'), '12.5');
  assert.equal(normaliseDecimal('-0.10'), '-0.1');
  assert.equal(normaliseDecimal('.5'), '0.5');
  assert.equal(normaliseDecimal('12345678901234567890.123456789'), '12345678901234567890.123456789');
});

const shared850 = readFileSync(path.join(ROOT, 'mappings/_shared/850.in.yaml'), 'utf8');

test('an invalid mapping is refused with file, path and reason; the previous version stays active', async () => {
  const reg = new MappingRegistry();
  assert.deepEqual(reg.loadAll(readMappingFiles(path.join(ROOT, 'mappings'))), []);
  const before = reg.get('demo-retail', '850');
  const bad = shared850.replace('poNumber: { path: BEG03, required: true }', 'poNumber: { path: BEG3, required: yes }').replace('type: decimal, required: true }', 'type: money, required: true }');
  const problems = reg.update({ rel: '_shared/850.in.yaml', text: bad });
  assert.ok(problems.length >= 2, JSON.stringify(problems));
  assert.ok(problems.some((p) => p.file === '_shared/850.in.yaml'));
  assert.ok(problems.every((p) => p.file === '_shared/850.in.yaml' || p.file === 'demo-retail/850.in.yaml'), 'only the file and the one that extends it');
  const paths = problems.map((p) => p.path);
  assert.ok(paths.includes('fields.poNumber.required'), paths.join());
  assert.ok(paths.some((p) => p.startsWith('fields.lines.fields.quantity')), paths.join());
  assert.equal(reg.get('demo-retail', '850'), before, 'the previous version must stay active');
  const yamlErr = reg.update({ rel: '_shared/850.in.yaml', text: 'fields: [' });
  assert.match(yamlErr[0].message, /cannot parse/);
});

test('a valid change takes effect; partner files override shared ones and may extend them', async () => {
  const ctx = demo();
  const { events: e1 } = await translateBuffer(po850(9001, 'PO-X'), ctx, { partner: 'demo-retail' });
  assert.equal((e1[0].data as { poNumber: string }).poNumber, 'PO-X');
  assert.equal('customerRef' in e1[0].data, false);
  const changed = shared850.replace('  department: REF02[REF01=DP]', '  department: REF02[REF01=DP]\n  customerRef: { path: BEG03 }');
  assert.deepEqual(ctx.mappings.update({ rel: '_shared/850.in.yaml', text: changed }), []);
  const { events: e2 } = await translateBuffer(po850(9001, 'PO-X'), ctx, { partner: 'demo-retail' });
  assert.equal((e2[0].data as { customerRef: string }).customerRef, 'PO-X', 'demo-retail extends the shared mapping, so it sees the change');
  // demo-retail requires a ship-to; the shared mapping does not.
  const noShipTo = po850(9002, 'PO-Y').replace('N1*ST*STORE 17*92*0017~\n', '').replace('SE*6*0001', 'SE*5*0001');
  const strict = await translateBuffer(noShipTo, ctx, { partner: 'demo-retail' });
  assert.equal(strict.events.length, 0);
  const lenient = await translateBuffer(noShipTo.replace(/RETAILCO/g, 'OTHERCO '), ctx);
  assert.equal(lenient.events.length, 1);
});

test('crosswalk: partner item ids to our SKU, qualifiers kept', async () => {
  const ctx = demo();
  const text = po850(9003, 'PO-Z').replace('PO1*1*10*EA*9.25*PE*UP*012345678905', 'PO1*1*10*EA*9.25*PE*IN*RC-200310*BP*XYZ');
  const { events } = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const item = (events[0].data as { lines: { item: unknown }[] }).lines[0].item;
  assert.deepEqual(item, { ids: { IN: 'RC-200310', BP: 'XYZ' }, sku: 'GADGET-1' });
});

test('a set with thousands of bad lines keeps a bounded list of rejections, and says how many more', async () => {
  const ctx = demo();
  const lines: string[] = [];
  for (let i = 1; i <= 2000; i++) lines.push(`PO1*${i}*BAD*EA*1*PE*UP*012345678905`);
  const body = ['BEG*00*SA*PO-MANY**20261120', 'N1*ST*S*92*17', ...lines];
  const text = po850(9100, 'X').replace(/ST\*850[\s\S]*SE\*6\*0001/, `ST*850*0001~\n${body.join('~\n')}~\nSE*${body.length + 2}*0001`);
  const { result } = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const rej = result.interchanges[0].groups[0].sets[0].rejections;
  assert.equal(rej.length, 500);
  assert.match(rej[499].message, /1500 more problems in this set are not listed/);
});

test("a partner's own QTY codes: its 846 mapping extends the shared one and overrides only the codes", async () => {
  const ctx = demo();
  const override = 'version: 1\nset: "846"\nextends: _shared/846.in\nfields:\n  lines:\n    fields:\n      quantities:\n        codes: { "02": onHand, "18": available }\n';
  assert.deepEqual(ctx.mappings.update({ rel: 'demo-3pl/846.in.yaml', text: override }), []);
  const { inv } = await import('../store/promise-harness.ts');
  const { events } = await translateBuffer(inv(9100, [['LIN*1*UP*012345678905', 'QTY*02*9*EA', 'QTY*18*4*EA', 'QTY*20*1*EA', 'N1*WH*W*92*CMH1']]), ctx, { partner: 'demo-3pl' });
  const line = (events[0].data as { lines: { quantities: Record<string, string>; location: string }[] }).lines[0];
  assert.deepEqual(line.quantities, { onHand: '9', available: '4', damaged: '1' }, 'the shared codes it does not override still apply');
  assert.equal(line.location, 'ACME-EAST');
});
