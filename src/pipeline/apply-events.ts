import { key, planAdjustment, movement, snapshotLine, type Movement, type SnapshotLine } from '../domain/availability.ts';
import { asOfOf } from '../domain/as-of.ts';
import { businessKey, contentHash } from '../domain/business-key.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import { lockStock, positions } from '../store/availability-repository.ts';
import { warehouseOrders } from '../store/warehouse-order-repository.ts';
import { businessKeys, heldEvents, type HeldRow } from '../store/sequencing-repository.ts';
import { baseQtys, emptyApplyResult, isProblem, problem, resolveAll, type ApplyContext, type ApplyResult, type Obj } from './apply-context.ts';
import { applyChange, applyOrder, applyShipped, fillBackorders } from './apply-orders.ts';
import { applyNotice, applyReceipt, isReceiptReport, receiptOfReport } from './apply-supply.ts';
import { checkKey, heldEvent, park, settleHeldDocument, waitsFor } from './sequencing.ts';

export { emptyApplyResult, type ApplyContext, type ApplyResult } from './apply-context.ts';

/**
 * Canonical events -> movements on the availability store, in the transaction of the document
 * that carried them (so a document is applied wholly or not at all, and exactly once: only the
 * events this document appended are applied), after the sequencing gate (src/pipeline/sequencing.ts).
 * Stock reports here; orders in apply-orders.ts, supply in apply-supply.ts.
 */
/**
 * Apply events (just appended to the log, with their sequence numbers) in order: each through the
 * business key gate and the check of what it refers to; what waited for something that one brought
 * (a PO) is applied right after it.
 */
export async function applyEvents(ctx: ApplyContext, list: { event: CanonicalEvent; seq: number }[], res: ApplyResult): Promise<void> {
  for (const { event, seq } of list) {
    const gate = await checkKey(ctx, event, seq, res.rejections);
    if (gate === 'duplicate') res.duplicates++;
    if (gate === 'conflict') res.conflicts++;
    if (gate !== 'apply') continue;
    const wait = await waitsFor(ctx, event);
    if (wait) {
      await park(ctx, event, seq, wait, res.rejections);
      res.waiting++;
      continue;
    }
    await applyEvent(ctx, event, seq, res);
    await releaseArrived(ctx, res);
  }
}

/** Apply what waited for the keys that arrived (oldest first), each in the name of its own document. */
async function releaseArrived(ctx: ApplyContext, res: ApplyResult): Promise<void> {
  while (res.arrived.length) {
    const keys = res.arrived.splice(0);
    for (const h of await heldEvents.waitingFor(ctx.db, keys)) await applyHeld(ctx, h, res, 'released');
  }
}

/**
 * An admin's word on a held event: 'release' applies it now (a conflict's content replaces what
 * its key had; a waiting one is applied as things are), 'discard' drops it. Returns what it did.
 */
export async function settleHeld(ctx: ApplyContext, id: number, action: 'release' | 'discard', by: string): Promise<{ held: HeldRow; result: ApplyResult } | { error: string; held?: HeldRow }> {
  const h = await heldEvents.get(ctx.db, id);
  if (!h) return { error: `no held event ${id}` };
  if (h.status !== 'WAITING' && h.status !== 'CONFLICT') return { error: `held event ${id} is ${h.status} already`, held: h };
  const res = emptyApplyResult();
  if (action === 'discard') {
    await heldEvents.settle(ctx.db, h.id, 'DISCARDED', ctx.at, by);
    await settleHeldDocument(ctx.db, h.document_id, []);
  } else {
    if (h.status === 'CONFLICT') {
      const e = await heldEvent(ctx.db, h);
      const bkey = businessKey(e);
      if (bkey) await businessKeys.put(ctx.db, { partnerId: e.partner, bkey, contentHash: contentHash(e), documentId: h.document_id, eventSeq: h.event_seq, at: ctx.at });
    }
    await applyHeld(ctx, h, res, 'forced', by);
    await releaseArrived(ctx, res);
  }
  return { held: (await heldEvents.get(ctx.db, id))!, result: res };
}

