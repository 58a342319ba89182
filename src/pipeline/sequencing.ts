import type { Rejection } from '../core/rejection.ts';
import { businessKey, contentHash, describeKey } from '../domain/business-key.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { orders } from '../store/availability-repository.ts';
import type { Db } from '../store/db.ts';
import { documents } from '../store/document-repository.ts';
import { events } from '../store/event-repository.ts';
import { rejections } from '../store/rejection-repository.ts';
import { businessKeys, heldEvents, type HeldRow } from '../store/sequencing-repository.ts';
import { supply } from '../store/supply-repository.ts';
import { warehouseOrders } from '../store/warehouse-order-repository.ts';
import { problem } from './apply-context.ts';

/**
 * Documents in any order. Before an event is applied: its business key (a resend is a duplicate,
 * other content under the same key a conflict held for an admin), then what it refers to (a
 * shipment or cancel whose PO has not arrived waits). When the PO arrives, what waited for it is
 * applied in the same transaction, oldest first; what still waits when its window ends expires
 * into the dead letters.
 */
type Obj = Record<string, unknown>;

export const DEFAULT_WAIT_MS = 24 * 3600_000;

export interface SequencingContext {
  db: Db;
  documentId: number;
  at: string;
  partners: PartnerDirectory;
  /** How long a document waits for what it refers to (default 24 h). */
  waitMs?: number;
}

export interface Wait {
  key: string;
  code: 'GW_WAITING_FOR_ORDER' | 'GW_WAITING_FOR_ASN';
  reason: string;
}

/**
 * The partner whose PO a shipment's order ships: the customer it names (partner id, ISA id or GS
 * id), else the shipping partner's `shipmentCustomer`; null: none; undefined: an unknown one.
 */
export function customerOf(partners: PartnerDirectory, e: CanonicalEvent, o: Obj): Partner | null | undefined {
  const data = e.data as Obj;
  // Named on the order, on the shipment, or by the shipping partner's configuration.
  const customer = typeof o.customer === 'string' && o.customer ? o.customer : typeof data.customer === 'string' && data.customer ? data.customer : partners.get(e.partner)?.shipmentCustomer;
  if (!customer) return null;
  return partners.get(customer) ?? partners.all().find((p) => p.interchange.id === customer || p.gsId === customer);
}

/** What an event refers to that is not there yet (null: nothing; it can be applied). */
export async function waitsFor(ctx: SequencingContext, e: CanonicalEvent): Promise<Wait | null> {
  const data = e.data as Obj;
  if (e.type === 'shipment.confirmed') {
    for (const o of (data.orders as Obj[] | undefined) ?? []) {
      const po = typeof o.poNumber === 'string' ? o.poNumber : '';
      if (!po) continue;
      // Our warehouse order number (a 945's W0602) names an order we have.
      if (typeof o.orderId === 'string' && o.orderId && (await warehouseOrders.byNumber(ctx.db, e.partner, o.orderId))) continue;
      const customer = customerOf(ctx.partners, e, o);
      if (customer === undefined) continue; // an unknown customer is a problem, not a wait
      const all = await orders.allByPo(ctx.db, po);
      if (!all.some((c) => !customer || c.partnerId === customer.id)) {
        return { key: `po:${customer?.id ?? '*'}:${po}`, code: 'GW_WAITING_FOR_ORDER', reason: `shipment ${String(data.shipmentId ?? '')} ships PO ${po}${customer ? ` of ${customer.id}` : ''}, which has not arrived` };
      }
    }
    return null;
  }
  if (e.type === 'order.received' || e.type === 'order.changed') {
    const purpose = e.type === 'order.changed' ? 'change' : String(data.purpose ?? 'original');
    if (!['cancellation', 'change'].includes(purpose)) return null;
    const po = String(data.poNumber ?? '');
    if (!po || (await orders.find(ctx.db, e.partner, po))) return null;
    return { key: `po:${e.partner}:${po}`, code: 'GW_WAITING_FOR_ORDER', reason: `the ${purpose === 'change' ? 'change' : 'cancellation'} of PO ${po} came before the PO` };
  }
  if (e.type === 'stock.received' || (e.type === 'inventory.adjusted' && typeof data.shipmentId === 'string')) {
    const asn = typeof data.shipmentId === 'string' ? data.shipmentId : '';
    if (!asn || data.returnAuthorization || data.kind === 'return') return null;
    if (await supply.byShipment(ctx.db, asn)) return null;
    return { key: `asn:${asn}`, code: 'GW_WAITING_FOR_ASN', reason: `receipt ${String(data.receiptId ?? data.reportId ?? '')} is against ship notice ${asn}, which has not arrived` };
  }
  if (e.type === 'shipment.noticed' && data.purpose === 'cancellation') {
    const asn = String(data.shipmentId ?? '');
    if (!asn || (await supply.find(ctx.db, e.partner, asn))) return null;
    return { key: `asn:${asn}`, code: 'GW_WAITING_FOR_ASN', reason: `the cancellation of ship notice ${asn} came before the notice` };
  }
  return null;
}

