import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { commitAllowance, isOversell, promiseAfterCommit, publicationRoom, targets, type Party } from '../../src/domain/promise.ts';
import { toUnits } from '../../src/domain/quantity.ts';
import { fromBaseExact, fromBaseFloor, toBase, type ItemMaster, type ItemUnits } from '../../src/domain/units.ts';
import { partnerView, type PublishPolicy } from '../../src/domain/publication.ts';

const u = (s: string) => toUnits(s)!;

test('shares: reservations by rank first, the rest split among partners without one', () => {
  const bigbox: Party = { partner: 'bigbox', rank: 10, share: { percent: 60 } };
  const retail: Party = { partner: 'retail', rank: 1 };
  assert.deepEqual(Object.fromEntries(targets(u('10'), [retail, bigbox])), { bigbox: u('6'), retail: u('4') });
  // Short stock: a fixed reservation of the higher rank is served first.
  const a: Party = { partner: 'a', rank: 5, share: { quantity: u('8') } };
  const b: Party = { partner: 'b', rank: 3, share: { quantity: u('8') } };
  assert.deepEqual(Object.fromEntries(targets(u('10'), [b, a])), { a: u('8'), b: u('2') });
  // Two partners without a share split what is left, the odd unit to the higher rank.
  assert.deepEqual(Object.fromEntries(targets(u('7'), [{ partner: 'x', rank: 1 }, { partner: 'y', rank: 2 }])), { x: u('3'), y: u('4') });
  // Whole units only: fractions stay unpromised.
  assert.deepEqual(Object.fromEntries(targets(u('2.5'), [{ partner: 'x', rank: 1 }])), { x: u('2') });
});

test('a publication gives at most the share, within what the others were promised', () => {
  assert.equal(publicationRoom(u('10'), u('6'), u('0')), u('6'));
  assert.equal(publicationRoom(u('10'), u('6'), u('8')), u('2'), 'another partner still holds 8 from an earlier 846');
  assert.equal(publicationRoom(u('5'), u('6'), u('8')), 0);
});

test('an order takes its own promise, or what nobody was promised, never more than available', () => {
  assert.equal(commitAllowance(u('10'), u('6'), u('2')), u('8'), 'own 6 + 2 unpromised');
  assert.equal(commitAllowance(u('10'), u('6'), u('4')), u('6'));
  assert.equal(commitAllowance(u('4'), u('6'), u('4')), u('4'), 'stock dropped below the promises: what is there');
  assert.equal(promiseAfterCommit(u('6'), u('8')), 0);
  assert.equal(promiseAfterCommit(u('6'), u('2')), u('4'));
  assert.ok(isOversell(u('5'), u('4'), u('6')));
  assert.ok(!isOversell(u('7'), u('6'), u('6')), 'ordered more than promised: a backorder, not an oversell');
});

test('property: publications and orders in any order never promise a unit twice', () => {
  // One item at one location; partners publish and order in random order; stock only drops physically at the end.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 200 }),
      fc.array(fc.record({ partner: fc.constantFrom('a', 'b', 'c'), rank: fc.integer({ min: 0, max: 3 }), share: fc.option(fc.oneof(fc.integer({ min: 1, max: 100 }).map((p) => ({ percent: p })), fc.integer({ min: 0, max: 50 }).map((q) => ({ quantity: q * 10_000 }))), { nil: undefined }) }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.oneof(fc.record({ kind: fc.constant('publish' as const), who: fc.integer({ min: 0, max: 2 }) }), fc.record({ kind: fc.constant('order' as const), who: fc.integer({ min: 0, max: 2 }), qty: fc.integer({ min: 1, max: 80 }) })), { maxLength: 40 }),
      (stock, partiesRaw, steps) => {
        const parties = [...new Map(partiesRaw.map((p) => [p.partner, p])).values()];
        let onHand = stock * 10_000;
        let committed = 0;
        const promised = new Map<string, number>();
        const sumOthers = (p: string) => [...promised].filter(([k]) => k !== p).reduce((n, [, v]) => n + v, 0);
        for (const s of steps) {
          const p = parties[s.who % parties.length].partner;
          const avail = onHand - committed;
          if (s.kind === 'publish') {
            const t = targets(avail, parties).get(p) ?? 0;
            promised.set(p, publicationRoom(avail, t, sumOthers(p)));
          } else {
            const qty = s.qty * 10_000;
            const own = promised.get(p) ?? 0;
            const c = Math.min(qty, commitAllowance(avail, own, sumOthers(p)));
            if (qty <= own) assert.equal(c, qty, 'a PO within its promise is committed in full');
            committed += c;
            promised.set(p, promiseAfterCommit(own, c));
          }
          const total = [...promised.values()].reduce((n, v) => n + v, 0);
          assert.ok(total <= onHand - committed, `promised ${total} > available ${onHand - committed}`);
          assert.ok(committed <= onHand);
        }
        onHand = 0; // a physical drop may break it; nothing else may
      },
    ),
    { numRuns: 500 },
  );
});

