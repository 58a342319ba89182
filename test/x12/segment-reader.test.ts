import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readAllSegments, X12SegmentReader, type Segment } from '../../src/x12/segment-reader.ts';
import { CORPUS, corpusFiles } from '../helpers.ts';

const ISA = 'ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*000000001*0*P*>';
const body = ['GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', 'ST*850*0001', 'BEG*00*SA*PO1**20261120', 'SE*3*0001', 'GE*1*1', 'IEA*1*000000001'];
const doc = (term: string, after = '') => [ISA, ...body].map((s) => s + term + after).join('');
const tags = (segs: Segment[]) => segs.map((s) => s.tag).join(',');
const EXPECTED = 'ISA,GS,ST,BEG,SE,GE,IEA';

function readInChunks(buf: Buffer, size: number) {
  const r = new X12SegmentReader();
  const segs: Segment[] = [];
  for (let i = 0; i < buf.length; i += size) segs.push(...r.push(buf.subarray(i, i + size)));
  segs.push(...r.end());
  return { segs, notes: r.notes };
}

test('delimiters come from the ISA: element, component, terminator', () => {
  const { segments } = readAllSegments(Buffer.from(doc('~')));
  assert.equal(tags(segments), EXPECTED);
  assert.deepEqual(segments[0].isa!.delimiters, { element: '*', component: '>', repetition: null, segment: '~' });
  assert.equal(segments[0].isa!.length, 106);
  assert.equal(segments[3].elements[3], 'PO1');
  assert.deepEqual(segments.map((s) => s.index), [1, 2, 3, 4, 5, 6, 7]);
});

test('CR/LF after terminators, a BOM and indentation are tolerated', () => {
  const text = '\uFEFF' + [ISA, ...body].map((s, i) => '  '.repeat(i % 3) + s + '~\r\n').join('');
  const { segments, notes } = readAllSegments(Buffer.from(text, 'utf8'));
  assert.equal(tags(segments), EXPECTED);
  assert.deepEqual(notes, []);
});

test('newline as the segment terminator', () => {
  const { segments } = readAllSegments(Buffer.from(doc('\n')));
  assert.equal(tags(segments), EXPECTED);
  assert.equal(segments[0].isa!.delimiters.segment, '\n');
});

test('CR as terminator followed by LF', () => {
  const { segments } = readAllSegments(Buffer.from(doc('\r', '\n')));
  assert.equal(tags(segments), EXPECTED);
  assert.equal(segments[0].isa!.delimiters.segment, '\r');
});

test('80-column wrapped file: line breaks inside elements are removed and noted', () => {
  const flat = doc('~');
  const wrapped = flat.replace(/.{80}/g, '$&\n');
  const { segments, notes } = readAllSegments(Buffer.from(wrapped));
  assert.equal(tags(segments), EXPECTED);
  assert.equal(segments[0].isa!.length, 106);
  assert.equal(segments[1].elements[8], '004010');
  assert.ok(notes.some((n) => n.code === 'GW_X12_LINE_WRAPPED'));
});

test('a multi-byte UTF-8 terminator (U+2026) and binary separators', () => {
  const t = doc('\u2026', '\r\n');
  assert.equal(tags(readAllSegments(Buffer.from(t, 'utf8')).segments), EXPECTED);
  const bin = doc('\x15').replace(/\*/g, '\x7f');
  const { segments } = readAllSegments(Buffer.from(bin, 'latin1'));
  assert.equal(tags(segments), EXPECTED);
  assert.equal(segments[0].isa!.delimiters.element, '\x7f');
});

test('any chunking gives the same segments as reading the whole buffer', () => {
  for (const f of ['850/bots-edi__bots-plugins__850-004010-08.x12', '856/Inteligenz__X12Parser__Example3.txt', 'mixed/bots-edi__bots-plugins__mailbag01.x12', '850/bots-edi__bots-plugins__ebcdic.x12']) {
    const buf = readFileSync(path.join(CORPUS, f));
    const whole = readAllSegments(buf).segments.map((s) => s.elements.join('|'));
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const { segs } = readInChunks(buf, size);
      assert.deepEqual(segs.map((s) => s.elements.join('|')), whole, `${f} in chunks of ${size}`);
    }
  }
});

test('EBCDIC files are transcoded', () => {
  const { segments, notes } = readAllSegments(readFileSync(path.join(CORPUS, '850/bots-edi__bots-plugins__ebcdic.x12')));
  assert.equal(segments[0].tag, 'ISA');
  assert.equal(segments[1].tag, 'GS');
  assert.equal(segments.at(-1)!.tag, 'IEA');
  assert.ok(notes.some((n) => n.code === 'GW_X12_EBCDIC_TRANSCODED'));
});

test('several interchanges with different delimiters in one file', () => {
  const a = doc('~');
  const b = doc('\n').replace(/\*/g, '|').replace('|P|>', '|P|^');
  const { segments } = readAllSegments(Buffer.from(a + b));
  assert.equal(tags(segments), `${EXPECTED},${EXPECTED}`);
  assert.equal(segments[7].isa!.delimiters.element, '|');
});

test('not X12 at all: a coded problem, no segments', () => {
  const { segments, notes } = readAllSegments(Buffer.from('Hello, this is a plain text file.\n'));
  assert.equal(segments.length, 0);
  assert.equal(notes[0].code, 'GW_X12_ISA_MISSING');
});

test('a missing final terminator is noted; a truncated ISA is reported', () => {
  const { segments, notes } = readAllSegments(Buffer.from(doc('~').slice(0, -1)));
  assert.equal(tags(segments), EXPECTED);
  assert.ok(notes.some((n) => n.code === 'GW_X12_FINAL_TERMINATOR_MISSING'));
  const t = readAllSegments(Buffer.from(ISA.slice(0, 60)));
  assert.equal(t.segments.length, 0);
  assert.equal(t.notes[0].code, 'GW_X12_ISA_MALFORMED');
});

test('colliding delimiters are reported on the ISA', () => {
  const bad = doc('~').replace('*P*>', '*P**');
  const { segments } = readAllSegments(Buffer.from(bad));
  assert.ok(segments[0].isa!.problems.some((p) => p.code === 'GW_X12_DELIMITERS_INVALID'));
});

test('every corpus file reads without throwing', () => {
  for (const f of corpusFiles()) {
    const buf = readFileSync(path.join(CORPUS, f));
    const { segments, notes } = readAllSegments(buf);
    assert.ok(segments.length > 0 || notes.length > 0, f);
  }
});

test('inputs shorter than four bytes still get a verdict', () => {
  for (const t of ['IS', 'x', '\uFEFF']) {
    const { segments, notes } = readAllSegments(Buffer.from(t));
    assert.equal(segments.length, 0);
    assert.ok(notes.length > 0 || t === '\uFEFF', JSON.stringify(t));
  }
});
