import type { PartnerDirectory } from '../domain/partner.ts';
import { fromUnits, QTY_SCALE } from '../domain/quantity.ts';
import { fromBaseExact } from '../domain/units.ts';
import type { Db } from '../store/db.ts';
import { num } from '../store/db.ts';

/**
 * A PO's story: received (850), committed and backordered, shipped (each shipment, partial or
 * not), ASN queued or refused, sent, acknowledged (or overdue), cancelled; every step with its
 * time and source document.
 */
export interface TimelineStep {
  at: string;
  step: string;
  documentId?: number | null;
  details?: Record<string, unknown>;
}

export async function orderTimeline(db: Db, partners: PartnerDirectory, po: string, partnerId: string | undefined, now: Date): Promise<Record<string, unknown> | null> {
  let q = db('orders').where({ po_number: po }).orderBy('id', 'desc');
  if (partnerId) q = q.where({ partner_id: partnerId });
  const order = await q.first();
  if (!order) return null;
  const lines = await db('order_lines').where({ order_id: order.id }).orderBy('line_number');
  const poEvent = await db('events').where({ seq: order.event_seq }).first();
  const steps: TimelineStep[] = [{ at: order.received_at, step: 'received', documentId: num(poEvent?.document_id), details: { lines: lines.length } }];
  // Stock movements for this order (older ones, recorded before movements named their order, by PO number), one step per document and kind.
  const moves = await db('movements')
    .where({ order_id: order.id })
    .orWhere((w) => w.whereNull('order_id').andWhere({ ref: po }))
    .orderBy('seq');
  const byDoc = new Map<string, { at: string; documentId: number | null; kind: string; items: Record<string, number> }>();
  for (const m of moves) {
    // A short shipment's on-hand correction is part of its short-shipped step (the released commitment).
    if (m.kind === 'adjustment' && m.reason === 'short-shipped') continue;
    const k = `${m.document_id}:${m.kind}:${m.reason ?? ''}`;
    const kind = m.reason === 'short-shipped' ? 'short-shipped' : m.reason === 'cancelled' ? 'cancelled' : m.reason === 'backorder-filled' ? 'backorder-filled' : m.reason === 'changed' ? `${m.kind}-changed` : String(m.kind);
    const e = byDoc.get(k) ?? { at: String(m.created_at), documentId: m.document_id == null ? null : num(m.document_id), kind, items: {} as Record<string, number> };
    const d = m.kind === 'ship' ? -num(m.d_on_hand) : num(m.d_committed);
    const item = String(m.item);
    e.items[item] = (e.items[item] ?? 0) + d;
    byDoc.set(k, e);
  }
  const name: Record<string, string> = { commit: 'committed', ship: 'shipped', uncommit: 'released', cancelled: 'cancelled', 'commit-changed': 'committed-on-change', 'uncommit-changed': 'released-on-change' };
  // Documents that came before the order and waited for it (a shipment, a cancel, a change), and what became of them.
  for (const h of await db('held_events').whereIn('waits_for', [`po:${order.partner_id}:${po}`, `po:*:${po}`]).orderBy('id')) {
    steps.push({ at: h.created_at, step: 'waiting', documentId: num(h.document_id), details: { code: h.reason_code, reason: h.reason } });
    if (h.settled_at) steps.push({ at: h.settled_at, step: h.status === 'APPLIED' ? 'waiting-applied' : String(h.status).toLowerCase(), documentId: num(h.document_id) });
  }
  // Changes (860, 850 change or replace) and the documents held in conflict with what the order had.
  const docs = db('document_refs').select('document_id').where({ kind: 'po', value: po });
  for (const ev of await db('events').whereIn('document_id', docs).andWhere({ partner_id: order.partner_id }).whereIn('type', ['order.changed', 'order.received']).whereNot({ seq: order.event_seq }).orderBy('seq').select('seq', 'document_id', 'recorded_at', 'payload')) {
    const d = (JSON.parse(ev.payload) as { data: { poNumber?: string; purpose?: string; changeSequence?: string } }).data;
    if (d.poNumber !== po) continue;
    steps.push({ at: ev.recorded_at, step: d.purpose === 'cancellation' ? 'cancel-received' : 'change-received', documentId: num(ev.document_id), details: { purpose: d.purpose, ...(d.changeSequence ? { changeSequence: d.changeSequence } : {}) } });
  }
  for (const e of byDoc.values()) {
    steps.push({ at: e.at, step: name[e.kind] ?? e.kind, documentId: e.documentId, details: Object.fromEntries(Object.entries(e.items).map(([k, v]) => [k, fromUnits(Math.abs(v))])) });
  }
  // What was short when the PO came: ordered - committed at receipt (fills come later as their own steps).
  const atReceipt = new Map<string, number>();
  for (const m of moves) if (m.kind === 'commit' && m.reason !== 'backorder-filled' && num(m.document_id) === num(poEvent?.document_id)) atReceipt.set(String(m.item), (atReceipt.get(String(m.item)) ?? 0) + num(m.d_committed));
  const shortAtReceipt = lines.filter((l) => l.status !== 'REJECTED' && !lines.some((c) => c.parent_line === l.line_number)).map((l) => [l.item, num(l.ordered) - (atReceipt.get(String(l.item)) ?? 0)] as const).filter(([, n]) => n > 0);
  if (shortAtReceipt.length) steps.push({ at: order.received_at, step: 'backordered', documentId: num(poEvent?.document_id), details: Object.fromEntries(shortAtReceipt.map(([i, n]) => [i, fromUnits(n)])) });
  const rejected = lines.filter((l) => l.status === 'REJECTED');
  if (rejected.length) steps.push({ at: order.received_at, step: 'lines-rejected', documentId: num(poEvent?.document_id), details: Object.fromEntries(rejected.map((l) => [l.line_number, { code: l.reason_code, reason: l.reason }])) });
  for (const o of await db('oversells').where({ order_id: order.id }).orderBy('id')) {
    steps.push({ at: o.created_at, step: 'oversell', documentId: o.document_id == null ? null : num(o.document_id), details: { line: o.line_number, item: o.item, location: o.location, ordered: fromUnits(num(o.ordered)), committed: fromUnits(num(o.committed)), promised: fromUnits(num(o.promised)), shown: fromUnits(num(o.shown)) } });
  }
  // How long a partner has for its 997 of what we sent it.
  const windowOf = (id: string) => partners.get(id)?.acks.expect997WithinMinutes ?? 60;
  const window = windowOf(order.partner_id);
  for (const a of await db('asns').where({ po_number: po, partner_id: order.partner_id }).orderBy('id')) {
    if (a.status === 'REFUSED') {
      steps.push({ at: a.created_at, step: 'asn-refused', details: { shipmentId: a.shipment_id, problems: JSON.parse(a.reason ?? '[]') } });
      continue;
    }
    steps.push({ at: a.created_at, step: 'asn-queued', details: { shipmentId: a.shipment_id, isa13: a.isa13 } });
    const o = await db('outbox').where({ partner_id: order.partner_id, kind: '856', isa13: a.isa13 }).first();
    if (o?.sent_at) steps.push({ at: o.sent_at, step: 'asn-sent', details: { file: o.filename, isa13: o.isa13 } });
    if (o?.ack_at) steps.push({ at: o.ack_at, step: 'asn-acknowledged', documentId: o.ack_document_id, details: { status: o.ack_status } });
    else if (o?.sent_at && now.getTime() - Date.parse(o.sent_at) > window * 60_000) steps.push({ at: new Date(Date.parse(o.sent_at) + window * 60_000).toISOString(), step: 'asn-overdue', details: { windowMinutes: window } });
  }
  // The PO acknowledgments (855) we sent it: each revision queued, sent, acknowledged by its 997.
  const acks855 = await db('outbox').where({ partner_id: order.partner_id, kind: '855' }).andWhere('source_ref', 'like', `855:${order.partner_id}:${po}:%`).orderBy('id');
  // Its first 855 was due within its window of the PO (always; on-change: when one was needed).
  const pol = partners.get(order.partner_id)?.ack855;
  if (pol && pol.send !== 'never' && (pol.send === 'always' || acks855.length)) {
    const due = Date.parse(order.received_at) + pol.withinMinutes * 60_000;
    const firstSent = acks855.map((o) => o.sent_at).filter(Boolean).sort()[0] as string | undefined;
    if (firstSent ? Date.parse(firstSent) > due : now.getTime() > due) steps.push({ at: new Date(due).toISOString(), step: 'po-ack-overdue', details: { withinMinutes: pol.withinMinutes, ...(firstSent ? { sentAt: firstSent } : {}) } });
  }
  for (const o of acks855) {
    const revision = Number(String(o.source_ref).split(':').pop());
    const bak = /BAK\*([^*~]*)\*([^*~]*)/.exec(String(o.content ?? ''));
    steps.push({ at: o.created_at, step: 'po-ack-queued', details: { revision, type: bak?.[2] ?? null, isa13: o.isa13 } });
    if (o.sent_at) steps.push({ at: o.sent_at, step: 'po-ack-sent', details: { revision, file: o.filename, isa13: o.isa13 } });
    if (o.ack_at) steps.push({ at: o.ack_at, step: 'po-ack-acknowledged', documentId: o.ack_document_id, details: { revision, status: o.ack_status } });
  }
  // The warehouse orders (940) we sent for it: each queued (N original, R change, F cancel), sent, acknowledged by the 3PL's 997.
  const wos = await db('warehouse_orders').where({ order_id: order.id }).orderBy('id');
  for (const o of await db('outbox').where({ kind: '940' }).andWhere('source_ref', 'like', `940:${order.id}:%`).orderBy('id')) {
    const [, , number, revision, type] = String(o.source_ref).split(':');
    const wo = wos.find((w) => w.number === number && w.partner_id === o.partner_id);
    const d = { warehouse: o.partner_id, location: wo?.location ?? null, order: number, revision: Number(revision), type: type === 'F' ? 'cancel' : type === 'R' ? 'change' : 'original' };
    steps.push({ at: o.created_at, step: 'warehouse-order-queued', details: { ...d, isa13: o.isa13 } });
    if (o.sent_at) steps.push({ at: o.sent_at, step: 'warehouse-order-sent', details: { ...d, file: o.filename } });
    if (o.ack_at) steps.push({ at: o.ack_at, step: 'warehouse-order-acknowledged', documentId: o.ack_document_id, details: { ...d, status: o.ack_status } });
    else if (o.sent_at && now.getTime() - Date.parse(o.sent_at) > windowOf(o.partner_id) * 60_000) steps.push({ at: new Date(Date.parse(o.sent_at) + windowOf(o.partner_id) * 60_000).toISOString(), step: 'warehouse-order-overdue', details: { ...d, windowMinutes: windowOf(o.partner_id) } });
  }
  for (const w of wos) if (w.status === 'CLOSED') steps.push({ at: w.updated_at, step: 'warehouse-order-closed', details: { warehouse: w.partner_id, location: w.location, order: w.number } });
  steps.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
  return {
    poNumber: po,
    partner: order.partner_id,
    status: order.status,
    // The id that follows the order's flow (its 850's): GET /documents?correlation= and /outbox?correlation= list the flow.
    correlationId: order.correlation_id ?? null,
    // What each warehouse was told (940) and what became of it.
    warehouseOrders: wos.map((w) => ({ warehouse: w.partner_id, location: w.location, order: w.number, status: w.status, revisions: num(w.revisions) })),
    lines: lines.map((l) => ({
      lineNumber: l.line_number,
      item: l.item,
      location: l.location,
      ordered: fromUnits(num(l.ordered)),
      committed: fromUnits(num(l.committed)),
      backordered: fromUnits(num(l.backordered)),
      shipped: fromUnits(num(l.shipped)),
      released: fromUnits(num(l.released)),
      status: l.status ?? 'OPEN',
      // Quantities are in the item's base unit; the line as the partner ordered it beside them.
      unit: partners.items.items.get(String(l.item))?.baseUnit ?? partners.items.defaultBaseUnit,
      ...(l.uom ? { asOrdered: { quantity: fromUnits(fromBaseExact(num(l.ordered), l.uom_factor == null ? QTY_SCALE : num(l.uom_factor)) ?? num(l.ordered)), uom: l.uom } } : {}),
      ...(l.parent_line ? { kitLine: l.parent_line } : {}),
      ...(l.reason_code ? { reason: { code: l.reason_code, message: l.reason } } : {}),
    })),
    timeline: steps,
  };
}
