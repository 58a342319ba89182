import {
  applyTo,
  chooseLocation,
  itemKey,
  movement,
  planAdjustment,
  planCommit,
  units,
  type AllocationRule,
  type Movement,
  type Position,
  type SnapshotLine,
} from '../domain/availability.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { queueAsns, type AsnOutcome } from './asn.ts';
import type { Db } from '../store/db.ts';
import { orders, positions, type OrderLineRow } from '../store/availability-repository.ts';

/**
 * Canonical events -> movements on the availability store, in the transaction of the document
 * that carried them (so a document is applied wholly or not at all, and exactly once: only the
 * events this document appended are applied).
 */
export interface ApplyContext {
  db: Db;
  documentId: number;
  at: string;
  partner: (id: string) => Partner | undefined;
  allocation: (partnerId: string) => AllocationRule;
  /** For outbound ASNs when a retailer's PO ships (absent: no ASNs, e.g. dry runs). */
  asn?: { partners: PartnerDirectory; now: Date };
}

export interface ApplyResult {
  movements: number;
  divergences: number;
  backordered: number;
  asns: AsnOutcome[];
}

type Obj = Record<string, unknown>;

/** Apply events (just appended to the log, with their sequence numbers) in order. */
export async function applyEvents(ctx: ApplyContext, list: { event: CanonicalEvent; seq: number }[], res: ApplyResult): Promise<void> {
  for (const { event, seq } of list) await applyEvent(ctx, event, seq, res);
}

async function applyEvent(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const meta = { eventSeq, documentId: ctx.documentId, partnerId: e.partner, at: ctx.at };
  const apply = async (list: Movement[]) => {
    await positions.apply(db, list, meta);
    res.movements += list.length;
  };
  const data = e.data as Obj;
  const defaultLocation = ctx.partner(e.partner)?.defaultLocation ?? 'DEFAULT';
  switch (e.type) {
    case 'inventory.snapshot': {
      const lines: SnapshotLine[] = [];
      for (const l of (data.lines as Obj[] | undefined) ?? []) {
        const item = itemKey(l.item as Obj);
        if (!item) continue;
        const q = (l.quantities as Obj | undefined) ?? {};
        lines.push({ item, location: String(l.location ?? defaultLocation), onHand: units(q.onHand) ?? units(q.available), damaged: units(q.damaged), hold: units(q.hold) });
      }
      const r = await positions.applySnapshot(db, lines, meta as { eventSeq: number; documentId: number; partnerId: string; at: string });
      res.movements += r.movements;
      res.divergences += r.divergences;
      return;
    }
    case 'inventory.adjusted': {
      const list: Movement[] = [];
      for (const l of (data.lines as Obj[] | undefined) ?? []) {
        const item = itemKey(l.item as Obj);
        if (!item) continue;
        const q = (l.quantities as Obj | undefined) ?? {};
        const reason = String(l.reason ?? data.reason ?? 'adjustment');
        list.push(
          ...planAdjustment(item, String(l.location ?? defaultLocation), reason, {
            onHand: units(q.onHand) ?? units(q.available),
            damaged: units(q.damaged),
            hold: units(q.hold),
            quantity: units(l.quantity),
          }),
        );
      }
      await apply(list);
      return;
    }
    case 'order.received':
      return applyOrder(ctx, e, eventSeq, apply, res, defaultLocation);
    case 'shipment.noticed': {
      // A supplier's ASN: stock on its way to us.
      const list: Movement[] = [];
      const to = (data.to as Obj | undefined)?.id;
      const location = String(to ?? defaultLocation);
      for (const o of (data.orders as Obj[] | undefined) ?? []) {
        for (const p of (o.packs as Obj[] | undefined) ?? []) {
          for (const it of (p.items as Obj[] | undefined) ?? []) {
            const item = itemKey(it.item as Obj);
            const q = units(it.quantity);
            if (item && q) list.push(movement(item, location, 'in-transit', { dInTransit: q, ref: String(o.poNumber ?? ''), expectedDate: (data.deliveryDate as string | undefined) ?? undefined }));
          }
        }
      }
      await apply(list);
      return;
    }
    case 'ack.received':
      return applyAck(ctx, e);
    case 'shipment.confirmed':
      return applyShipped(ctx, e, eventSeq, apply, defaultLocation, res);
    default:
      return;
  }
}

