import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildAck, planAcks } from '../../src/x12/ack-builder.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, translateBuffer } from '../helpers.ts';

/**
 * Issue 14: 997s a strict translator would write, for the envelope cases the validators found:
 * the FA group in the version of the group it answers (GS04 YYMMDD before 004010, no AK103
 * before 005010), one FA group per inbound group's version and application ids, echoed values
 * that fit their elements, no AK5*A beside a group rejected as a whole, AK3 ids without padding.
 */
const ctx = demo();
const delims = { element: '*', component: '>', segment: '~', repetition: '^', suffix: '\n' };
const now = new Date('2026-11-20T10:00:00Z');

function isa(ctrl: number, version = '00401'): string {
  return `ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*${version}*${String(ctrl).padStart(9, '0')}*0*P*>`;
}
const group = (fid: string, ctrl: number, version: string, sets: string[][], gsIds = ['RETAILCO', 'DISTRIBUTOR1']) => [`GS*${fid}*${gsIds[0]}*${gsIds[1]}*${version >= '004010' ? '20261120' : '261120'}*0930*${ctrl}*X*${version}`, ...sets.flat(), `GE*${sets.length}*${ctrl}`];
const set850 = (st02: string, date = '20261120') => ['ST*850*' + st02, `BEG*00*SA*PO-${st02}**${date}`, 'PO1*1*1*EA*1**UP*012345678905', 'SE*4*' + st02];

async function ack(text: string) {
  const { result } = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const plan = planAcks(result.interchanges[0], { send997: true, ta1: 'on-request' });
  assert.ok(plan, 'an acknowledgment is due');
  const built = buildAck({ plan, delimiters: delims, isaControl: 42, gsControl: 7, now });
  return { built, segs: readAllSegments(Buffer.from(built.content)).segments };
}
const line = (segs: ReturnType<typeof readAllSegments>['segments'], tag: string) => segs.filter((s) => s.tag === tag).map((s) => s.elements.slice(1).join('*'));

test('a 003060 group is answered in 003060: GS04 YYMMDD, no AK103', async () => {
  const { segs } = await ack([isa(501, '00306'), ...group('PO', 11, '003060', [set850('0001', '261120')]), 'IEA*1*000000501'].join('~\n') + '~\n');
  assert.deepEqual(line(segs, 'GS'), ['FA*DISTRIBUTOR1*RETAILCO*261120*1000*7*X*003060']);
  assert.deepEqual(line(segs, 'AK1'), ['PO*11']);
});

test('a 005010 group gets AK103 with its version', async () => {
  const { segs } = await ack([isa(502, '00501'), ...group('PO', 12, '005010', [set850('0001')]), 'IEA*1*000000502'].join('~\n') + '~\n');
  assert.deepEqual(line(segs, 'GS'), ['FA*DISTRIBUTOR1*RETAILCO*20261120*1000*7*X*005010']);
  assert.deepEqual(line(segs, 'AK1'), ['PO*12*005010']);
});

test('two groups of different versions and application ids: one FA group each, addressed and versioned as its group', async () => {
  const text = [isa(503), ...group('PO', 21, '003010', [set850('0001', '261120')], ['RETAILCO', 'DISTRIBUTOR1']), ...group('PO', 22, '004010', [set850('0001')], ['RETAILCO', 'DISTRIBUTOR1']), 'IEA*2*000000503'].join('~\n') + '~\n';
  const { segs, built } = await ack(text);
  assert.deepEqual(line(segs, 'GS'), ['FA*DISTRIBUTOR1*RETAILCO*261120*1000*7*X*003010', 'FA*DISTRIBUTOR1*RETAILCO*20261120*1000*8*X*004010']);
  assert.deepEqual(line(segs, 'AK1'), ['PO*21', 'PO*22']);
  assert.deepEqual(line(segs, 'GE'), ['1*7', '1*8']);
  assert.deepEqual(line(segs, 'IEA'), ['2*000000042']);
  assert.equal(built.gsControl, 7);
});

test('a GS08 that is not a version: the FA group is 004010 and AK1 has no AK103', async () => {
  const { segs } = await ack([isa(504), 'GS*PO*RETAILCO*DISTRIBUTOR1*20261120*0930*13*X*21', ...set850('0001'), 'GE*1*13', 'IEA*1*000000504'].join('~\n') + '~\n');
  assert.deepEqual(line(segs, 'GS').map((g) => g.split('*').at(-1)), ['004010']);
  assert.deepEqual(line(segs, 'AK1'), ['PO*13']);
});

test('echoed values fit their elements: a 10-character ST02 is not echoed whole into AK202 (AN 4/9)', async () => {
  const { segs } = await ack([isa(505), ...group('PO', 14, '004010', [set850('1234567890')]), 'IEA*1*000000505'].join('~\n') + '~\n');
  const ak2 = segs.find((s) => s.tag === 'AK2')!.elements;
  assert.ok(ak2[2].length >= 4 && ak2[2].length <= 9, ak2[2]);
});