/** Waiting events whose window ended: dead-lettered with their reason (GW_WAIT_EXPIRED), never applied. */
export async function expireWaiting(ctx: ApplyContext): Promise<HeldRow[]> {
  const due = await heldEvents.due(ctx.db, ctx.at);
  for (const h of due) {
    await heldEvents.settle(ctx.db, h.id, 'EXPIRED', ctx.at, 'expiry');
    const e = await heldEvent(ctx.db, h);
    await settleHeldDocument(ctx.db, h.document_id, [problem(e, 'GW_WAIT_EXPIRED', `${h.reason}; it waited from ${h.created_at} until ${h.due_at}: not applied`, h.waits_for ?? undefined)]);
  }
  return due;
}

/**
 * Apply one held event now, in the name of its document (movements, rejections and ASNs are its).
 * 'released': what it waited for arrived (it may wait again for something else); 'forced': an
 * admin said so (applied as things are).
 */
export async function applyHeld(ctx: ApplyContext, h: HeldRow, res: ApplyResult, how: 'released' | 'forced', by = 'arrival'): Promise<void> {
  const e = await heldEvent(ctx.db, h);
  const own: ApplyContext = { ...ctx, documentId: h.document_id };
  if (how === 'released') {
    const again = await waitsFor(own, e);
    if (again) return void (await heldEvents.wait(ctx.db, h.id, again.key, again.reason));
  }
  const sub = emptyApplyResult();
  await applyEvent(own, e, h.event_seq, sub);
  await heldEvents.settle(ctx.db, h.id, 'APPLIED', ctx.at, by);
  await settleHeldDocument(ctx.db, h.document_id, sub.rejections);
  res.released++;
  res.releasedMovements += sub.movements + sub.releasedMovements;
  res.asns.push(...sub.asns);
  res.backordered += sub.backordered;
  res.oversells += sub.oversells;
  res.filled += sub.filled;
  res.arrived.push(...sub.arrived);
}