async function applyOrder(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: (l: Movement[]) => Promise<void>, res: ApplyResult, defaultLocation: string): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const existing = await orders.find(db, e.partner, po);
  if (data.purpose === 'cancellation') {
    if (!existing || existing.status === 'CANCELLED') return;
    const list: Movement[] = [];
    const lines = await orders.lines(db, existing.id);
    for (const l of lines) {
      const open = l.committed;
      if (open > 0 && l.location) list.push(movement(l.item, l.location, 'uncommit', { dCommitted: -open, reason: 'cancelled', ref: po }));
    }
    await orders.upsertLines(db, lines.map((l) => ({ ...l, committed: 0, backordered: 0 })));
    await apply(list);
    await orders.setStatus(db, existing.id, 'CANCELLED');
    return;
  }
  if (existing) return; // the same PO again (changes are not applied to stock yet)
  const rule = ctx.allocation(e.partner);
  const orderId = await orders.create(db, { partnerId: e.partner, poNumber: po, status: 'OPEN', eventSeq, at: ctx.at });
  const list: Movement[] = [];
  const rows: OrderLineRow[] = [];
  const cache = new Map<string, Position[]>();
  let backordered = false;
  for (const l of (data.lines as Obj[] | undefined) ?? []) {
    const item = itemKey(l.item as Obj);
    const qty = units(l.quantity);
    if (!item || qty === undefined || qty <= 0) continue;
    let ps = cache.get(item);
    if (!ps) cache.set(item, (ps = await positions.forItem(db, item)));
    const location = chooseLocation(rule, ps, qty) ?? defaultLocation;
    let p = ps.find((x) => x.location === location);
    if (!p) ps.push((p = { item, location, onHand: 0, committed: 0, inTransit: 0, hold: 0, damaged: 0, safetyStock: 0 }));
    const { commit, backorder } = planCommit(p, qty);
    if (commit > 0) {
      const m = movement(item, location, 'commit', { dCommitted: commit, ref: po });
      applyTo(p, m);
      list.push(m);
    }
    if (backorder > 0) {
      backordered = true;
      res.backordered++;
    }
    rows.push({ order_id: orderId, line_number: String(l.lineNumber), item, uom: (l.uom as string) ?? null, location, ordered: qty, committed: commit, backordered: backorder, shipped: 0 });
  }
  await orders.upsertLines(db, rows);
  await apply(list);
  if (backordered) await orders.setStatus(db, orderId, 'BACKORDERED');
}

async function applyShipped(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: (l: Movement[]) => Promise<void>, defaultLocation: string, res: ApplyResult): Promise<void> {
  const shippedNow = new Map<string, number>();
  const { db } = ctx;
  const data = e.data as Obj;
  const from = (data.from as Obj | undefined)?.id as string | undefined;
  const list: Movement[] = [];
  for (const o of (data.orders as Obj[] | undefined) ?? []) {
    const po = String(o.poNumber ?? '');
    const order = po ? await orders.findByPo(db, po) : undefined;
    const lines = order ? await orders.lines(db, order.id) : [];
    const shippedItems: { item: string; qty: number; lineNumber?: string }[] = [];
    const changed = new Set<OrderLineRow>();
    for (const p of (o.packs as Obj[] | undefined) ?? []) {
      for (const it of (p.items as Obj[] | undefined) ?? []) {
        const item = itemKey(it.item as Obj);
        const qty = units(it.quantity);
        if (item && qty) shippedItems.push({ item, qty, lineNumber: it.lineNumber as string | undefined });
      }
    }
    for (const s of shippedItems) {
      const line = lines.find((l) => l.item === s.item && (s.lineNumber === undefined || l.line_number === s.lineNumber)) ?? lines.find((l) => l.item === s.item);
      const location = from ?? line?.location ?? defaultLocation;
      const release = line ? Math.min(s.qty, line.committed) : 0;
      list.push(movement(s.item, location, 'ship', { dOnHand: -s.qty, ref: po }));
      if (release > 0) list.push(movement(s.item, line!.location ?? location, 'uncommit', { dCommitted: -release, reason: 'shipped', ref: po }));
      if (line) {
        line.committed -= release;
        line.shipped += s.qty;
        shippedNow.set(`${line.order_id}:${line.line_number}`, (shippedNow.get(`${line.order_id}:${line.line_number}`) ?? 0) + s.qty);
        changed.add(line);
      }
    }
    await orders.upsertLines(db, [...changed]);
    if (order && lines.length && lines.every((l) => l.shipped >= l.ordered)) await orders.setStatus(db, order.id, 'SHIPPED');
  }
  await apply(list);
  if (ctx.asn) res.asns.push(...(await queueAsns({ db, partners: ctx.asn.partners, now: ctx.asn.now }, e, eventSeq, shippedNow)));
}


/** What a partner's 997 group (GS01) acknowledges of ours. */
const KIND_BY_FUNCTIONAL_ID: Record<string, string[]> = { IB: ['846'], SH: ['856'] };

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
