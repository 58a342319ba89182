import { available, type Position } from '../domain/availability.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import { fromUnits } from '../domain/quantity.ts';
import { positions } from '../store/availability-repository.ts';
import { promises } from '../store/promise-repository.ts';
import type { Db } from '../store/db.ts';
import { heldEvents, type HeldRow } from '../store/sequencing-repository.ts';
import { supply, type SupplyLine, type SupplyRow } from '../store/supply-repository.ts';

/** An item's positions (decimal text), and what a partner is shown of it: the CLI and the API. */
export function showPosition(p: Position) {
  return {
    item: p.item,
    location: p.location,
    onHand: fromUnits(p.onHand),
    committed: fromUnits(p.committed),
    inTransit: fromUnits(p.inTransit),
    hold: fromUnits(p.hold),
    damaged: fromUnits(p.damaged),
    warehouseHeld: fromUnits(p.whHeld),
    safetyStock: fromUnits(p.safetyStock),
    available: fromUnits(available(p)),
    ...(p.expectedDate ? { expectedDate: p.expectedDate } : {}),
  };
}

/**
 * An item's positions and, per partner, what it was last shown and may still order (its promise)
 * with its share and rank: the promise engine's state, as the CLI and the API show it.
 */
export async function availabilityView(db: Db, partners: PartnerDirectory, q: { item: string; location?: string; partner?: string }): Promise<Record<string, unknown>> {
  const kit = partners.items.kits[q.item];
  let ps = await positions.forItem(db, q.item);
  if (q.location) ps = ps.filter((p) => p.location === q.location);
  const result: Record<string, unknown> = { item: q.item, positions: ps.map(showPosition) };
  const rows = (await promises.list(db, { item: q.item })).filter((r) => (!q.location || r.location === q.location) && (!q.partner || r.partnerId === q.partner));
  const promised: Record<string, unknown>[] = [];
  for (const r of rows) {
    const pol = partners.get(r.partnerId)?.publish846;
    promised.push({ partner: r.partnerId, location: r.location, shown: fromUnits(r.shown), promised: fromUnits(r.promised), rank: pol?.rank ?? 0, ...(pol?.share ? { share: 'percent' in pol.share ? `${pol.share.percent}%` : fromUnits(pol.share.quantity) } : {}) });
  }
  result.promises = promised;
  if (kit) result.kit = Object.fromEntries(Object.entries(kit).map(([k, v]) => [k, fromUnits(v)]));
  const unpromised: Record<string, string> = {};
  for (const p of ps) unpromised[p.location] = fromUnits(Math.max(0, available(p) - rows.filter((r) => r.location === p.location && !q.partner).reduce((n, r) => n + r.promised, 0)));
  if (!q.partner) result.unpromised = unpromised;
  if (q.partner) {
    const partner = partners.get(q.partner);
    if (!partner?.publish846) result.partnerView = { partner: q.partner, published: false, reason: 'no publish846 policy' };
    else result.partnerView = { partner: q.partner, shown: Object.fromEntries(rows.map((r) => [r.location, fromUnits(r.shown)])), promised: Object.fromEntries(rows.map((r) => [r.location, fromUnits(r.promised)])), rank: partner.publish846.rank, safetyStock: fromUnits(partner.publish846.safetyStock), percent: partner.publish846.percent };
  }
  return result;
}

/** Divergence lines with decimal text. */
export function showDivergence(r: Record<string, unknown>) {
  return {
    partner: r.partner_id,
    documentId: Number(r.document_id),
    item: r.item,
    location: r.location,
    before: fromUnits(Number(r.before)),
    snapshot: fromUnits(Number(r.after)),
    difference: fromUnits(Number(r.diff)),
    at: r.created_at,
  };
}

/** An oversell record with decimal text: a PO line short although its partner was promised it. */
export function showOversell(r: Record<string, unknown>) {
  return {
    id: Number(r.id),
    partner: r.partner_id,
    poNumber: r.po_number,
    lineNumber: r.line_number,
    item: r.item,
    location: r.location ?? null,
    ordered: fromUnits(Number(r.ordered)),
    committed: fromUnits(Number(r.committed)),
    promised: fromUnits(Number(r.promised)),
    shown: fromUnits(Number(r.shown)),
    documentId: r.document_id == null ? null : Number(r.document_id),
    at: r.created_at,
  };
}

/** A held event (WAITING, CONFLICT and what became of them): the CLI and the API. */
export function showHeld(h: HeldRow) {
  return { id: h.id, documentId: h.document_id, eventSeq: h.event_seq, partner: h.partner_id, status: h.status, waitsFor: h.waits_for, code: h.reason_code, reason: h.reason, dueAt: h.due_at, createdAt: h.created_at, settledAt: h.settled_at, settledBy: h.settled_by };
}

/** A supplier's ship notice with what was received of it; overdue when its expected date passed with stock still to come. */
export function showSupply(s: SupplyRow & { lines: SupplyLine[] }, today: string) {
  const open = s.status === 'OPEN' || s.status === 'PARTIAL';
  return {
    shipmentId: s.shipment_id,
    partner: s.partner_id,
    location: s.location,
    status: s.status,
    expectedDate: s.expected_date,
    overdue: open && !!s.expected_date && s.expected_date < today,
    documentId: s.document_id,
    lines: s.lines.map((l) => ({ item: l.item, poNumber: l.po_number, expected: fromUnits(l.expected), received: fromUnits(l.received) })),
  };
}

/** Held events and open or overdue ship notices, for `GET /held`, `GET /supply` and the CLI. */
export async function heldView(db: Db, q: { status?: string; partnerId?: string; documentId?: number; before?: number; limit: number }) {
  return (await heldEvents.list(db, q)).map(showHeld);
}

export async function supplyView(db: Db, q: { overdue?: boolean; partnerId?: string; limit: number }, now: Date) {
  const today = now.toISOString().slice(0, 10);
  return (await supply.open(db, { overdueBefore: q.overdue ? today : undefined, partnerId: q.partnerId, limit: q.limit })).map((s) => showSupply(s, today));
}
