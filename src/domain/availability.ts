import { toUnits } from './quantity.ts';

/**
 * The availability model (design.md section 5), pure: positions per item and location in integer
 * units (1/10,000), movements as deltas, and the rules that turn canonical events into movements.
 * hold and damaged are parts of on hand that cannot be sold; committed is reserved by accepted POs.
 */
export interface Position {
  item: string;
  location: string;
  onHand: number;
  committed: number;
  inTransit: number;
  hold: number;
  damaged: number;
  /** Held by the warehouse itself: its on hand minus its stated available (and what it itemised as hold or damaged). */
  whHeld: number;
  safetyStock: number;
  expectedDate?: string | null;
  /** The as-of time of the last snapshot the position took (dated movements up to it are counted in it). */
  snapshotAsOf?: string | null;
}

export type MovementKind =
  | 'reconciliation'
  | 'adjustment'
  | 'receipt'
  | 'return'
  | 'release'
  | 'scrap'
  | 'damage'
  | 'commit'
  | 'uncommit'
  | 'in-transit'
  | 'ship'
  | 'safety-stock'
  | 'merge';

export interface Movement {
  item: string;
  location: string;
  kind: MovementKind;
  dOnHand: number;
  dCommitted: number;
  dInTransit: number;
  dHold: number;
  dDamaged: number;
  dWhHeld: number;
  dSafety: number;
  reason?: string;
  ref?: string;
  expectedDate?: string;
  /** The order it commits or ships for. */
  orderId?: number;
  /** When it happened, for dated stock movements (adjustments, shipments, receipts): a later snapshot counts it, an earlier one does not. */
  asOf?: string;
  /** With asOf: the on-hand change as dated, when the never-below-zero clamp made dOnHand less. */
  datedOnHand?: number;
}

export const key = (item: string, location: string): string => `${item}\u0000${location}`;

export function emptyPosition(item: string, location: string): Position {
  return { item, location, onHand: 0, committed: 0, inTransit: 0, hold: 0, damaged: 0, whHeld: 0, safetyStock: 0 };
}

/**
 * What can be promised: max(0, onHand - committed - hold - damaged - warehouse-held - safetyStock).
 * Every partner's share of an item and location comes out of this number (src/domain/promise.ts).
 */
export function available(p: Position): number {
  return Math.max(0, p.onHand - p.committed - p.hold - p.damaged - p.whHeld - p.safetyStock);
}

export function movement(item: string, location: string, kind: MovementKind, d: Partial<Omit<Movement, 'item' | 'location' | 'kind'>>): Movement {
  return { item, location, kind, dOnHand: 0, dCommitted: 0, dInTransit: 0, dHold: 0, dDamaged: 0, dWhHeld: 0, dSafety: 0, ...d };
}

export function applyTo(p: Position, m: Movement): void {
  p.onHand += m.dOnHand;
  p.committed += m.dCommitted;
  p.inTransit += m.dInTransit;
  p.hold += m.dHold;
  p.damaged += m.dDamaged;
  p.whHeld += m.dWhHeld;
  p.safetyStock += m.dSafety;
  if (m.expectedDate) p.expectedDate = m.expectedDate;
}

/** Movements summed per (item, location): one position update each. */
export function sumByPosition(list: Movement[]): Movement[] {
  const agg = new Map<string, Movement>();
  for (const m of list) {
    const k = key(m.item, m.location);
    const a = agg.get(k);
    if (!a) agg.set(k, { ...m });
    else {
      a.dOnHand += m.dOnHand;
      a.dCommitted += m.dCommitted;
      a.dInTransit += m.dInTransit;
      a.dHold += m.dHold;
      a.dDamaged += m.dDamaged;
      a.dWhHeld += m.dWhHeld;
      a.dSafety += m.dSafety;
      if (m.expectedDate) a.expectedDate = m.expectedDate;
    }
  }
  return [...agg.values()];
}

export interface SnapshotLine {
  item: string;
  location: string;
  onHand?: number;
  damaged?: number;
  hold?: number;
  /** Held by the warehouse (its on hand minus its stated available); replaced by every snapshot line. */
  whHeld?: number;
}

/**
 * A warehouse's line in base units -> a snapshot line: on hand (or, when only availability is
 * given, that); what the warehouse does not call available beyond what it itemised as hold or
 * damaged is held by it. Negative statements count as zero. `toldNotShipped`: what the warehouse
 * was told to ship (our 940s) and has not shipped, when its available is net of it: those units
 * are on its shelves and committed here already, so they count as available to us once (our
 * commitment takes them), not as held by the warehouse.
 */
