import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildAck, planAcks } from '../../src/x12/ack-builder.ts';
import { checkSegments, projectGrammars, SetChecker } from '../../src/x12/grammar.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, ROOT, translateBuffer } from '../helpers.ts';

/**
 * Issue 14: transaction sets checked against the standard's tables (grammars/x12), and the 997
 * a strict translator writes for what they find: each case a small file and its AK3/AK4/AK5.
 */
const ctx = demo();
const delims = { element: '*', component: '>', segment: '~', repetition: '^', suffix: '\n' };

function file(set: string[], o: { version?: string; isa?: string; fid?: string; sender?: string } = {}): string {
  const version = o.version ?? '004010';
  const sender = o.sender ?? 'RETAILCO';
  const body = ['ST*850*0001', ...set];
  body.push(`SE*${body.length + 1}*0001`);
  return [
    `ISA*00*          *00*          *ZZ*${sender.padEnd(15)}*ZZ*DISTRIBUTOR1   *261120*0930*U*${o.isa ?? '00401'}*000004001*0*P*>`,
    `GS*${o.fid ?? 'PO'}*${sender}*DISTRIBUTOR1*${version >= '004010' ? '20261120' : '261120'}*0930*41*X*${version}`,
    ...body,
    'GE*1*41',
    'IEA*1*000004001',
  ].join('~\n') + '~\n';
}

async function ack(text: string, partner = 'demo-retail') {
  const { result } = await translateBuffer(text, ctx, { partner });
  const plan = planAcks(result.interchanges[0], { send997: true, ta1: 'on-request' })!;
  const built = buildAck({ plan, delimiters: delims, isaControl: 1, gsControl: 1, now: new Date('2026-11-20T10:00:00Z') });
  const segs = readAllSegments(Buffer.from(built.content)).segments;
  const set = result.interchanges[0].groups[0].sets[0];
  return { set, lines: segs.filter((s) => /^AK[345]$/.test(s.tag)).map((s) => s.elements.join('*')) };
}

const GOOD = ['BEG*00*SA*PO-1**20261120', 'N1*ST*STORE 17*92*0017', 'PO1*1*10*EA*9.25*PE*UP*012345678905', 'CTT*1'];

test('a valid 850 passes the grammar: AK5*A', async () => {
  const { lines, set } = await ack(file(GOOD));
  assert.deepEqual(lines, ['AK5*A'], JSON.stringify(set.rejections));
});

test('an unknown segment (ZZZ) in an 850: AK3*ZZZ with AK304 1, the set rejected', async () => {
  const { lines } = await ack(file([GOOD[0], 'ZZZ*1', ...GOOD.slice(1)]));
  assert.deepEqual(lines, ['AK3*ZZZ*3**1', 'AK5*R*5']);
});

test('an X12 segment the 850 does not have (BSN): AK304 2', async () => {
  const { lines } = await ack(file([GOOD[0], 'BSN*00*S1*20261120*1200', ...GOOD.slice(1)]));
  assert.deepEqual(lines, ['AK3*BSN*3**2', 'AK5*R*5']);
});

test('REF before BEG: BEG missing where it was due (AK304 3 at position 2), then BEG out of sequence (AK304 7)', async () => {
  const { lines } = await ack(file(['REF*DP*042', ...GOOD]));
  assert.deepEqual(lines, ['AK3*BEG*2**3', 'AK3*BEG*3**7', 'AK5*R*5']);
});

test('a missing BEG is one AK3, at the position where it was due', async () => {
  const { lines } = await ack(file(GOOD.slice(1)));
  assert.deepEqual(lines, ['AK3*BEG*2**3', 'AK5*R*5']);
});

test('a missing PO1 loop: AK3*PO1 at the position where it was due (the CTT)', async () => {
  const { lines } = await ack(file([GOOD[0], GOOD[1], 'CTT*0']));
  assert.deepEqual(lines, ['AK3*PO1*4**3', 'AK5*R*5']);
});

test('BEG twice: segment over its maximum use (AK304 5); two CTT loops: loop over maximum (AK304 4)', async () => {
  assert.deepEqual((await ack(file([GOOD[0], GOOD[0], ...GOOD.slice(1)]))).lines, ['AK3*BEG*3**5', 'AK5*R*5']);
  assert.deepEqual((await ack(file([...GOOD, 'CTT*1']))).lines, ['AK3*CTT*6**4', 'AK5*R*5']);
});