async function applyEvent(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const meta = { eventSeq, documentId: ctx.documentId, partnerId: e.partner, at: ctx.at };
  const apply = async (list: Movement[]) => {
    await positions.apply(db, list, meta);
    res.movements += list.length;
  };
  const data = e.data as Obj;
  const partner = ctx.partners.get(e.partner);
  const defaultLocation = partner?.defaultLocation ?? null;
  switch (e.type) {
    case 'inventory.snapshot': {
      const raw = (data.lines as Obj[] | undefined) ?? [];
      const items = await resolveAll(ctx, e, raw);
      const lines: SnapshotLine[] = [];
      // A warehouse we send 940s states its available net of what it was told to ship and has not
      // shipped: still on its shelves and still committed here, so it is added back (counted once).
      const found = items.filter((x): x is string => !isProblem(x));
      let told = new Map<string, number>();
      if (partner?.orders940 && partner.orders940.send !== 'never' && partner.orders940.availableNetOfReleased) {
        await lockStock(db, found);
        told = await warehouseOrders.outstanding(db, e.partner, [...new Set(found)]);
      }
      for (let i = 0; i < raw.length; i++) {
        const l = raw[i];
        const item = items[i];
        if (isProblem(item)) {
          res.rejections.push(item);
          continue;
        }
        const location = (l.location as string | undefined) ?? defaultLocation;
        if (!location) {
          res.rejections.push(problem(e, 'GW_LOCATION_MISSING', `${item}: the line names no location and ${e.partner} has no default location`));
          continue;
        }
        const q = (l.quantities as Obj | undefined) ?? {};
        const conv = baseQtys(ctx, e, item, l, ['onHand', 'available', 'damaged', 'hold'].map((n) => [n, q[n]]));
        if (isProblem(conv)) res.rejections.push(conv);
        else lines.push(snapshotLine(item, location, conv, told.get(key(item, location))));
      }
      const asOf = asOfOf(e);
      const r = await positions.applySnapshot(db, lines, { ...meta, asOf });
      res.movements += r.movements;
      res.divergences += r.divergences;
      for (const x of r.stale) res.rejections.push(problem(e, 'GW_SNAPSHOT_STALE', `${x.item} at ${x.location}: this report is as of ${asOf}, the position took a snapshot as of ${x.snapshotAsOf}; not applied`, x.item));
      if (r.staleCount > r.stale.length) res.rejections.push(problem(e, 'GW_SNAPSHOT_STALE', `and ${r.staleCount - r.stale.length} more lines older than their position's snapshot; not applied`));
      await fillBackorders(ctx, new Set(lines.map((l) => l.item)), res);
      return;
    }
    case 'inventory.adjusted': {
      // A change report that names a supplier's shipment is the receipt of it.
      if (isReceiptReport(e)) return applyReceipt(ctx, receiptOfReport(e), apply, res);
      const asOf = asOfOf(e);
      const raw = (data.lines as Obj[] | undefined) ?? [];
      const items = await resolveAll(ctx, e, raw);
      const wanted: { item: string; location: string; l: Obj }[] = [];
      for (let i = 0; i < raw.length; i++) {
        const item = items[i];
        const location = (raw[i].location as string | undefined) ?? defaultLocation;
        if (isProblem(item)) res.rejections.push(item);
        else if (!location) res.rejections.push(problem(e, 'GW_LOCATION_MISSING', `${item}: the line names no location and ${e.partner} has no default location`));
        else wanted.push({ item, location, l: raw[i] });
      }
      const current = await positions.getMany(db, wanted, { lock: true });
      const list: Movement[] = [];
      for (const { item, location, l } of wanted) {
        const q = (l.quantities as Obj | undefined) ?? {};
        const conv = baseQtys(ctx, e, item, l, [['onHand', q.onHand ?? q.available], ['damaged', q.damaged], ['hold', q.hold], ['quantity', l.quantity]]);
        if (isProblem(conv)) {
          res.rejections.push(conv);
          continue;
        }
        const p = current.get(key(item, location))!;
        if (asOf && p.snapshotAsOf && asOf < p.snapshotAsOf) {
          res.rejections.push(problem(e, 'GW_MOVEMENT_IN_SNAPSHOT', `${item} at ${location}: dated ${asOf}, counted in the snapshot as of ${p.snapshotAsOf} already; not applied again`, item));
          continue;
        }
        const reason = String(l.reason ?? data.reason ?? 'adjustment');
        const ms = planAdjustment(p, reason, conv);
        // A dated change of on hand keeps its stated delta, also where zero clamped it (even to nothing).
        if (asOf && !ADJUSTMENT_KINDS.has(reason) && conv.onHand) {
          if (!ms.length) ms.push(movement(item, location, 'adjustment', { reason, dOnHand: 0 }));
          if (ms[0].dOnHand !== conv.onHand) ms[0].datedOnHand = conv.onHand;
        }
        for (const m of ms) {
          if (asOf) m.asOf = asOf;
          p.onHand += m.dOnHand;
          p.hold += m.dHold;
          p.damaged += m.dDamaged;
        }
        list.push(...ms);
      }
      await apply(list);
      await fillBackorders(ctx, new Set(wanted.map((w) => w.item)), res);
      return;
    }
    case 'order.received':
      return applyOrder(ctx, e, eventSeq, apply, res);
    case 'order.changed':
      return applyChange(ctx, e, apply, res);
    case 'shipment.noticed':
      return applyNotice(ctx, e, apply, res);
    case 'stock.received':
      return applyReceipt(ctx, e, apply, res);
    case 'ack.received':
      return applyAck(ctx, e);
    case 'shipment.confirmed':
      return applyShipped(ctx, e, eventSeq, apply, res);
    default:
      return;
  }
}

/** Adjustment reasons with rules of their own (planAdjustment); any other reason is a plain on-hand change. */
const ADJUSTMENT_KINDS = new Set(['return', 'release', 'scrap', 'damage', 'receipt']);

/** What a partner's 997 group (GS01) acknowledges of ours. */
const KIND_BY_FUNCTIONAL_ID: Record<string, string[]> = { IB: ['846'], SH: ['856'], PR: ['855'], OW: ['940'] };

/** A partner's 997 (or TA1) marks what we sent to it: accepted, accepted with errors, rejected. */
async function applyAck(ctx: ApplyContext, e: CanonicalEvent): Promise<void> {
  const data = e.data as Obj;
  let q = ctx.db('outbox').where({ partner_id: e.partner, status: 'SENT' });
  if (data.kind === 'TA1') {
    q = q.where({ isa13: String(data.interchangeControl) });
  } else {
    const kinds = KIND_BY_FUNCTIONAL_ID[String(data.functionalId)];
    if (!kinds) return;
    q = q.whereIn('kind', kinds).andWhere({ gs06: String(data.groupControl) });
  }
  await q.update({ ack_status: String(data.kind === 'TA1' ? data.status : data.groupStatus), ack_at: ctx.at, ack_document_id: ctx.documentId });
}
