import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHlTree, hlDescendants } from '../../src/x12/hl-tree.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { gs1CheckDigit, normaliseSscc } from '../../src/x12/sscc.ts';

const segs = (lines: string[]) => readAllSegments(Buffer.from('ISA*00*          *00*          *ZZ*A              *ZZ*B              *261120*0930*U*00401*000000001*0*P*>~' + lines.join('~') + '~')).segments.slice(1);

test('GS1 check digits', () => {
  assert.equal(gs1CheckDigit('10614141123456789'), 7); // GS1's own example SSCC 106141411234567897
  assert.equal(normaliseSscc('106141411234567897'), '106141411234567897');
  assert.equal(normaliseSscc('00106141411234567897'), '106141411234567897');
  assert.equal(normaliseSscc('106141411234567898'), null);
  assert.equal(normaliseSscc('10614141123456789'), null);
});

test('the HL tree follows HL02, every branch (S-O-T-P-I and S-O-I)', () => {
  const s = segs(['ST*856*1', 'BSN*00*1*20261120*1000', 'HL*1**S', 'HL*2*1*O', 'HL*3*2*T', 'HL*4*3*P', 'HL*5*4*I', 'HL*6*3*P', 'HL*7*6*I', 'HL*8*1*O', 'HL*9*8*I', 'CTT*9', 'SE*14*1']);
  const t = buildHlTree(s, s[0].index);
  assert.deepEqual(t.rejections, []);
  assert.equal(t.count, 9);
  assert.deepEqual(hlDescendants(t.roots, ['P']).map((n) => n.id), ['4', '6']);
  assert.deepEqual(hlDescendants(t.roots, ['I']).map((n) => n.id), ['5', '7', '9']);
  assert.deepEqual(hlDescendants(t.roots, ['I'], ['P', 'T']).map((n) => n.id), ['9']);
  assert.deepEqual(t.header.map((x) => x.tag), ['ST', 'BSN', 'CTT', 'SE']);
});

test('HL01 out of sequence, unknown parent, wrong level order are rejected with positions', () => {
  const s = segs(['ST*856*1', 'HL*1**S', 'HL*3*1*O', 'HL*4*9*P', 'HL*5*1*I', 'SE*6*1']);
  const t = buildHlTree(s, s[0].index);
  const msgs = t.rejections.map((r) => `${r.setPosition}:${r.element}`);
  assert.ok(msgs.includes('3:1'), 'HL01 3 should be 2');
  assert.ok(msgs.includes('4:2'), 'parent 9 does not exist');
  assert.ok(msgs.includes('5:3'), 'I directly under S is not allowed');
});