test('element errors: mandatory missing, conditional, too many, too short, too long, invalid character, date, time, exclusion', async () => {
  const cases: [string[], string[]][] = [
    [['BEG*00*SA***20261120', ...GOOD.slice(1)], ['AK3*BEG*2**8', 'AK4*3**1']],
    [[GOOD[0], 'REF*DP', ...GOOD.slice(1)], ['AK3*REF*3**8', 'AK4*2**2']],
    [['BEG*00*SA*PO-1**20261120' + '*'.repeat(8) + 'XX', ...GOOD.slice(1)], ['AK3*BEG*2**8', 'AK4*13**3']],
    [[GOOD[0], 'N1*ST*STORE 17*92*1', ...GOOD.slice(2)], ['AK3*N1*3**8', 'AK4*4**4*1']],
    [['BEG*000*SA*PO-1**20261120', ...GOOD.slice(1)], ['AK3*BEG*2**8', 'AK4*1**5*000']],
    [[GOOD[0], GOOD[1], 'PO1*1*TEN*EA*9.25*PE*UP*012345678905', 'CTT*1'], ['AK3*PO1*4**8', 'AK4*2**6*TEN']],
    [['BEG*00*SA*PO-1**20261399', ...GOOD.slice(1)], ['AK3*BEG*2**8', 'AK4*5**8*20261399']],
    [[GOOD[0], 'DTM*002*20261124*2599', ...GOOD.slice(1)], ['AK3*DTM*3**8', 'AK4*3**9*2599']],
  ];
  for (const [set, want] of cases) {
    const { lines } = await ack(file(set));
    assert.deepEqual(lines, [...want, 'AK5*R*5'], set.join('~'));
  }
});

test('an 8-digit BEG05 in a 003060 850: the nearest grammar (004010) with 003060 dates (YYMMDD): AK4 too long', async () => {
  const { lines, set } = await ack(file(['BEG*00*SA*PO-1**20261120', ...GOOD.slice(1)], { version: '003060', isa: '00306' }));
  assert.deepEqual(lines, ['AK3*BEG*2**8', 'AK4*5**5*20261120', 'AK5*R*5']);
  assert.ok(set.rejections.some((r) => r.code === 'GW_X12_GRAMMAR_NEAREST'), 'the stand-in grammar is said');
  assert.deepEqual((await ack(file(['BEG*00*SA*PO-1**261120', ...GOOD.slice(1)], { version: '003060', isa: '00306' }))).lines, ['AK5*A']);
});

test('elements of the segments around the lines are checked too: N9 with neither N902 nor N903 or with a date that is not one, a TD5 routing over 35, an SAC code of 3', async () => {
  const cases: [string, string[]][] = [
    ['N9*ZZ', ['AK3*N9*3**8', 'AK4*2**2']],
    ['N9*ZZ*NOTE', []],
    ['N9*ZZ*NOTE**20261131', ['AK3*N9*3**8', 'AK4*4**8*20261131']],
    ['TD5*O*2*ABCD*M*' + 'R'.repeat(36), ['AK3*TD5*3**8', `AK4*5**5*${'R'.repeat(36)}`]],
    ['SAC*C*D24', ['AK3*SAC*3**8', 'AK4*2**4*D24']],
  ];
  for (const [seg, want] of cases) {
    const { lines: got } = await ack(file([GOOD[0], seg, ...GOOD.slice(1)]));
    assert.deepEqual(got, [...want, want.length ? 'AK5*R*5' : 'AK5*A'], seg);
  }
});

test('005010 sets have their own tables: MTX in the N9 loop, a 45-character REF02 and an IN2 pass in 005010; in 004010 the REF02 is too long, MTX out of place (the ADV loop has it) and IN2 not in the set', async () => {
  const body = ['BEG*00*SA*PO-1**20261120', `REF*IA*${'V'.repeat(45)}`, 'N9*ZZ*NOTE', 'MTX**CALL BEFORE DELIVERY', 'N1*ST*STORE 17*92*0017', 'IN2*01*STORE', 'PO1*1*10*EA*9.25*PE*UP*012345678905', 'CTT*1'];
  const v5010 = await ack(file(body, { version: '005010', isa: '00501' }));
  assert.deepEqual(v5010.lines, ['AK5*A'], JSON.stringify(v5010.set.rejections));
  assert.ok(!v5010.set.rejections.some((r) => r.code === 'GW_X12_GRAMMAR_NEAREST'), 'the 005010 table is used, not a stand-in');
  const v4010 = await ack(file(body));
  assert.deepEqual(v4010.lines, ['AK3*REF*3**8', `AK4*2**5*${'V'.repeat(45)}`, 'AK3*MTX*5**7', 'AK3*IN2*7**2', 'AK5*R*5']);
});

