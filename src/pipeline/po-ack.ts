import type { Rejection } from '../core/rejection.ts';
import { planPoAck, type PoAckLineInput } from '../domain/po-ack.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import { fromUnits, QTY_SCALE } from '../domain/quantity.ts';
import { fromBaseExact } from '../domain/units.ts';
import { orders, positions } from '../store/availability-repository.ts';
import { num, type Db } from '../store/db.ts';
import { events } from '../store/event-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { build855 } from '../x12/build-855.ts';
import { envelopeTo, writeOrKeepOut } from './envelope-to.ts';

type Obj = Record<string, unknown>;

/**
 * The retailer's 855 for one of its POs, in the transaction that decided it: when the PO is
 * received, and again (a revision, BAK01 05) when the order changed (an 860, a short shipment).
 * The partner's `ack855.send` says when: never, always, or on-change (only when the answer is not
 * "accepted as asked", and every revision after that). Control numbers from the store; the 855
 * goes through the outbox like every document we send.
 */
export async function queuePoAck(ctx: { db: Db; partners: PartnerDirectory; now: Date }, orderId: number, why: 'received' | 'changed', problems: Rejection[] = []): Promise<{ isa13: string; revision: number } | null> {
  const { db } = ctx;
  const order = await db('orders').where({ id: orderId }).first();
  if (!order) return null;
  const partner = ctx.partners.get(String(order.partner_id));
  const send = partner?.ack855?.send ?? 'never';
  if (!partner || send === 'never' || !partner.receives.includes('855')) return null;
  const po = ((await events.bySeq(db, num(order.event_seq)))?.data ?? {}) as Obj;
  const rows = (await orders.lines(db, orderId)).filter((r) => !r.parent_line);
  const inLineUnit = (base: number, factor: number | null) => fromUnits(fromBaseExact(base, factor ?? QTY_SCALE) ?? base);
  const poLines = (po.lines as Obj[] | undefined) ?? [];
  const lines: PoAckLineInput[] = [];
  for (const row of rows) {
    const l = poLines.find((x) => String(x.lineNumber) === row.line_number);
    const ids = ((l?.item as Obj | undefined)?.ids as Record<string, string> | undefined) ?? { SK: row.item };
    const uom = String(l?.uom ?? row.uom ?? 'EA');
    const rejected = row.status === 'REJECTED' || row.uom_factor === null;
    let expected: string | null = null;
    if (row.backordered > 0 && row.location) {
      const p = await positions.get(db, row.item, row.location);
      if (p.inTransit >= row.backordered && p.expectedDate) expected = p.expectedDate;
    }
    lines.push({
      lineNumber: row.line_number,
      ids,
      asked: String(l?.quantity ?? (rejected ? fromUnits(row.ordered) : inLineUnit(row.ordered, row.uom_factor))),
      uom,
      unitPrice: l?.unitPrice as string | undefined,
      priceBasis: l?.priceBasis as string | undefined,
      rejected,
      ordered: rejected ? null : inLineUnit(row.ordered, row.uom_factor),
      accepted: rejected ? null : inLineUnit(row.committed + row.shipped, row.uom_factor),
      backordered: rejected ? null : inLineUnit(row.backordered, row.uom_factor),
      expected,
    });
  }
  const ref = `855:${partner.id}:${order.po_number}:`;
  const revision = (await outbox.countByRef(db, partner.id, '855', ref)) + 1;
  const ack = planPoAck({ purpose: revision === 1 ? '00' : '05', poNumber: String(order.po_number), poDate: po.poDate as string | undefined, orderId: `ORD-${orderId}`, ackDate: ctx.now.toISOString().slice(0, 10), lines });
  // on-change: a first 855 only when the answer is not "accepted as asked"; every revision after one.
  if (send === 'on-change' && revision === 1 && ack.type === 'AD') return null;
  const env = await envelopeTo(db, ctx.partners, partner, ctx.now);
  const { isa13, gsControl: gs } = env;
  const content = writeOrKeepOut(() => build855(ack, env), `855 for PO ${order.po_number} to ${partner.id}`, problems);
  if (content === null) return null;
  await outbox.enqueue(db, { partnerId: partner.id, kind: '855', sourceDocumentId: null, sourceRef: `${ref}${revision}`, filename: `855_${isa13}.x12`, content, isa13, gs06: String(gs), createdAt: ctx.now.toISOString(), correlationId: order.correlation_id ?? null });
  return { isa13, revision };
}
