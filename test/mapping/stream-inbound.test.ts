import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { readMappingFiles } from '../../src/config/load-config.ts';
import type { CompiledMapping } from '../../src/mapping/compile.ts';
import { MappingRegistry } from '../../src/mapping/registry.ts';
import { mapSegments, type MappedSet } from '../../src/mapping/run-inbound.ts';
import { setMapper } from '../../src/mapping/stream-inbound.ts';
import { X12SegmentReader, type Segment } from '../../src/x12/segment-reader.ts';
import { ROOT } from '../helpers.ts';

/**
 * The streaming mapper (fed segment by segment, holding the header and the current loop) must give
 * what the mapping of the whole set gives: the same event type, data, rejections (codes, places,
 * messages, order) and the same "element is there" notes, on every set of the corpus and samples
 * and on random sets built to stress loop ends, repeated paths and missing pieces.
 */
const registry = new MappingRegistry();
assert.deepEqual(registry.loadAll(readMappingFiles(path.join(ROOT, 'mappings'))), []);
const PARTNERS = [null, 'demo-retail', 'demo-3pl', 'demo-bigbox'];

function view(m: MappedSet) {
  return {
    eventType: m.eventType,
    data: m.data,
    segmentIndex: m.segmentIndex,
    rejections: m.rejections.map((r) => ({ ...r })),
    present: m.rejections.map((r) => m.present.has(r)),
  };
}

function compare(segs: Segment[], mapping: CompiledMapping, partner: string | null, component: string, label: string): void {
  const crosswalk = registry.crosswalk(partner);
  const whole = mapSegments(segs, component, mapping, crosswalk);
  const m = setMapper(mapping, crosswalk, component);
  for (const s of segs) m.feed(s);
  assert.deepEqual(view(m.end()), view(whole), label);
}

function setsOf(text: Buffer): { segs: Segment[]; component: string }[] {
  const r = new X12SegmentReader();
  const out: { segs: Segment[]; component: string }[] = [];
  let component = ':';
  let cur: Segment[] | null = null;
  for (const s of [...r.push(text), ...r.end()]) {
    if (s.tag === 'ISA' && s.isa) component = s.isa.delimiters.component;
    if (s.tag === 'ST') cur = [];
    if (cur) cur.push(s);
    if (s.tag === 'SE' && cur) {
      out.push({ segs: cur, component });
      cur = null;
    }
  }
  return out;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (!/\.(md|tsv|xml|json|ya?ml)$/i.test(name)) out.push(p);
  }
  return out;
}