const master: ItemMaster = { defaultBaseUnit: 'EA', items: new Map<string, ItemUnits>([['GADGET-1', { baseUnit: 'EA', units: { CA: u('12') } }], ['ROPE', { baseUnit: 'FT', units: { YD: u('3') } }]]), kits: {} };

test('units: exact conversions from the item master or the line pack; what cannot convert is refused', () => {
  assert.deepEqual(toBase(master, 'GADGET-1', u('6.5'), 'CA'), { ok: true, base: u('78'), factor: u('12'), baseUnit: 'EA' });
  assert.deepEqual(toBase(master, 'GADGET-1', u('36.5'), 'CA'), { ok: true, base: u('438'), factor: u('12'), baseUnit: 'EA' });
  assert.equal((toBase(master, 'GADGET-1', u('5'), 'EA') as { base: number }).base, u('5'));
  assert.equal((toBase(master, 'GADGET-1', u('5'), undefined) as { base: number }).base, u('5'), 'no unit: the base unit');
  // PO4: 2 cases of 12 (PO401), or 4 inner packs of 6 each (PO401 x PO402 in the base unit).
  assert.equal((toBase(master, 'WIDGET-S', u('2'), 'CA', { pack: '12' }) as { base: number }).base, u('24'));
  assert.equal((toBase(master, 'WIDGET-S', u('2'), 'CA', { pack: '4', size: '6', sizeUnit: 'EA' }) as { base: number }).base, u('48'));
  assert.equal(toBase(master, 'WIDGET-S', u('2'), 'CA').ok, false, 'no pack, no master entry: refused, never 1:1');
  assert.equal(toBase(master, 'WIDGET-S', u('2'), 'CA', { pack: '4', size: '16', sizeUnit: 'OZ' }).ok, false, 'a size in ounces is no count');
  assert.equal((toBase(master, 'ROPE', u('2.5'), 'YD') as { base: number }).base, u('7.5'));
  assert.equal(toBase(master, 'GADGET-1', u('0.0001'), 'CA').ok, true);
  assert.equal(toBase({ ...master, items: new Map([['X', { baseUnit: 'EA', units: { CA: u('0.3333') } }]]) }, 'X', u('0.0001'), 'CA').ok, false, 'more than 4 decimals is refused');
  assert.equal(fromBaseFloor(u('47'), u('12')), u('3'), '47 EA is 3 whole cases');
  assert.equal(fromBaseExact(u('24'), u('12')), u('2'));
  assert.equal(fromBaseExact(u('6'), u('12')), u('0.5'));
});

test('property: converting to the base unit and back is exact', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 1000 }), (q, f) => {
      const m: ItemMaster = { defaultBaseUnit: 'EA', items: new Map([['I', { baseUnit: 'EA', units: { CA: f * 10_000 } }]]), kits: {} };
      const c = toBase(m, 'I', q, 'CA');
      assert.ok(c.ok);
      assert.equal(c.base, q * f);
      assert.equal(fromBaseExact(c.base, c.factor), q);
    }),
  );
});

test("a partner's view of its room: safety stock, percent, cap, whole cases", () => {
  const policy = { safetyStock: u('2'), percent: 100 } as PublishPolicy;
  assert.equal(partnerView(policy, u('4')), u('2'));
  assert.equal(partnerView(policy, u('1')), 0);
  assert.equal(partnerView({ safetyStock: 0, percent: 50, cap: u('10') } as PublishPolicy, u('30')), u('10'));
  assert.equal(partnerView({ safetyStock: 0, percent: 100 } as PublishPolicy, u('47'), u('12')), u('36'), '3 cases of 12, in base units');
});
