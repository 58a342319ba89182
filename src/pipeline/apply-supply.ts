import { key, movement, planAdjustment, type Movement } from '../domain/availability.ts';
import { asOfOf } from '../domain/as-of.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import { positions } from '../store/availability-repository.ts';
import { supply } from '../store/supply-repository.ts';
import { baseQty, isProblem, packOf, problem, resolveAll, type ApplyContext, type ApplyMovements, type ApplyResult, type Obj } from './apply-context.ts';
import { fillBackorders } from './apply-orders.ts';

/*
 * Supply: a supplier's ship notices (stock in transit, per shipment), the warehouse's receipts
 * against them (944, or an 846 change report naming the shipment) and customer returns.
 */

/**
 * A supplier's ship notice: stock on its way to us, recorded per shipment so that the warehouse's
 * receipts clear it. A cancelling notice (BSN01 01) takes off what was not received; a replacing
 * one (05) states the shipment anew.
 */
export async function applyNotice(ctx: ApplyContext, e: CanonicalEvent, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const shipmentId = String(data.shipmentId ?? '');
  const purpose = String(data.purpose ?? 'original');
  const known = await supply.find(db, e.partner, shipmentId);
  if (purpose === 'cancellation') {
    if (!known) return void res.rejections.push(problem(e, 'GW_SUPPLY_UNKNOWN', `ship notice ${shipmentId}: a cancellation of a notice we do not have`, shipmentId));
    if (known.cancelled) return;
    const moves: Movement[] = [];
    for (const l of await supply.lines(db, known.id)) {
      const left = l.expected - l.received;
      if (left > 0) moves.push(movement(l.item, known.location, 'in-transit', { dInTransit: -left, reason: 'notice-cancelled', ref: shipmentId }));
    }
    await apply(moves);
    await supply.refresh(db, known.id, ctx.at, true);
    return;
  }
  if (known && purpose !== 'replace') return; // a copy (06/07) of a notice we have
  const location = ((data.to as Obj | undefined)?.location as string | undefined) ?? ctx.partners.get(e.partner)?.defaultLocation ?? null;
  const all: { o: Obj; it: Obj }[] = [];
  for (const o of (data.orders as Obj[] | undefined) ?? []) for (const p of (o.packs as Obj[] | undefined) ?? []) for (const it of (p.items as Obj[] | undefined) ?? []) all.push({ o, it });
  if (all.length && !location) return void res.rejections.push(problem(e, 'GW_LOCATION_MISSING', 'the ship notice names none of our locations as ship-to'));
  const items = await resolveAll(ctx, e, all.map((x) => x.it));
  const expected = new Map<string, { qty: number; po: string | null }>();
  all.forEach(({ o, it }, i) => {
    const item = items[i];
    if (isProblem(item)) return void res.rejections.push(item);
    const q = baseQty(ctx, e, item, it.quantity, it.uom, packOf(it));
    if (q && 'problem' in q) return void res.rejections.push(q.problem);
    if (q && q.base > 0) expected.set(item, { qty: (expected.get(item)?.qty ?? 0) + q.base, po: (o.poNumber as string | undefined) ?? expected.get(item)?.po ?? null });
  });
  const expectedDate = (data.deliveryDate as string | undefined) ?? null;
  const id = known?.id ?? (await supply.create(db, { partnerId: e.partner, shipmentId, location: location ?? '', expectedDate, documentId: ctx.documentId, at: ctx.at }));
  const before = new Map((known ? await supply.lines(db, known.id) : []).map((l) => [l.item, l]));
  const moves: Movement[] = [];
  const lines = [];
  for (const item of new Set([...before.keys(), ...expected.keys()])) {
    const was = before.get(item);
    const now = expected.get(item)?.qty ?? 0;
    const received = was?.received ?? 0;
    const d = Math.max(0, now - received) - Math.max(0, (was?.expected ?? 0) - received);
    if (d) moves.push(movement(item, known?.location ?? location!, 'in-transit', { dInTransit: d, ref: shipmentId, reason: known ? 'notice-replaced' : undefined, ...(expectedDate ? { expectedDate } : {}) }));
    lines.push({ supply_id: id, item, po_number: expected.get(item)?.po ?? was?.po_number ?? null, expected: now, received });
  }
  await supply.putLines(db, lines);
  await supply.refresh(db, id, ctx.at);
  await apply(moves);
  if (!known) res.arrived.push(`asn:${shipmentId}`);
}

