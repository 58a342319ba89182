import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvelopeValidator } from '../../src/x12/envelope-validator.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';

/** Envelope checks on hand-made interchanges: every check node-x12 misses, and the happy path. */
const ISA = (ctrl = '000000001', ack = '0') => `ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*${ack}*P*>`;
const set = (ctrl: string) => [`ST*850*${ctrl}`, 'BEG*00*SA*X**20261120', `SE*3*${ctrl}`];

function run(segs: string[]) {
  const { segments } = readAllSegments(Buffer.from(segs.join('~') + '~'));
  const mapped: string[] = [];
  const v = new EnvelopeValidator<string>({
    mapSet: (s) => {
      mapped.push(s.control);
      return { events: [s.control], rejections: [] };
    },
  });
  for (const s of segments) v.feed(s);
  const ics = v.finish();
  const actions = v.takeActions();
  const codes = ics.flatMap((ic) => [...ic.rejections, ...ic.groups.flatMap((g) => [...g.rejections, ...g.sets.flatMap((x) => x.rejections)])]).map((r) => r.code);
  return { ics, codes, mapped, actions, fileCodes: v.fileRejections.map((r) => r.code) };
}

const good = [ISA(), 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', ...set('0001'), ...set('0002'), 'GE*2*1', 'IEA*1*000000001'];

test('a valid interchange: every set mapped, accepted', () => {
  const r = run(good);
  assert.deepEqual(r.codes, []);
  assert.deepEqual(r.mapped, ['0001', '0002']);
  assert.equal(r.ics[0].accepted, true);
  assert.equal(r.ics[0].groups[0].accepted, true);
  assert.deepEqual(r.actions.filter((a) => a.type === 'discard'), []);
});

test('missing IEA (truncated): interchange rejected, its events withdrawn', () => {
  const r = run(good.slice(0, -1));
  assert.deepEqual(r.codes, ['GW_X12_IEA_MISSING']);
  assert.equal(r.ics[0].accepted, false);
  assert.ok(r.actions.some((a) => a.type === 'discard' && a.groupSeq === undefined));
  assert.equal(r.ics[0].groups[0].sets.every((s) => !s.accepted), true);
});

test('missing GE and missing SE', () => {
  const noGe = run(good.filter((s) => !s.startsWith('GE')));
  assert.ok(noGe.codes.includes('GW_X12_GE_MISSING'));
  assert.ok(noGe.codes.includes('GW_X12_IEA_COUNT_MISMATCH') === false);
  const noSe = run([ISA(), 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', 'ST*850*0001', 'BEG*00*SA*X**20261120', 'GE*1*1', 'IEA*1*000000001']);
  assert.deepEqual(noSe.codes, ['GW_X12_SE_MISSING']);
  assert.deepEqual(noSe.mapped, []);
});

test('wrong counts and mismatched control numbers at every level', () => {
  const r = run([ISA(), 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', 'ST*850*0001', 'BEG*00*SA*X**20261120', 'SE*9*0002', 'GE*3*2', 'IEA*2*000000009']);
  assert.deepEqual(r.codes.sort(), ['GW_X12_GE_CONTROL_MISMATCH', 'GW_X12_GE_COUNT_MISMATCH', 'GW_X12_IEA_CONTROL_MISMATCH', 'GW_X12_IEA_COUNT_MISMATCH', 'GW_X12_SE_CONTROL_MISMATCH', 'GW_X12_SE_COUNT_MISMATCH']);
});

test('GS01 must match the set; ST02 unique in the group; GS06 unique in the interchange', () => {
  const r = run([ISA(), 'GS*IN*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', ...set('0001'), ...set('0001'), 'GE*2*1', 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', ...set('0003'), 'GE*1*1', 'IEA*2*000000001']);
  assert.equal(r.codes.filter((c) => c === 'GW_X12_SET_GROUP_MISMATCH').length, 2);
  assert.ok(r.codes.includes('GW_X12_ST_CONTROL_DUPLICATE'));
  assert.ok(r.codes.includes('GW_X12_GS_CONTROL_DUPLICATE'));
});

test('invalid ISA and GS elements are coded with their TA1 note', () => {
  const r = run([ISA('00000000X').replace('*U*00401*', '*U*00040*'), 'GS*PO*RETAILCO*DISTRIBUTOR1*261120*0930*1*X*004010', ...set('0001'), 'GE*1*1', 'IEA*1*00000000X']);
  assert.ok(r.codes.includes('GW_X12_ISA_ELEMENT_INVALID'));
  const isa = r.ics[0].rejections.filter((x) => x.code === 'GW_X12_ISA_ELEMENT_INVALID').map((x) => x.x12?.ta1).sort();
  assert.deepEqual(isa, ['017', '018']);
  assert.ok(r.codes.includes('GW_X12_GS_INVALID'), 'GS04 must be CCYYMMDD in 004010');
  assert.deepEqual(r.mapped, []);
});

test('segments outside their envelope, and after the last IEA', () => {
  const r = run([ISA(), 'BEG*00*SA*X**20261120', 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', 'SE*2*0001', 'GE*0*1', 'IEA*1*000000001', 'XYZ*1']);
  assert.equal(r.codes.filter((c) => c === 'GW_X12_SEGMENT_OUTSIDE_GROUP').length, 2);
  assert.deepEqual(r.fileCodes, ['GW_X12_TRAILING_DATA']);
});

test('a new ISA before the IEA closes the first interchange as truncated', () => {
  const r = run([...good.slice(0, -1), ...good.map((s) => s.replace('000000001', '000000002'))]);
  assert.equal(r.ics.length, 2);
  assert.equal(r.ics[0].accepted, false);
  assert.equal(r.ics[1].accepted, true);
});

test('a group broken at its GE withdraws only that group', () => {
  const r = run([ISA(), 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*1*X*004010', ...set('0001'), 'GE*1*1', 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*2*X*004010', ...set('0001'), 'GE*1*9', 'IEA*2*000000001']);
  assert.equal(r.ics[0].groups[0].accepted, true);
  assert.equal(r.ics[0].groups[1].accepted, false);
  assert.deepEqual(r.actions.filter((a) => a.type === 'discard').map((a) => a.groupSeq), [2]);
});