export function snapshotLine(item: string, location: string, q: { onHand?: number; available?: number; damaged?: number; hold?: number }, toldNotShipped = 0): SnapshotLine {
  const nn = (v: number | undefined) => (v === undefined ? undefined : Math.max(0, v));
  const available = q.available === undefined ? undefined : Math.max(0, q.available) + Math.max(0, toldNotShipped);
  const onHand = nn(q.onHand) ?? available;
  const damaged = nn(q.damaged);
  const hold = nn(q.hold);
  let whHeld = 0;
  if (q.onHand !== undefined && available !== undefined) whHeld = Math.max(0, onHand! - available - (damaged ?? 0) - (hold ?? 0));
  return { item, location, onHand, damaged, hold, whHeld };
}

export interface Divergence {
  item: string;
  location: string;
  before: number;
  after: number;
  diff: number;
}

/**
 * A snapshot states absolute stock: on hand (or, when only availability is given, that), damaged
 * and hold when present. The difference to what the store held is a reconciliation movement and
 * a divergence line (also when there is no difference, so the report covers the whole snapshot).
 */
export function planSnapshot(lines: SnapshotLine[], current: (item: string, location: string) => Position): { movements: Movement[]; divergences: Divergence[] } {
  const movements: Movement[] = [];
  const divergences: Divergence[] = [];
  // The same item/location twice in one snapshot: the last line wins.
  const last = new Map<string, SnapshotLine>();
  for (const l of lines) last.set(key(l.item, l.location), l);
  for (const l of last.values()) {
    const p = current(l.item, l.location);
    const d = {
      dOnHand: l.onHand === undefined ? 0 : l.onHand - p.onHand,
      dDamaged: l.damaged === undefined ? 0 : l.damaged - p.damaged,
      dHold: l.hold === undefined ? 0 : l.hold - p.hold,
      dWhHeld: (l.whHeld ?? 0) - p.whHeld,
    };
    if (l.onHand !== undefined) divergences.push({ item: l.item, location: l.location, before: p.onHand, after: l.onHand, diff: d.dOnHand });
    if (d.dOnHand || d.dDamaged || d.dHold || d.dWhHeld) movements.push(movement(l.item, l.location, 'reconciliation', { ...d, reason: 'snapshot' }));
  }
  return { movements, divergences };
}

/**
 * Deltas with a reason, against the current position so that no quantity goes below zero (a
 * warehouse that removes more than we hold has told us something the next snapshot settles).
 * Returns go to hold (and on hand) until a disposition releases them (hold back to sellable) or
 * scraps them (out of hold and on hand); damage moves sellable stock to damaged.
 */
export function planAdjustment(p: Position, reason: string, q: { onHand?: number; damaged?: number; hold?: number; quantity?: number }): Movement[] {
  const { item, location } = p;
  const n = q.quantity ?? q.onHand ?? 0;
  const pos = Math.max(0, n);
  switch (reason) {
    case 'return':
      return pos ? [movement(item, location, 'return', { dOnHand: pos, dHold: pos, reason })] : [];
    case 'release': {
      const r = Math.min(pos, p.hold);
      return r ? [movement(item, location, 'release', { dHold: -r, reason })] : [];
    }
    case 'scrap': {
      const r = Math.min(pos, p.hold, p.onHand);
      return r ? [movement(item, location, 'scrap', { dHold: -r, dOnHand: -r, reason })] : [];
    }
    case 'damage': {
      const r = Math.min(pos, Math.max(0, p.onHand - p.damaged));
      return r ? [movement(item, location, 'damage', { dDamaged: r, reason })] : [];
    }
    case 'receipt':
      return pos ? [movement(item, location, 'receipt', { dOnHand: pos, reason })] : [];
    default: {
      const dOnHand = Math.max(-p.onHand, q.onHand ?? 0);
      const dDamaged = Math.max(-p.damaged, q.damaged ?? 0);
      const dHold = Math.max(-p.hold, q.hold ?? 0);
      return dOnHand || dDamaged || dHold ? [movement(item, location, 'adjustment', { dOnHand, dDamaged, dHold, reason })] : [];
    }
  }
}

export type AllocationRule = { rule: 'most-available' } | { rule: 'priority'; locations: string[] } | { rule: 'fixed'; location: string };

/**
 * Where a PO line ships from: `room(location)` is what this partner may have there (its promise
 * plus what is promised to nobody). Most-available takes the largest room (ties by name);
 * priority takes the first listed location that covers the line, else the listed one with the
 * most room; fixed is fixed. null: the item is at no location yet.
 */
export function chooseLocation(rule: AllocationRule, locations: string[], room: (location: string) => number, wanted: number): string | null {
  if (rule.rule === 'fixed') return rule.location;
  const list = rule.rule === 'priority' ? rule.locations : [...locations].sort();
  if (rule.rule === 'priority') for (const loc of list) if (room(loc) >= wanted) return loc;
  let best: string | null = null;
  let most = -1;
  for (const loc of list) {
    const r = room(loc);
    if (r > most) {
      most = r;
      best = loc;
    }
  }
  return best;
}

export function units(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const u = toUnits(text);
  return u === null ? undefined : u;
}