/** An 846 change report (BIA01 04) that names a supplier's shipment (REF*SI): a receipt against that notice. */
export function isReceiptReport(e: CanonicalEvent): boolean {
  const d = e.data as Obj;
  return e.type === 'inventory.adjusted' && typeof d.shipmentId === 'string' && d.shipmentId !== '';
}

export function receiptOfReport(e: CanonicalEvent): CanonicalEvent {
  const d = e.data as Obj;
  const lines = ((d.lines as Obj[] | undefined) ?? []).map((l) => {
    const q = (l.quantities as Obj | undefined) ?? {};
    return { ...l, quantity: q.onHand ?? q.available ?? l.quantity };
  });
  return { ...e, type: 'stock.received', data: { ...d, receiptId: d.reportId, lines } };
}

/**
 * A warehouse's stock receipt (944): on hand up where it was received (a customer return goes to
 * hold until a disposition releases or scraps it), and, against the ship notice it names, that much
 * less in transit. A receipt dated before the snapshot the position took is in that snapshot.
 */
export async function applyReceipt(ctx: ApplyContext, e: CanonicalEvent, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const asOf = asOfOf(e);
  const isReturn = !!data.returnAuthorization || data.kind === 'return';
  const shipmentId = typeof data.shipmentId === 'string' && data.shipmentId ? data.shipmentId : null;
  const notice = shipmentId && !isReturn ? await supply.byShipment(db, shipmentId) : undefined;
  const noticeLines = new Map((notice ? await supply.lines(db, notice.id) : []).map((l) => [l.item, l]));
  const raw = (data.lines as Obj[] | undefined) ?? [];
  const items = await resolveAll(ctx, e, raw);
  const defaultLocation = ctx.partners.get(e.partner)?.defaultLocation ?? null;
  const wanted: { item: string; location: string; l: Obj }[] = [];
  raw.forEach((l, i) => {
    const item = items[i];
    const location = (l.location as string | undefined) ?? defaultLocation;
    if (isProblem(item)) res.rejections.push(item);
    else if (!location) res.rejections.push(problem(e, 'GW_LOCATION_MISSING', `${item}: the receipt names no location and ${e.partner} has no default location`));
    else wanted.push({ item, location, l });
  });
  const current = await positions.getMany(db, wanted, { lock: true });
  const moves: Movement[] = [];
  const ref = String(data.receiptId ?? shipmentId ?? '');
  for (const { item, location, l } of wanted) {
    const q = baseQty(ctx, e, item, l.quantity, l.uom, packOf(l));
    if (!q) continue;
    if ('problem' in q) {
      res.rejections.push(q.problem);
      continue;
    }
    const p = current.get(key(item, location))!;
    if (asOf && p.snapshotAsOf && asOf < p.snapshotAsOf) res.rejections.push(problem(e, 'GW_MOVEMENT_IN_SNAPSHOT', `${item} at ${location}: received ${asOf}, counted in the snapshot as of ${p.snapshotAsOf} already; on hand not moved again`, item));
    else {
      for (const m of planAdjustment(p, isReturn ? 'return' : 'receipt', { quantity: q.base })) {
        m.ref = ref;
        if (asOf) m.asOf = asOf;
        p.onHand += m.dOnHand;
        p.hold += m.dHold;
        moves.push(m);
      }
    }
    if (!notice) continue;
    const nl = noticeLines.get(item);
    if (!nl) {
      res.rejections.push(problem(e, 'GW_RECEIPT_NOT_ON_NOTICE', `${item} is not on ship notice ${shipmentId}: received, nothing in transit cleared`, item));
      continue;
    }
    const clear = Math.min(q.base, Math.max(0, nl.expected - nl.received));
    if (clear > 0 && !notice.cancelled) moves.push(movement(item, notice.location, 'in-transit', { dInTransit: -clear, reason: 'received', ref: shipmentId! }));
    nl.received += q.base;
  }
  await apply(moves);
  if (notice) {
    await supply.putLines(db, [...noticeLines.values()]);
    await supply.refresh(db, notice.id, ctx.at);
  }
  if (!isReturn) await fillBackorders(ctx, new Set(wanted.map((w) => w.item)), res);
}