test('the 005010 944 puts its receipt lines in an LX loop; the 004010 944 has none', () => {
  const g = projectGrammars();
  const lines = (v: string) => ['ST*944*0001', 'W17*F*20261120*R-1*S-1', 'N1*WH*ACME*92*CMH1', ...(v === '005010' ? ['LX*1'] : []), 'W07*10*EA**UP*012345678905', 'W14*10', 'SE*7*0001'];
  const segs = (v: string) => lines(v).map((l) => { const e = l.split('*'); return { tag: e[0], elements: e }; });
  for (const v of ['004010', '005010']) {
    const r = checkSegments(g, '944', v, segs(v), { component: '>' })!;
    assert.equal(r.nearest, false, v);
    assert.deepEqual(r.errors.map((e) => `${e.segmentId}:${e.segmentCode}`), [], v);
  }
  const missing = checkSegments(g, '944', '005010', segs('004010'), { component: '>' })!;
  assert.ok(missing.errors.some((e) => e.segmentCode === '3' || e.segmentCode === '2'), JSON.stringify(missing.errors));
});

test('a QTY with both a quantity and free-form text: exclusion (AK403 10)', async () => {
  const snap = (lin: string[]) => file(['BIA*00*DD*R1*20261120', ...lin], { fid: 'IB', sender: 'ACME3PL' }).replace('ST*850', 'ST*846');
  const { lines } = await ack(snap(['LIN*1*UP*012345678905', 'QTY*17*5**FIVE']), 'demo-3pl');
  assert.deepEqual(lines, ['AK3*QTY*4**8', 'AK4*4**10*FIVE', 'AK5*R*5']);
});

test('the sample 846 is conformant: a LIN\'s N1 after its QTYs; before them, its QTY is out of sequence', async () => {
  const sample = readFileSync(path.join(ROOT, 'samples/demo-3pl/846-snapshot.x12'), 'latin1');
  assert.deepEqual((await ack(sample, 'demo-3pl')).lines, ['AK5*A']);
  const old = sample.replace('LIN*3*VN*GD-100~\nQTY*17*36.5*CA~\nN1*WH*ACME WEST*92*RNO1~', 'LIN*3*VN*GD-100~\nN1*WH*ACME WEST*92*RNO1~\nQTY*17*36.5*CA~');
  assert.notEqual(old, sample);
  assert.deepEqual((await ack(old, 'demo-3pl')).lines, ['AK3*QTY*15**7', 'AK5*R*5']);
});

test('memory is bounded by loop depth: 200,000 LIN loops keep one frame per level and at most 500 errors', () => {
  // A bad quantity in each of the first 400 loops and in every loop past the 10,000 the LIN loop may have.
  const g = projectGrammars();
  const found = g.sets.get('004010')!.get('846')!;
  const checker = new SetChecker(found, g.segments.get('004010')!, { known: (id) => g.known.has(id), component: '>' });
  checker.feed('ST', ['ST', '846', '0001']);
  checker.feed('BIA', ['BIA', '00', 'DD', 'R', '20261120']);
  let deepest = 0;
  for (let i = 1; i <= 200_000; i++) {
    checker.feed('LIN', ['LIN', String(i), 'UP', '012345678905']);
    checker.feed('QTY', ['QTY', '17', i <= 400 || i > 10_000 ? 'X' : '5', 'EA']);
    checker.feed('N1', ['N1', 'WH', '', '92', 'CMH1']);
    deepest = Math.max(deepest, (checker as unknown as { stack: unknown[] }).stack.length);
  }
  checker.feed('SE', ['SE', '600004', '0001']);
  const errors = checker.end();
  assert.ok(deepest <= 3, `frames: ${deepest}`);
  assert.equal(errors.length, 500);
  assert.ok(checker.more > 190_000, String(checker.more));
  assert.ok(errors.some((e) => e.segmentCode === '4'), 'the LIN loop over its 10,000 maximum is said');
});

test('checkSegments says when no grammar covers a set', () => {
  assert.equal(checkSegments(projectGrammars(), '810', '004010', [], { component: '>' }), null);
});