test('a group rejected as a whole (GE01 wrong): AK9*R with its code and no AK5*A for its sets', async () => {
  const g = group('PO', 15, '004010', [set850('0001'), set850('0002')]);
  g[g.length - 1] = 'GE*3*15';
  const { segs } = await ack([isa(506), ...g, 'IEA*1*000000506'].join('~\n') + '~\n');
  assert.deepEqual(line(segs, 'AK5'), []);
  assert.deepEqual(line(segs, 'AK9'), ['R*3*2*0*5']);
});

test('AK301 is the segment id without padding', async () => {
  const bad = set850('0001');
  bad[2] = 'PO1 *1*1*EA*1**UP*012345678905';
  const { segs } = await ack([isa(507), ...group('PO', 16, '004010', [bad]), 'IEA*1*000000507'].join('~\n') + '~\n');
  const ak3 = segs.filter((s) => s.tag === 'AK3');
  assert.ok(ak3.length >= 1, 'the padded segment is reported');
  for (const a of ak3) assert.match(a.elements[1], /^[A-Z0-9]{2,3}$/);
});

test('a partner that takes 999s gets a 999 for its 005010 groups (IK3/IK4/IK5, ST03 005010X231) that passes the 999 grammar; a 004010 group still a 997', async () => {
  const { nonconformance } = await import('../../src/pipeline/envelope-to.ts');
  const bad = set850('0001').map((s) => s.replace('PO1*1*1*EA', 'PO1*1*ONE*EA'));
  const good = ['ST*850*0002', 'BEG*00*SA*PO-0002**20261120', 'N1*ST*STORE 17*92*0017', 'PO1*1*1*EA*1**UP*012345678905', 'SE*5*0002'];
  const text = [isa(508, '00501'), ...group('PO', 17, '005010', [bad, good]), 'IEA*1*000000508'].join('~\n') + '~\n';
  const { result } = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const plan = planAcks(result.interchanges[0], { send997: true, functionalAck: '999', ta1: 'on-request' })!;
  const built = buildAck({ plan, delimiters: delims, isaControl: 42, gsControl: 7, now });
  assert.deepEqual(built.kinds, ['999']);
  const segs = readAllSegments(Buffer.from(built.content)).segments;
  assert.deepEqual(line(segs, 'ST'), ['999*0001*005010X231']);
  assert.deepEqual(line(segs, 'AK1'), ['PO*17*005010']);
  assert.deepEqual(line(segs, 'IK3'), ['PO1*3**8']);
  assert.deepEqual(line(segs, 'IK4'), ['2**6*ONE']);
  assert.deepEqual(line(segs, 'IK5'), ['R*5', 'A']);
  assert.deepEqual(line(segs, 'AK9'), ['P*2*2*1']);
  assert.equal(nonconformance(built.content, '999'), null);
  // The same partner's 004010 group: a 997.
  const old = await translateBuffer([isa(509), ...group('PO', 18, '004010', [set850('0001')]), 'IEA*1*000000509'].join('~\n') + '~\n', ctx, { partner: 'demo-retail' });
  const plan4 = planAcks(old.result.interchanges[0], { send997: true, functionalAck: '999', ta1: 'on-request' })!;
  assert.deepEqual(buildAck({ plan: plan4, delimiters: delims, isaControl: 43, gsControl: 8, now }).kinds, ['997']);
});

test('a partner\'s 999 of what we sent is read like its 997: ack.received with the group\'s and each set\'s verdict', async () => {
  const { partnerDirectory } = await import('../../src/domain/partner.ts');
  const retail = { ...ctx.partners.get('demo-retail')!, sends: ['850', '997', '999'] };
  const partners = partnerDirectory(ctx.partners.us, [retail, ...ctx.partners.all().filter((p) => p.id !== 'demo-retail')], ctx.partners);
  const body = ['ST*999*0001*005010X231', 'AK1*IB*41*005010', 'AK2*846*0001', 'IK3*LIN*4**8', 'IK4*3**7*ZZ', 'IK5*R*5', 'AK2*846*0002', 'IK5*A', 'AK9*P*2*2*1', 'SE*10*0001'];
  const text = [isa(510, '00501'), 'GS*FA*RETAILCO*DISTRIBUTOR1*20261120*0930*19*X*005010X231', ...body, 'GE*1*19', 'IEA*1*000000510'].join('~\n') + '~\n';
  const { result, events } = await translateBuffer(text, { ...ctx, partners }, { partner: 'demo-retail' });
  assert.deepEqual(result.interchanges[0].groups[0].sets[0].rejections.filter((r) => r.severity === 'error'), []);
  assert.equal(events.length, 1);
  const d = events[0].data as { functionalId: string; groupControl: string; groupStatus: string; sets: { control: string; status: string; errors?: { segment: string; elementError: string }[] }[] };
  assert.deepEqual([events[0].type, d.functionalId, d.groupControl, d.groupStatus], ['ack.received', 'IB', '41', 'partially-accepted']);
  assert.deepEqual(d.sets.map((s) => [s.control, s.status]), [['0001', 'rejected'], ['0002', 'accepted']]);
  assert.deepEqual(d.sets[0].errors?.map((e) => [e.segment, e.elementError]), [['LIN', '7']]);
  // No acknowledgment of an acknowledgment.
  assert.equal(planAcks(result.interchanges[0], { send997: true, ta1: 'on-request' }), null);
});
