import assert from 'node:assert/strict';
import { test } from 'node:test';
import { available, chooseLocation, emptyPosition, planAdjustment, planSnapshot, snapshotLine, type Position } from '../../src/domain/availability.ts';
import { fromUnits, toUnits } from '../../src/domain/quantity.ts';

const u = (s: string) => toUnits(s)!;
const pos = (over: Partial<Position>): Position => ({ ...emptyPosition('A', 'L1'), ...over });

test('quantities: exact decimal text to integer units and back', () => {
  assert.equal(u('36.5'), 365000);
  assert.equal(fromUnits(u('36.5')), '36.5');
  assert.equal(fromUnits(u('-0.0001')), '-0.0001');
  assert.equal(toUnits('1.23456'), null, 'more than 4 decimals is refused');
  assert.equal(toUnits('abc'), null);
  assert.equal(u('0.1') + u('0.2'), u('0.3'), 'no float rounding');
});

test('available never goes below zero and subtracts committed, hold, damaged, warehouse-held, safety stock', () => {
  assert.equal(available(pos({ onHand: u('10'), committed: u('3'), hold: u('1'), damaged: u('2'), safetyStock: u('1') })), u('3'));
  assert.equal(available(pos({ onHand: u('10'), committed: u('3'), whHeld: u('4') })), u('3'));
  assert.equal(available(pos({ onHand: u('2'), committed: u('5') })), 0);
});

test("a warehouse's own holds: on hand minus its stated available (less what it itemised) is held by it", () => {
  // QTY*17*9 and QTY*33*0: all 9 are the warehouse's; nothing can be promised.
  assert.deepEqual(snapshotLine('A', 'L1', { onHand: u('9'), available: u('0') }), { item: 'A', location: 'L1', onHand: u('9'), damaged: undefined, hold: undefined, whHeld: u('9') });
  // 500 on hand, 460 available, 4 damaged: 36 held by the warehouse (the damaged 4 are not counted twice).
  assert.equal(snapshotLine('A', 'L1', { onHand: u('500'), available: u('460'), damaged: u('4') }).whHeld, u('36'));
  // Only available: that is on hand, nothing held; only on hand: nothing held.
  assert.deepEqual([snapshotLine('A', 'L1', { available: u('7') }).onHand, snapshotLine('A', 'L1', { available: u('7') }).whHeld], [u('7'), 0]);
  assert.equal(snapshotLine('A', 'L1', { onHand: u('7') }).whHeld, 0);
  // Negative statements count as zero.
  assert.equal(snapshotLine('A', 'L1', { onHand: u('-3') }).onHand, 0);
  const p = pos({ onHand: u('9'), committed: u('2') });
  const { movements } = planSnapshot([snapshotLine('A', 'L1', { onHand: u('9'), available: u('0') })], () => p);
  assert.equal(movements[0].dWhHeld, u('9'));
});

test('a snapshot sets absolute on hand and reports the difference', () => {
  const current = pos({ onHand: u('10') });
  const { movements, divergences } = planSnapshot([{ item: 'A', location: 'L1', onHand: u('7') }, { item: 'B', location: 'L1', onHand: u('5') }], (i, l) => (i === 'A' ? current : emptyPosition(i, l)));
  assert.deepEqual(movements.map((m) => [m.item, m.kind, m.dOnHand]), [['A', 'reconciliation', u('-3')], ['B', 'reconciliation', u('5')]]);
  assert.deepEqual(divergences.map((d) => [d.item, d.before, d.after, d.diff]), [['A', u('10'), u('7'), u('-3')], ['B', 0, u('5'), u('5')]]);
});

test('returns go to hold; a disposition releases or scraps them; nothing goes below zero', () => {
  const p = pos({ onHand: u('10'), hold: u('1') });
  const [ret] = planAdjustment(p, 'return', { quantity: u('2') });
  assert.deepEqual([ret.dOnHand, ret.dHold], [u('2'), u('2')]);
  const [rel] = planAdjustment(p, 'release', { quantity: u('1') });
  assert.deepEqual([rel.dOnHand, rel.dHold], [0, u('-1')]);
  const [scr] = planAdjustment(p, 'scrap', { quantity: u('1') });
  assert.deepEqual([scr.dOnHand, scr.dHold], [u('-1'), u('-1')]);
  // A release of more than is held releases what is held; a removal of more than is on hand removes it all.
  assert.equal(planAdjustment(p, 'release', { quantity: u('5') })[0].dHold, u('-1'));
  assert.equal(planAdjustment(p, 'adjustment', { onHand: u('-25') })[0].dOnHand, u('-10'));
  assert.deepEqual(planAdjustment(pos({}), 'scrap', { quantity: u('3') }), []);
});

test('allocation rules pick by the room the partner has at each location', () => {
  const room: Record<string, number> = { EAST: u('5'), WEST: u('8') };
  const r = (l: string) => room[l] ?? 0;
  assert.equal(chooseLocation({ rule: 'most-available' }, ['EAST', 'WEST'], r, u('1')), 'WEST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ['EAST', 'WEST'], r, u('4')), 'EAST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ['EAST', 'WEST'], r, u('6')), 'WEST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ['EAST', 'WEST'], r, u('20')), 'WEST', 'nowhere covers it: the listed location with the most room');
  assert.equal(chooseLocation({ rule: 'fixed', location: 'NORTH' }, ['EAST'], r, u('1')), 'NORTH');
  assert.equal(chooseLocation({ rule: 'most-available' }, [], r, u('1')), null, 'an item at no location: no location');
});