test('streaming and whole-set mapping agree on every set of the corpus and the samples', () => {
  const all = [...files(path.join(ROOT, '..', 'shared', 'corpus')), ...files(path.join(ROOT, 'samples'))];
  let compared = 0;
  for (const f of all) {
    for (const { segs, component } of setsOf(readFileSync(f))) {
      const setId = segs[0].elements[1];
      for (const partner of PARTNERS) {
        const mapping = registry.get(partner, setId);
        if (!mapping) continue;
        compare(segs, mapping, partner, component, `${path.relative(ROOT, f)} ST02 ${segs[0].elements[2]} as ${partner}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 150, `${compared} sets compared`);
});

// Random sets: an 846 and an 850 from pools of segments that the mappings read, in any order,
// with loop triggers, members, qualifiers the paths ask for and others, empty elements and junk.
const SEG = (...e: string[]) => e.join('*');
const pools: Record<string, fc.Arbitrary<string>[]> = {
  '846': [
    fc.constantFrom(SEG('BIA', '00', 'MM', 'R1', '20260101'), SEG('BIA', '04', 'MM', 'R2', '20260102', '1200'), SEG('BIA', '', 'MM', '', '2026')),
    fc.constantFrom(SEG('DTM', '405', '20260103', '0800'), SEG('DTM', '405', 'bad'), SEG('DTM', '007', '20260104')),
    fc.constantFrom(SEG('N1', 'WH', 'Main', '92', 'W1'), SEG('N1', 'ST', 'Store', '92', 'S9'), SEG('N1', 'SU', 'Sup', '92', 'SUP'), SEG('N1', 'RL', '', '92', '')),
    fc.constantFrom(SEG('LIN', '', 'UP', '012345678905'), SEG('LIN', '1', 'VN', 'SKU-1', 'UP', '100000000001'), SEG('LIN', '2'), SEG('LIN', '', 'SK', 'WIDGET-1')),
    fc.constantFrom(SEG('QTY', '33', '10', 'EA'), SEG('QTY', '17', '0012.50', 'CA'), SEG('QTY', '27', 'x'), SEG('QTY', '99', '3'), SEG('QTY', '33', '')),
    fc.constantFrom(SEG('PO4', '12', '1', 'EA'), SEG('PID', 'F', '', '', '', 'Widget'), SEG('REF', 'SI', 'SHIP1'), SEG('REF', 'ZZ', 'x')),
    fc.constantFrom(SEG('CTT', '2'), SEG('CTT', '1'), SEG('N2', 'more'), SEG('N4', 'Town'), SEG('ZZZ', '1')),
  ],
  '850': [
    fc.constantFrom(SEG('BEG', '00', 'SA', 'PO1', '', '20260101'), SEG('BEG', '05', 'SA', 'PO2', 'R', '20260102'), SEG('BEG', '00', 'SA', '', '', 'x')),
    fc.constantFrom(SEG('REF', 'DP', '12'), SEG('REF', 'IA', 'V1'), SEG('CUR', 'BY', 'USD'), SEG('DTM', '002', '20260110'), SEG('DTM', '010', '20260111'), SEG('DTM', '002', 'bad')),
    fc.constantFrom(SEG('N1', 'ST', 'Store', '92', '0001'), SEG('N1', 'BY', 'Buyer', '92', 'B1'), SEG('N1', 'ST', 'Other', '92', '0002'), SEG('N3', 'Street'), SEG('N4', 'Town', 'ST', '12345')),
    fc.constantFrom(SEG('PO1', '1', '5', 'EA', '2.50', '', 'UP', '012345678905'), SEG('PO1', '2', '1', 'CA', '10', '', 'VN', 'SKU-1'), SEG('PO1', '', 'x', 'EA'), SEG('PO1', '3', '2', 'EA', '1', '', 'SK', 'WIDGET-1')),
    fc.constantFrom(SEG('PID', 'F', '', '', '', 'Thing'), SEG('PO4', '6', '1', 'EA'), SEG('SCH', '1', 'EA', '', '', '002', '20260120'), SEG('TD5', '', '2', 'UPSN')),
    fc.constantFrom(SEG('CTT', '2'), SEG('CTT', '3'), SEG('AMT', 'TT', '10'), SEG('PER', 'IC', 'Bob'), SEG('ZZZ', '1')),
  ],
};

function setText(setId: string, body: string[]): Segment[] {
  const segs = [SEG('ST', setId, '0001'), ...body, SEG('SE', String(body.length + 2), '0001')];
  const isa = 'ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*U*00401*000000001*0*P*>~';
  const text = `${isa}GS*IB*S*R*20260101*1200*1*X*004010~${segs.join('~')}~GE*1*1~IEA*1*000000001~`;
  return setsOf(Buffer.from(text))[0].segs;
}

for (const setId of ['846', '850']) {
  test(`streaming and whole-set mapping agree on random ${setId} sets`, () => {
    const seg = fc.oneof(...pools[setId]);
    fc.assert(
      fc.property(fc.array(seg, { maxLength: 40 }), fc.constantFrom(...PARTNERS), (body, partner) => {
        const mapping = registry.get(partner, setId)!;
        compare(setText(setId, body), mapping, partner, '>', body.join('~'));
      }),
      { numRuns: 600 },
    );
  });
}

test('a mapping over an HL tree is held whole and mapped at SE (the 856)', () => {
  const mapping = registry.get(null, '856')!;
  const [{ segs, component }] = setsOf(readFileSync(path.join(ROOT, 'samples', 'demo-3pl', '856-asn.x12')));
  compare(segs, mapping, 'demo-3pl', component, '856');
});