test('what we send passes the grammars: every outbound golden (846, 855, 856, 940) and our inbound samples but the one written to fail', async () => {
  const { readdirSync } = await import('node:fs');
  const { nonconformance } = await import('../../src/pipeline/envelope-to.ts');
  const outbound = readdirSync(path.join(ROOT, 'samples', 'outbound'));
  assert.ok(outbound.some((f) => f.startsWith('940')) && outbound.some((f) => f.startsWith('855')) && outbound.some((f) => f.startsWith('856')) && outbound.some((f) => f.startsWith('846')));
  for (const f of outbound) assert.equal(nonconformance(readFileSync(path.join(ROOT, 'samples', 'outbound', f), 'latin1'), f), null, f);
  const bad: string[] = [];
  for (const d of ['demo-3pl', 'demo-retail', 'demo-bigbox', 'demo-supplier']) {
    for (const f of readdirSync(path.join(ROOT, 'samples', d)).filter((x) => x.endsWith('.x12'))) if (nonconformance(readFileSync(path.join(ROOT, 'samples', d, f), 'latin1'), f)) bad.push(`${d}/${f}`);
  }
  assert.deepEqual(bad, ['demo-retail/850-partly-rejected.x12']);
});

test('a document we built that fails the grammar is kept out with GW_OUTBOUND_NONCONFORMANT, never released', async () => {
  const { writeOrKeepOut } = await import('../../src/pipeline/envelope-to.ts');
  const good = readFileSync(path.join(ROOT, 'samples/outbound/940-demo-3pl-one-location.x12'), 'latin1');
  const problems: import('../../src/core/rejection.ts').Rejection[] = [];
  assert.equal(writeOrKeepOut(() => good, '940 good', problems), good);
  // Our 940 without its W05 (as a bug in a builder would write it), and a 997 with an unknown AK5 code.
  const noW05 = good.replace(/W05\*[^~]*~\n/, '').replace('SE*17*0001', 'SE*16*0001');
  assert.equal(writeOrKeepOut(() => noW05, '940 without W05', problems), null);
  assert.equal(problems[0].code, 'GW_OUTBOUND_NONCONFORMANT');
  assert.match(problems[0].message, /940 0001: W05: mandatory segment missing/);
  const ack997 = readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.ack.x12'), 'latin1').replace('AK5*A', 'AK5*Z');
  assert.equal(writeOrKeepOut(() => ack997, '997', problems), null);
  assert.match(problems[1].message, /AK501: invalid code value "Z"/);
});

test('a mapping problem stays a business problem: a PO line with no item id is rejected with its code but no AK3/AK4; PO106 without PO107 is the grammar\'s AK4 on PO107, not a "missing" PO106', async () => {
  const noId = await ack(file([GOOD[0], GOOD[1], 'PO1*1*10*EA*9.25*PE', 'CTT*1']));
  assert.deepEqual(noId.lines, ['AK5*R*5']);
  assert.ok(noId.set.rejections.some((r) => r.code === 'GW_MAP_ELEMENT_MISSING'), 'still our rejection of the set, with its code');
  const half = await ack(file([GOOD[0], GOOD[1], 'PO1*1*10*EA*9.25*PE*UP*', 'CTT*1']));
  assert.deepEqual(half.lines, ['AK3*PO1*4**8', 'AK4*7**2', 'AK5*R*5']);
});

test('a TA1 for an ISA that cannot be read is itself valid: 9-digit TA101, YYMMDD TA102, HHMM TA103, our ids in ISA05-08', async () => {
  const text = file(GOOD).replace('*261120*0930*U*00401*000004001*', '*2611*0930*U*00401*00004001*');
  const { result } = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const plan = planAcks(result.interchanges[0], { send997: true, ta1: 'on-request' })!;
  const built = buildAck({ plan, delimiters: delims, isaControl: 7, gsControl: 7, now: new Date('2026-11-20T10:00:00Z') });
  const segs = readAllSegments(Buffer.from(built.content)).segments;
  const ta1 = segs.find((s) => s.tag === 'TA1')!.elements;
  assert.match(ta1[1], /^\d{9}$/);
  assert.match(ta1[2], /^\d{6}$/);
  assert.match(ta1[3], /^\d{4}$/);
  assert.equal(ta1[4], 'R');
  const isa = segs[0].elements;
  assert.deepEqual([isa[5], isa[6].trim(), isa[7], isa[8].trim()], ['ZZ', 'DISTRIBUTOR1', 'ZZ', 'RETAILCO']);
});
