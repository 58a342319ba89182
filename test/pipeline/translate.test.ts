import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { allRejections, demo, po850, ROOT, translateBuffer } from '../helpers.ts';

/** Partner rules applied while translating (as on a channel, or via `translate --partner`). */
const ctx = demo();
const codes = (r: Awaited<ReturnType<typeof translateBuffer>>) => allRejections(r.result).filter((x) => x.severity === 'error').map((x) => x.code);

test('GS02/GS03 must be the partner\'s and ours', async () => {
  const r = await translateBuffer(po850(4001, 'PO-1').replace('GS*PO*RETAILCO*DISTRIBUTOR1', 'GS*PO*SOMEONE*DISTRIBUTOR1'), ctx, { partner: 'demo-retail' });
  assert.deepEqual(codes(r), ['GW_PARTNER_GS_MISMATCH']);
  assert.equal(r.events.length, 0);
  assert.equal(r.result.interchanges[0].groups[0].accepted, false);
});

test('the same ISA13 twice in one file: the second is a duplicate', async () => {
  const r = await translateBuffer(po850(4002, 'PO-2') + po850(4002, 'PO-2'), ctx, { partner: 'demo-retail' });
  assert.equal(r.events.length, 1);
  assert.equal(r.result.interchanges[1].duplicate, true);
});

test('a set the partner is not configured to send is rejected with AK5 code 1', async () => {
  const text = readFileSync(path.join(ROOT, 'samples/demo-3pl/846-snapshot.x12'), 'latin1').replace('ACME3PL        ', 'RETAILCO       ').replace('GS*IB*ACME3PL', 'GS*IB*RETAILCO');
  const r = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  const rej = allRejections(r.result).find((x) => x.code === 'GW_X12_SET_UNSUPPORTED');
  assert.ok(rej);
  assert.equal(rej.x12?.ak5, '1');
  assert.equal(r.events.length, 0);
});

test('an interchange addressed to someone else is rejected on a channel, flagged in a dry run', async () => {
  const text = po850(4003, 'PO-3', { receiver: 'OTHERCO' });
  const onChannel = await translateBuffer(text, ctx, { partner: 'demo-retail' });
  assert.deepEqual(codes(onChannel), ['GW_PARTNER_RECEIVER_UNKNOWN']);
  assert.equal(onChannel.events.length, 0);
  const dry = await translateBuffer(text, ctx);
  assert.deepEqual(codes(dry), ['GW_PARTNER_RECEIVER_UNKNOWN'], 'a known sender writing to someone else is still an error');
});

test('a 997 from the retailer becomes ack.received with its group and set statuses', async () => {
  const r = await translateBuffer(readFileSync(path.join(ROOT, 'samples/demo-retail/997-ack.x12')), ctx, { partner: 'demo-retail' });
  assert.equal(r.events[0].type, 'ack.received');
  assert.deepEqual(r.events[0].data, { functionalId: 'IB', groupControl: '1', groupStatus: 'accepted', setsIncluded: '1', setsReceived: '1', setsAccepted: '1', sets: [{ setId: '846', control: '0001', status: 'accepted', errors: [] }] });
});

test('an 846 set with more than 10,000 LIN loops is rejected (AK3 code 4) at the loop over the limit', async () => {
  const lines: string[] = [];
  for (let i = 1; i <= 10_001; i++) lines.push(`LIN*${i}*UP*${String(100000000000 + i)}`, `QTY*17*${i}*EA`);
  const body = ['BIA*00*DD*BIG*20261120', ...lines];
  const text = [
    'ISA*00*          *00*          *ZZ*ACME3PL        *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*000004100*0*P*>',
    'GS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*4100*X*004010',
    'ST*846*0001',
    ...body,
    `SE*${body.length + 2}*0001`,
    'GE*1*4100',
    'IEA*1*000004100',
  ].join('~') + '~';
  const r = await translateBuffer(text, ctx, { partner: 'demo-3pl' });
  const rej = allRejections(r.result).find((x) => x.code === 'GW_X12_LOOP_OVER_MAX');
  assert.ok(rej);
  assert.equal(rej.setPosition, 3 + 2 * 10_000);
  assert.equal(rej.x12?.ak3, '4');
  assert.equal(r.events.length, 0);
  // 10,000 is fine.
  const ok = await translateBuffer(text.replace(/LIN\*10001\*UP\*100000010001~QTY\*17\*10001\*EA~/, '').replace(`SE*${body.length + 2}*0001`, `SE*${body.length}*0001`), ctx, { partner: 'demo-3pl' });
  assert.equal(ok.events.length, 1);
  assert.equal((ok.events[0].data as { lines: unknown[] }).lines.length, 10_000);
});

test('a failing sink (our own fault) makes the translation fail, whatever the sets after it', async () => {
  const { translateX12 } = await import('../../src/pipeline/translate-x12.ts');
  let calls = 0;
  const text = po850(4200, 'A') + po850(4201, 'B') + po850(4202, 'C');
  await assert.rejects(
    translateX12([Buffer.from(text)], {
      partners: ctx.partners,
      mappings: ctx.mappings,
      channelPartnerId: 'demo-retail',
      documentId: 'x',
      correlationId: 'x',
      receivedAt: '2026-11-20T10:00:00.000Z',
      sink: {
        events: () => {
          calls++;
          throw new Error('disk full');
        },
        discard: () => undefined,
      },
    }),
    /disk full/,
  );
  assert.equal(calls, 1, 'nothing is written after the first failure');
});
