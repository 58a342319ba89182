import assert from 'node:assert/strict';
import { test } from 'node:test';
import { available, chooseLocation, emptyPosition, planAdjustment, planCommit, planSnapshot, type Position } from '../../src/domain/availability.ts';
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

test('available never goes below zero and subtracts committed, hold, damaged, safety stock', () => {
  assert.equal(available(pos({ onHand: u('10'), committed: u('3'), hold: u('1'), damaged: u('2'), safetyStock: u('1') })), u('3'));
  assert.equal(available(pos({ onHand: u('2'), committed: u('5') })), 0);
});

test('a snapshot sets absolute on hand and reports the difference', () => {
  const current = pos({ onHand: u('10') });
  const { movements, divergences } = planSnapshot([{ item: 'A', location: 'L1', onHand: u('7') }, { item: 'B', location: 'L1', onHand: u('5') }], (i, l) => (i === 'A' ? current : emptyPosition(i, l)));
  assert.deepEqual(movements.map((m) => [m.item, m.kind, m.dOnHand]), [['A', 'reconciliation', u('-3')], ['B', 'reconciliation', u('5')]]);
  assert.deepEqual(divergences.map((d) => [d.item, d.before, d.after, d.diff]), [['A', u('10'), u('7'), u('-3')], ['B', 0, u('5'), u('5')]]);
});

test('returns go to hold; a disposition releases or scraps them', () => {
  const p = pos({ onHand: u('10') });
  const [ret] = planAdjustment('A', 'L1', 'return', { quantity: u('2') });
  assert.deepEqual([ret.dOnHand, ret.dHold], [u('2'), u('2')]);
  const [rel] = planAdjustment('A', 'L1', 'release', { quantity: u('1') });
  assert.deepEqual([rel.dOnHand, rel.dHold], [0, u('-1')]);
  const [scr] = planAdjustment('A', 'L1', 'scrap', { quantity: u('1') });
  assert.deepEqual([scr.dOnHand, scr.dHold], [u('-1'), u('-1')]);
  assert.ok(p);
});

test('allocation rules and partial commitments', () => {
  const ps = [pos({ location: 'EAST', onHand: u('5') }), pos({ location: 'WEST', onHand: u('8') })];
  assert.equal(chooseLocation({ rule: 'most-available' }, ps, u('1')), 'WEST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ps, u('4')), 'EAST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ps, u('6')), 'WEST');
  assert.equal(chooseLocation({ rule: 'priority', locations: ['EAST', 'WEST'] }, ps, u('20')), 'WEST', 'nowhere covers it: the most available listed location');
  assert.equal(chooseLocation({ rule: 'fixed', location: 'NORTH' }, ps, u('1')), 'NORTH');
  assert.deepEqual(planCommit(ps[0], u('7')), { commit: u('5'), backorder: u('2') });
});
