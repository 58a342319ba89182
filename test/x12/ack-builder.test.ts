import assert from 'node:assert/strict';
import { test } from 'node:test';
import x12 from 'node-x12';
import { buildAck, planAcks } from '../../src/x12/ack-builder.ts';
import { X12Writer } from '../../src/x12/x12-writer.ts';
import { allRejections, demo, po850, translateBuffer } from '../helpers.ts';

const ctx = demo();
const delims = { element: '*', component: '>', segment: '~', repetition: '^', suffix: '\n' };
const now = new Date('2026-11-20T10:00:00Z');

async function ackFor(text: string, partner = 'demo-retail') {
  const { result } = await translateBuffer(text, ctx, { partner });
  const plan = planAcks(result.interchanges[0], { send997: true, ta1: 'on-request' });
  return { plan, result, built: plan ? buildAck({ plan, delimiters: delims, isaControl: 42, gsControl: 7, now }) : null };
}

test('997 for an accepted group: AK1/AK2/AK5/AK9, addressed back to the sender, counts right', async () => {
  const { built } = await ackFor(po850(3001, 'PO-1'));
  const lines = built!.content.trim().split('\n');
  assert.equal(lines[0], 'ISA*00*          *00*          *ZZ*DISTRIBUTOR1   *ZZ*RETAILCO       *261120*1000*U*00401*000000042*0*P*>~');
  assert.deepEqual(lines.slice(1), [
    'GS*FA*DISTRIBUTOR1*RETAILCO*20261120*1000*7*X*004010~',
    'ST*997*0001~',
    'AK1*PO*3001~',
    'AK2*850*0001~',
    'AK5*A~',
    'AK9*A*1*1*1~',
    'SE*6*0001~',
    'GE*1*7~',
    'IEA*1*000000042~',
  ]);
});

test('AK3/AK4 point at the segment position and element in error; node-x12 reads our 997', async () => {
  const bad = po850(3002, 'PO-2', { qty: 'ABC' }).replace('BEG*00*SA*PO-2**20261120', 'BEG*00*SA*PO-2**20261399');
  const { built, result } = await ackFor(bad);
  const codes = allRejections(result).map((r) => r.code);
  assert.ok(codes.includes('GW_X12_ELEMENT_INVALID_DATE') && codes.includes('GW_X12_ELEMENT_INVALID_CHARACTER'), codes.join(' '));
  const c = built!.content;
  assert.match(c, /AK3\*BEG\*2\*\*8~\nAK4\*5\*\*8\*20261399~/);
  assert.match(c, /AK3\*PO1\*4\*\*8~\nAK4\*2\*\*6\*ABC~/);
  assert.match(c, /AK5\*R\*5~/);
  assert.match(c, /AK9\*R\*1\*1\*0~/);
  const parser = new x12.X12Parser(true);
  const ic = parser.parse(c) as InstanceType<typeof x12.X12Interchange>;
  const engine = new x12.X12QueryEngine(parser);
  assert.deepEqual(engine.query(ic, 'AK304').map((r) => r.value), ['8', '8']);
  assert.deepEqual(engine.query(ic, 'AK901').map((r) => r.value), ['R']);
  assert.equal(ic.functionalGroups[0].transactions[0].segments.length, 8); // AK1 through AK9
});

test('TA1 when ISA14=1 (accepted) and when the envelope is broken (rejected, no 997)', async () => {
  const requested = await ackFor(po850(3003, 'PO-3', { ack: '1' }));
  assert.deepEqual(requested.built!.kinds, ['TA1', '997']);
  assert.match(requested.built!.content, /TA1\*000003003\*261120\*0930\*A\*000~/);
  const broken = await ackFor(po850(3004, 'PO-4').replace(/IEA\*[^~]*~\n$/, ''));
  assert.deepEqual(broken.built!.kinds, ['TA1']);
  assert.match(broken.built!.content, /TA1\*000003004\*261120\*0930\*R\*023~\nIEA\*0\*000000042~/);
});

test('no 997 for a 997 (FA group)', async () => {
  const ack = 'ISA*00*          *00*          *ZZ*RETAILCO       *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*000003005*0*P*>~GS*FA*RETAILCO*DISTRIBUTOR1*20261120*0930*3005*X*004010~ST*997*0001~AK1*IB*1~AK9*A*1*1*1~SE*4*0001~GE*1*3005~IEA*1*000003005~';
  const { plan, result } = await ackFor(ack);
  assert.equal(result.interchanges[0].accepted, true);
  assert.equal(plan, null);
});

test('the 997 version follows the inbound GS08 (5010 adds AK103/AK203)', async () => {
  const t = po850(3006, 'PO-6').replace('*X*004010~', '*X*005010~').replace('*U*00401*', '*^*00501*');
  const { built } = await ackFor(t);
  assert.match(built!.content, /GS\*FA\*DISTRIBUTOR1\*RETAILCO\*20261120\*1000\*7\*X\*005010~/);
  assert.match(built!.content, /AK1\*PO\*3006\*005010~/);
  assert.match(built!.content, /\*\^\*00501\*000000042\*/);
});

test('the writer refuses element values containing a delimiter', () => {
  const w = new X12Writer(delims);
  assert.throws(() => w.segment('N1', 'ST', 'ACME*WIDGETS'), /GW_VALUE_HAS_DELIMITER|contains/);
  assert.throws(() => w.segment('N1', 'ST', 'A~B'), /contains/);
  w.segment('N1', 'ST', 'ACME WIDGETS', undefined, '');
  assert.equal(w.toString(), 'N1*ST*ACME WIDGETS~\n');
});
