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
  safetyStock: number;
  expectedDate?: string | null;
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
  | 'safety-stock';

export interface Movement {
  item: string;
  location: string;
  kind: MovementKind;
  dOnHand: number;
  dCommitted: number;
  dInTransit: number;
  dHold: number;
  dDamaged: number;
  dSafety: number;
  reason?: string;
  ref?: string;
  expectedDate?: string;
}

export const key = (item: string, location: string): string => `${item}\u0000${location}`;

export function emptyPosition(item: string, location: string): Position {
  return { item, location, onHand: 0, committed: 0, inTransit: 0, hold: 0, damaged: 0, safetyStock: 0 };
}

/** available = max(0, onHand - committed - hold - damaged - safetyStock) */
export function available(p: Position): number {
  return Math.max(0, p.onHand - p.committed - p.hold - p.damaged - p.safetyStock);
}

export function movement(item: string, location: string, kind: MovementKind, d: Partial<Omit<Movement, 'item' | 'location' | 'kind'>>): Movement {
  return { item, location, kind, dOnHand: 0, dCommitted: 0, dInTransit: 0, dHold: 0, dDamaged: 0, dSafety: 0, ...d };
}

export function applyTo(p: Position, m: Movement): void {
  p.onHand += m.dOnHand;
  p.committed += m.dCommitted;
  p.inTransit += m.dInTransit;
  p.hold += m.dHold;
  p.damaged += m.dDamaged;
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
      a.dSafety += m.dSafety;
      if (m.expectedDate) a.expectedDate = m.expectedDate;
    }
  }
  return [...agg.values()];
}

/** The item key of a canonical item: our SKU, or (unknown to the crosswalk) its first partner id. */
export function itemKey(item: { sku?: string; ids?: Record<string, string> } | undefined): string | null {
  if (!item) return null;
  if (item.sku) return item.sku;
  const first = Object.entries(item.ids ?? {})[0];
  return first ? `${first[0]}:${first[1]}` : null;
}

export interface SnapshotLine {
  item: string;
  location: string;
  onHand?: number;
  damaged?: number;
  hold?: number;
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
    };
    if (l.onHand !== undefined) divergences.push({ item: l.item, location: l.location, before: p.onHand, after: l.onHand, diff: d.dOnHand });
    if (d.dOnHand || d.dDamaged || d.dHold) movements.push(movement(l.item, l.location, 'reconciliation', { ...d, reason: 'snapshot' }));
  }
  return { movements, divergences };
}

/**
 * Deltas with a reason. Returns go to hold (and on hand) until a disposition releases them (hold
 * back to sellable) or scraps them (out of hold and on hand); damage moves sellable to damaged.
 */
export function planAdjustment(item: string, location: string, reason: string, q: { onHand?: number; damaged?: number; hold?: number; quantity?: number }): Movement[] {
  const n = q.quantity ?? q.onHand ?? 0;
  switch (reason) {
    case 'return':
      return [movement(item, location, 'return', { dOnHand: n, dHold: n, reason })];
    case 'release':
      return [movement(item, location, 'release', { dHold: -n, reason })];
    case 'scrap':
      return [movement(item, location, 'scrap', { dHold: -n, dOnHand: -n, reason })];
    case 'damage':
      return [movement(item, location, 'damage', { dDamaged: n, reason })];
    case 'receipt':
      return [movement(item, location, 'receipt', { dOnHand: n, reason })];
    default:
      return [movement(item, location, 'adjustment', { dOnHand: q.onHand ?? 0, dDamaged: q.damaged ?? 0, dHold: q.hold ?? 0, reason })];
  }
}

export type AllocationRule = { rule: 'most-available' } | { rule: 'priority'; locations: string[] } | { rule: 'fixed'; location: string };

/** Where a PO line ships from, given the positions of the item at every known location. */
export function chooseLocation(rule: AllocationRule, positions: Position[], wanted: number): string | null {
  if (rule.rule === 'fixed') return rule.location;
  if (rule.rule === 'priority') {
    const byLoc = new Map(positions.map((p) => [p.location, p]));
    for (const loc of rule.locations) {
      const p = byLoc.get(loc);
      if (p && available(p) >= wanted) return loc;
    }
    // Nowhere covers it all: the listed location with the most available.
    let best: string | null = rule.locations[0] ?? null;
    let most = -1;
    for (const loc of rule.locations) {
      const a = byLoc.has(loc) ? available(byLoc.get(loc)!) : 0;
      if (a > most) {
        most = a;
        best = loc;
      }
    }
    return best;
  }
  let best: Position | null = null;
  for (const p of positions) if (!best || available(p) > available(best) || (available(p) === available(best) && p.location < best.location)) best = p;
  return best?.location ?? null;
}

/** Commit as much of a PO line as the location can cover; the rest is a backorder. */
export function planCommit(p: Position, qty: number): { commit: number; backorder: number } {
  const commit = Math.min(qty, available(p));
  return { commit, backorder: qty - commit };
}

export function units(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const u = toUnits(text);
  return u === null ? undefined : u;
}
