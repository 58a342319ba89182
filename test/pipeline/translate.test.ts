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
