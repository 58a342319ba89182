import { QTY_SCALE, wholeUnits } from './quantity.ts';

/**
 * The promise engine (design.md section 5): one rule set for available-to-promise, per item and
 * location, by channel and customer priority. Pure: the store keeps the promises, this decides.
 *
 * - `available` is what can be promised: on hand - committed - hold - damaged - warehouse-held -
 *   safety stock.
 * - Each partner that is published to has a share: an exclusive reservation (a fixed quantity or
 *   a percentage of `available`), or, without one, an equal part of what the reservations leave.
 *   Reservations are served by rank (higher first): when stock is short the higher rank gets its
 *   share and the lower ranks what is left.
 * - A partner's promise is what its last 846 showed (in base units, before rounding it up to a
 *   whole case is impossible: rounding is always down), less what it has ordered since.
 * - Invariant: the promises of all partners together never exceed `available`. A publication
 *   gives a partner at most its share and at most what the others' promises leave; an order takes
 *   its partner's own promise first, then only what is promised to nobody.
 * - So a PO for no more than its partner's promise is committed in full, whatever others order.
 *   Only a physical drop (a snapshot, damage) can make the promises exceed `available`; an order
 *   that then cannot be committed in full although it was promised is an oversell, recorded.
 */
export type Share = { quantity: number } | { percent: number };

export interface Party {
  partner: string;
  /** Higher is served first when stock is short. */
  rank: number;
  share?: Share;
}

const whole = wholeUnits;

export function byRank(a: Party, b: Party): number {
  return b.rank - a.rank || (a.partner < b.partner ? -1 : a.partner > b.partner ? 1 : 0);
}

/** Each party's share of `available` (whole units; what no share takes stays unpromised). */
export function targets(available: number, parties: Party[]): Map<string, number> {
  const out = new Map<string, number>();
  const sorted = [...parties].sort(byRank);
  let remaining = Math.max(0, available);
  for (const p of sorted) {
    if (!p.share) continue;
    const want = 'quantity' in p.share ? p.share.quantity : whole((Math.max(0, available) * p.share.percent) / 100);
    const give = Math.min(whole(want), whole(remaining));
    out.set(p.partner, give);
    remaining -= give;
  }
  const rest = sorted.filter((p) => !p.share);
  if (rest.length) {
    const each = whole(remaining / rest.length);
    let extra = Math.floor((remaining - each * rest.length) / QTY_SCALE);
    for (const p of rest) {
      out.set(p.partner, each + (extra > 0 ? QTY_SCALE : 0));
      extra--;
    }
  }
  return out;
}

/** The room a publication may give a partner: its share, within what the others' promises leave. */
export function publicationRoom(available: number, target: number, othersPromised: number): number {
  return Math.max(0, Math.min(target, available - othersPromised));
}

/**
 * What an order from a partner may commit at one location: its own promise, or everything the
 * others' promises leave if that is more; never more than is available.
 */
export function commitAllowance(available: number, ownPromise: number, othersPromised: number): number {
  return Math.max(0, Math.min(available, Math.max(ownPromise, available - othersPromised)));
}

/** A partner's promise after it committed `committed`: its promise is used first. */
export function promiseAfterCommit(ownPromise: number, committed: number): number {
  return ownPromise - Math.min(ownPromise, Math.max(0, committed));
}

/** A commitment short of a line that was within its partner's promise is an oversell. */
export function isOversell(ordered: number, committed: number, ownPromise: number): boolean {
  return committed < ordered && ordered <= ownPromise;
}