/** The keys an order's arrival releases. */
export function orderArrived(partnerId: string, po: string): string[] {
  return [`po:${partnerId}:${po}`, `po:*:${po}`];
}

/**
 * The business key gate for a newly appended event: 'apply', or what was done instead (a duplicate
 * is noted; a conflict is held for an admin). A new key is recorded with the event's content.
 */
export async function checkKey(ctx: SequencingContext, e: CanonicalEvent, eventSeq: number, out: Rejection[]): Promise<'apply' | 'duplicate' | 'conflict'> {
  const bkey = businessKey(e);
  if (!bkey) return 'apply';
  const hash = contentHash(e);
  const seen = await businessKeys.get(ctx.db, e.partner, bkey);
  if (!seen) {
    await businessKeys.put(ctx.db, { partnerId: e.partner, bkey, contentHash: hash, documentId: ctx.documentId, eventSeq, at: ctx.at });
    return 'apply';
  }
  const first = seen.documentId === null ? 'before' : `from document ${seen.documentId}`;
  if (seen.contentHash === hash) {
    out.push(problem(e, 'GW_DOCUMENT_DUPLICATE', `${describeKey(bkey)} was applied ${first}: the same content again, not applied`, bkey));
    return 'duplicate';
  }
  const reason = `${describeKey(bkey)} was applied ${first} with other content: held for an admin (release applies this one, discard drops it)`;
  out.push(problem(e, 'GW_DOCUMENT_CONFLICT', reason, bkey));
  await heldEvents.hold(ctx.db, { eventSeq, documentId: ctx.documentId, partnerId: e.partner, status: 'CONFLICT', waitsFor: null, code: 'GW_DOCUMENT_CONFLICT', reason, dueAt: null, at: ctx.at });
  return 'conflict';
}

/** Park an event until what it waits for arrives (or its window ends). */
export async function park(ctx: SequencingContext, e: CanonicalEvent, eventSeq: number, w: Wait, out: Rejection[]): Promise<void> {
  const due = new Date(Date.parse(ctx.at) + (ctx.waitMs ?? DEFAULT_WAIT_MS)).toISOString();
  await heldEvents.hold(ctx.db, { eventSeq, documentId: ctx.documentId, partnerId: e.partner, status: 'WAITING', waitsFor: w.key, code: w.code, reason: w.reason, dueAt: due, at: ctx.at });
  out.push(problem(e, w.code, `${w.reason}: it waits until ${due}`, w.key));
}

export async function heldEvent(db: Db, h: HeldRow): Promise<CanonicalEvent> {
  const row = await events.bySeq(db, h.event_seq);
  if (!row) throw new Error(`held event ${h.id}: event ${h.event_seq} is not in the log`);
  return row;
}

/** After some of a document's held events were settled: its status follows what is still held. */
export async function settleHeldDocument(db: Db, documentId: number, found: Rejection[]): Promise<void> {
  if (found.length) await rejections.insert(db, documentId, found);
  const open = await heldEvents.openFor(db, documentId);
  if (open.conflict || open.waiting) return;
  const doc = await documents.get(db, documentId);
  if (!doc || !['WAITING', 'HELD'].includes(doc.status)) return;
  const settled = new Set((await db('held_events').where({ document_id: documentId }).distinct('status')).map((r) => String(r.status)));
  const errors = await db('rejections').where({ document_id: documentId, severity: 'error' }).whereNotIn('code', ['GW_DOCUMENT_CONFLICT', 'GW_WAIT_EXPIRED']).first('id');
  const status = settled.has('EXPIRED') ? 'EXPIRED' : settled.has('DISCARDED') ? 'DISCARDED' : errors ? 'PARTIAL' : 'PROCESSED';
  const first = status === 'EXPIRED' ? await db('rejections').where({ document_id: documentId, code: 'GW_WAIT_EXPIRED' }).first('code', 'message') : null;
  await db('documents')
    .where({ id: documentId })
    .update({ status, ...(first ? { error_code: first.code, error_message: first.message } : {}) });
}

/**
 * A document's status once its events went through the gate: what of it is still held decides it
 * (an event that waited for a PO later in the same file was applied already).
 */
export async function gatedStatus<S extends string>(db: Db, documentId: number, status: S, r: { duplicates: number }, events: number): Promise<S | 'HELD' | 'WAITING' | 'DUPLICATE'> {
  const open = await heldEvents.openFor(db, documentId);
  if (open.conflict) return 'HELD';
  if (open.waiting && (status === 'PROCESSED' || status === 'PARTIAL')) return 'WAITING';
  if (status === 'PROCESSED' && r.duplicates > 0 && r.duplicates === events) return 'DUPLICATE';
  return status;
}
