import { reject, type Rejection } from '../core/rejection.ts';
import type { ErrorCode } from '../core/errors.ts';
import { available, chooseLocation, emptyPosition, key, movement, planAdjustment, snapshotLine, units, type AllocationRule, type Movement, type Position, type SnapshotLine } from '../domain/availability.ts';
import { asOfOf } from '../domain/as-of.ts';
import { businessKey, contentHash } from '../domain/business-key.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import { commitAllowance, isOversell, promiseAfterCommit } from '../domain/promise.ts';
import { fromUnits, QTY_SCALE, wholeUnits } from '../domain/quantity.ts';
import { mulUnits, toBase, type LinePack } from '../domain/units.ts';
import { crosswalkLookup, type CrosswalkIndex } from '../mapping/crosswalk.ts';
import { orders, positions, type OrderLineRow } from '../store/availability-repository.ts';
import type { Db } from '../store/db.ts';
import { num } from '../store/db.ts';
import { resolveItems, type Resolved } from '../store/item-repository.ts';
import { oversells, promises, type PromiseRow } from '../store/promise-repository.ts';
import { supply } from '../store/supply-repository.ts';
import { businessKeys, heldEvents, type HeldRow } from '../store/sequencing-repository.ts';
import { queueAsns, type AsnOutcome, type ShippedItem } from './asn.ts';
import { checkKey, customerOf, heldEvent, orderArrived, park, settleHeldDocument, waitsFor } from './sequencing.ts';

/**
 * Canonical events -> movements on the availability store, in the transaction of the document
 * that carried them (so a document is applied wholly or not at all, and exactly once: only the
 * events this document appended are applied). Items are resolved to one identity (crosswalk or
 * provisional), quantities converted to base units, orders committed through the promise engine
 * (src/domain/promise.ts), and backorders filled as stock arrives.
 */
export interface ApplyContext {
  db: Db;
  documentId: number;
  at: string;
  partners: PartnerDirectory;
  allocation: (partnerId: string) => AllocationRule;
  /** The crosswalk a partner's documents are read with. */
  crosswalk: (partnerId: string) => CrosswalkIndex | null;
  /** For outbound ASNs when a retailer's PO ships (absent: no ASNs, e.g. dry runs). */
  asn?: { partners: PartnerDirectory; now: Date };
  /** How long a document waits for what it refers to (default 24 h). */
  waitMs?: number;
}

export interface ApplyResult {
  movements: number;
  divergences: number;
  backordered: number;
  asns: AsnOutcome[];
  /** Line problems found while applying (unconvertible units, id conflicts, unknown items). */
  rejections: Rejection[];
  oversells: number;
  filled: number;
  /** Events not applied because they were applied before (same business key and content). */
  duplicates: number;
  /** Events held: waiting for what they refer to, or in conflict with what was applied under their key. */
  waiting: number;
  conflicts: number;
  /** Held events of earlier documents applied because what they waited for arrived. */
  released: number;
  /** Movements those held events made (they are their own documents'). */
  releasedMovements: number;
  /** Keys of what arrived in this step (an order: po:<partner>:<po>); what waits for them is applied next. */
  arrived: string[];
}

export const emptyApplyResult = (): ApplyResult => ({ movements: 0, divergences: 0, backordered: 0, asns: [], rejections: [], oversells: 0, filled: 0, duplicates: 0, waiting: 0, conflicts: 0, released: 0, releasedMovements: 0, arrived: [] });

type Obj = Record<string, unknown>;

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

function problem(e: CanonicalEvent, code: ErrorCode, detail: string, value?: string): Rejection {
  return reject(code, detail, { isa13: e.source.isa13, gs06: e.source.gs06, st02: e.source.st02, segmentIndex: e.source.segmentIndex, ...(value ? { value: value.slice(0, 128) } : {}) });
}

/**
 * Resolve the items of these lines (objects with an `item`): our item key, or the line's problem
 * (its ids name two SKUs, or it has no id at all).
 */
async function resolveAll(ctx: ApplyContext, e: CanonicalEvent, lines: Obj[]): Promise<(string | Rejection)[]> {
  const asked = lines.map((l) => (l.item as { sku?: string; ids?: Record<string, string> } | undefined) ?? {});
  const resolved: Resolved[] = await resolveItems(ctx.db, e.partner, asked, crosswalkLookup(ctx, e.partner), { partnerId: e.partner, documentId: ctx.documentId, set: e.source.setId ?? e.type, at: ctx.at });
  return resolved.map((r, i) => {
    if (r && 'item' in r) return r.item;
    const text = Object.entries(asked[i].ids ?? {}).map(([q, v]) => `${q}=${v}`).join(', ');
    return r ? problem(e, 'GW_ITEM_ID_CONFLICT', `${text} name ${r.conflict.join(' and ')}`, text) : problem(e, 'GW_ITEM_UNKNOWN', `no item id on the line (${text || 'none'})`, text);
  });
}

function packOf(l: Obj): LinePack | undefined {
  const p = l.pack as Obj | undefined;
  if (!p) return undefined;
  return { pack: p.pack as string | undefined, size: p.size as string | undefined, sizeUnit: p.sizeUnit as string | undefined };
}

/** A quantity of a line in base units, or a problem. */
function baseQty(ctx: ApplyContext, e: CanonicalEvent, item: string, text: unknown, uom: unknown, pack: LinePack | undefined): { base: number; factor: number } | { problem: Rejection } | null {
  const q = units(text);
  if (q === undefined) return null;
  const c = toBase(ctx.partners.items, item, q, typeof uom === 'string' ? uom : undefined, pack);
  if (!c.ok) return { problem: problem(e, 'GW_UOM_UNCONVERTIBLE', c.reason, `${text} ${uom ?? ''}`) };
  return { base: c.base, factor: c.factor };
}

/** Several named quantities of one line in base units (absent ones stay absent), or the first problem. */
function baseQtys(ctx: ApplyContext, e: CanonicalEvent, item: string, l: Obj, named: [string, unknown][]): Record<string, number | undefined> | Rejection {
  const pack = packOf(l);
  const conv: Record<string, number | undefined> = {};
  for (const [name, text] of named) {
    const r = baseQty(ctx, e, item, text, l.uom, pack);
    if (r && 'problem' in r) return r.problem;
    if (r) conv[name] = r.base;
  }
  return conv;
}

const isProblem = (x: unknown): x is Rejection => typeof x === 'object' && x !== null && 'code' in x;

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
        else lines.push(snapshotLine(item, location, conv));
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
      const current = await positions.getMany(db, wanted);
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

/**
 * A supplier's ship notice: stock on its way to us, recorded per shipment so that the warehouse's
 * receipts clear it. A cancelling notice (BSN01 01) takes off what was not received; a replacing
 * one (05) states the shipment anew.
 */
async function applyNotice(ctx: ApplyContext, e: CanonicalEvent, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const shipmentId = String(data.shipmentId ?? '');
  const purpose = String(data.purpose ?? 'original');
  const existing = (await db('supply').where({ partner_id: e.partner, shipment_id: shipmentId }).first('id')) as { id: unknown } | undefined;
  const known = existing ? (await supply.byShipment(db, shipmentId))! : undefined;
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

function receiptOfReport(e: CanonicalEvent): CanonicalEvent {
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
async function applyReceipt(ctx: ApplyContext, e: CanonicalEvent, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
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
  const current = await positions.getMany(db, wanted);
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

/** Adjustment reasons with rules of their own (planAdjustment); any other reason is a plain on-hand change. */
const ADJUSTMENT_KINDS = new Set(['return', 'release', 'scrap', 'damage', 'receipt']);

/**
 * Positions and every partner's promises of the items a document step touches, loaded in one go
 * and kept current in memory; the promises an order used are written back at the end (`flush`).
 */
class ItemState {
  private pos = new Map<string, Map<string, Position>>();
  private prom = new Map<string, Map<string, Map<string, PromiseRow>>>();
  private dirty = new Set<PromiseRow>();
  constructor(private readonly db: Db) {}

  async load(...items: string[]): Promise<void> {
    const missing = [...new Set(items)].filter((i) => !this.pos.has(i));
    if (!missing.length) return;
    for (const i of missing) {
      this.pos.set(i, new Map());
      this.prom.set(i, new Map());
    }
    for (const p of await positions.forItems(this.db, missing)) this.pos.get(p.item)!.set(p.location, p);
    for (const [k, m] of await promises.forItems(this.db, missing)) {
      const [item, location] = k.split('\u0000');
      this.prom.get(item)!.set(location, m);
    }
  }

  locations(item: string): string[] {
    return [...(this.pos.get(item)?.keys() ?? [])];
  }

  position(item: string, location: string): Position {
    const ps = this.pos.get(item)!;
    let p = ps.get(location);
    if (!p) ps.set(location, (p = emptyPosition(item, location)));
    return p;
  }

  own(item: string, location: string, partnerId: string): PromiseRow | undefined {
    return this.prom.get(item)?.get(location)?.get(partnerId);
  }

  others(item: string, location: string, partnerId: string): number {
    let n = 0;
    for (const [p, r] of this.prom.get(item)?.get(location) ?? []) if (p !== partnerId) n += r.promised;
    return n;
  }

  /** What `partnerId` may commit at the location now. */
  room(item: string, location: string, partnerId: string): number {
    return commitAllowance(available(this.position(item, location)), this.own(item, location, partnerId)?.promised ?? 0, this.others(item, location, partnerId));
  }

  /** Commit: the position and the partner's promise move; returns the promise before. */
  commit(item: string, location: string, partnerId: string, qty: number): number {
    const p = this.position(item, location);
    p.committed += qty;
    const own = this.own(item, location, partnerId);
    const before = own?.promised ?? 0;
    if (own && qty > 0) {
      own.promised = promiseAfterCommit(own.promised, qty);
      this.dirty.add(own);
    }
    return before;
  }

  shownTo(item: string, location: string, partnerId: string): number {
    return this.own(item, location, partnerId)?.shown ?? 0;
  }

  /** Write back the promises orders used (shown stays what the 846 said). */
  async flush(at: string): Promise<void> {
    await promises.consume(this.db, [...this.dirty], at);
    this.dirty.clear();
  }
}

interface LinePlan {
  row: OrderLineRow;
  moves: Movement[];
  oversell?: { promised: number; shown: number };
}

/** Commit one ordinary line (base units) at the location the partner's rule picks. */
async function commitLine(st: ItemState, partnerId: string, rule: AllocationRule, row: OrderLineRow, po: string): Promise<LinePlan> {
  await st.load(row.item);
  const base = row.ordered;
  const location = row.location ?? chooseLocation(rule, st.locations(row.item), (l) => st.room(row.item, l, partnerId), base);
  if (!location) return { row: { ...row, backordered: base, reason_code: row.reason_code ?? 'GW_BACKORDER_NO_STOCK', reason: row.reason ?? 'the item is at none of our locations' }, moves: [] };
  const room = st.room(row.item, location, partnerId);
  const c = Math.min(base, room);
  const promised = st.commit(row.item, location, partnerId, c);
  const moves = c > 0 ? [movement(row.item, location, 'commit', { dCommitted: c, ref: po, orderId: row.order_id })] : [];
  const out: LinePlan = { row: { ...row, location, committed: c, backordered: base - c }, moves };
  if (base - c > 0 && !out.row.reason_code) Object.assign(out.row, { reason_code: 'GW_BACKORDER_NO_STOCK', reason: `${fromUnits(base - c)} short at ${location}` });
  if (isOversell(base, c, promised)) out.oversell = { promised, shown: st.shownTo(row.item, location, partnerId) };
  return out;
}

/** A kit line: whole kits at one location, each component committed as its own row under the kit line. */
async function commitKit(st: ItemState, partnerId: string, rule: AllocationRule, row: OrderLineRow, comps: Record<string, number>, po: string): Promise<LinePlan[]> {
  const entries = Object.entries(comps);
  await st.load(...entries.map(([c]) => c));
  const kitRoom = (l: string) => Math.min(...entries.map(([c, per]) => Math.floor(st.room(c, l, partnerId) / per) * QTY_SCALE));
  const locations = [...new Set(entries.flatMap(([c]) => st.locations(c)))];
  const location = chooseLocation(rule, locations, kitRoom, row.ordered);
  const kits = location ? Math.min(row.ordered, wholeUnits(kitRoom(location))) : 0;
  const plans: LinePlan[] = [];
  let promisedKits = Infinity;
  for (const [c, per] of entries) {
    const need = mulUnits(row.ordered, per) ?? 0;
    const commit = mulUnits(kits, per) ?? 0;
    const promised = location ? st.commit(c, location, partnerId, commit) : 0;
    promisedKits = Math.min(promisedKits, Math.floor(promised / per) * QTY_SCALE);
    plans.push({
      row: { ...row, line_number: `${row.line_number}>${c}`, parent_line: row.line_number, item: c, uom: null, uom_factor: QTY_SCALE, location, ordered: need, committed: commit, backordered: need - commit, status: 'OPEN', reason_code: need > commit ? 'GW_BACKORDER_NO_STOCK' : null, reason: need > commit ? `${fromUnits(need - commit)} short${location ? ` at ${location}` : ''}` : null },
      moves: commit > 0 ? [movement(c, location!, 'commit', { dCommitted: commit, ref: po, orderId: row.order_id, reason: `kit ${row.item}` })] : [],
    });
  }
  const kitPlan: LinePlan = { row: { ...row, location, committed: kits, backordered: row.ordered - kits }, moves: [] };
  if (row.ordered > kits) Object.assign(kitPlan.row, { reason_code: 'GW_BACKORDER_NO_STOCK', reason: `${fromUnits(row.ordered - kits)} kits short` });
  if (location && isOversell(row.ordered, kits, promisedKits === Infinity ? 0 : promisedKits)) kitPlan.oversell = { promised: promisedKits, shown: promisedKits };
  return [kitPlan, ...plans];
}

async function applyOrder(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const existing = await orders.find(ctx.db, e.partner, po);
  if (data.purpose === 'cancellation') return cancelOrder(ctx, po, existing, apply, res);
  if (existing && (data.purpose === 'change' || data.purpose === 'replace')) return applyChange(ctx, e, apply, res);
  if (data.purpose === 'change') return void res.rejections.push(problem(e, 'GW_ORDER_CHANGE_REFUSED', `PO ${po}: a change of an order we do not have`, po));
  // The same PO again under another key (a confirmation or duplicate copy, BEG01 06/07): nothing to apply.
  if (existing) return;
  return createOrder(ctx, e, eventSeq, apply, res);
}

/** Cancel an order: what it still holds committed is released (and fills other backorders); what shipped stays shipped. */
async function cancelOrder(ctx: ApplyContext, po: string, existing: { id: number; cancelled: boolean } | undefined, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  if (!existing || existing.cancelled) return;
  const list: Movement[] = [];
  const lines = await orders.lines(db, existing.id);
  for (const l of lines) {
    const open = l.committed;
    if (open > 0 && l.location && !isKitRow(ctx, l)) list.push(movement(l.item, l.location, 'uncommit', { dCommitted: -open, reason: 'cancelled', ref: po, orderId: existing.id }));
  }
  await orders.upsertLines(db, lines.map((l) => ({ ...l, committed: 0, backordered: 0 })));
  await apply(list);
  await orders.cancel(db, existing.id);
  await refreshStatus(db, existing.id);
  await fillBackorders(ctx, new Set(lines.map((l) => l.item)), res);
}

async function createOrder(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const partner = ctx.partners.get(e.partner);
  const rule = ctx.allocation(e.partner);
  const rank = partner?.publish846?.rank ?? 0;
  const orderId = await orders.create(db, { partnerId: e.partner, poNumber: po, status: 'OPEN', eventSeq, at: ctx.at, rank });
  res.arrived.push(...orderArrived(e.partner, po));
  const raw = (data.lines as Obj[] | undefined) ?? [];
  const items = await resolveAll(ctx, e, raw);
  const st = new ItemState(db);
  await st.load(...items.filter((x): x is string => !isProblem(x)).flatMap((i) => [i, ...Object.keys(ctx.partners.items.kits[i] ?? {})]));
  const plans: LinePlan[] = [];
  let seq = 0;
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    const item = items[i];
    const qty = units(l.quantity);
    const row: OrderLineRow = { order_id: orderId, line_number: String(l.lineNumber), item: isProblem(item) ? '?' : item, uom: (l.uom as string) ?? null, location: null, ordered: 0, committed: 0, backordered: 0, shipped: 0, status: 'OPEN', reason_code: null, reason: null, uom_factor: null, parent_line: null, seq: ++seq };
    const rejectLine = (r: Rejection) => {
      res.rejections.push(r);
      plans.push({ row: { ...row, ordered: qty ?? 0, status: 'REJECTED', reason_code: r.code, reason: r.message }, moves: [] });
    };
    if (isProblem(item)) {
      rejectLine(item);
      continue;
    }
    if (qty === undefined || qty <= 0) continue;
    if (item.startsWith('PRV:') && partner?.unknownItems === 'reject') {
      rejectLine(problem(e, 'GW_ITEM_UNKNOWN', `line ${row.line_number}: ${item.slice(4)} is in no crosswalk (this partner's unknown items are rejected)`, item.slice(4)));
      continue;
    }
    const conv = toBase(ctx.partners.items, item, qty, row.uom ?? undefined, packOf(l));
    if (!conv.ok) {
      rejectLine(problem(e, 'GW_UOM_UNCONVERTIBLE', `line ${row.line_number}: ${conv.reason}`, `${l.quantity} ${row.uom ?? ''}`));
      continue;
    }
    const base = { ...row, ordered: conv.base, uom_factor: conv.factor };
    if (item.startsWith('PRV:')) Object.assign(base, { reason_code: 'GW_ITEM_PROVISIONAL', reason: `${item.slice(4)} is in no crosswalk: a provisional item` });
    const comps = ctx.partners.items.kits[item];
    if (comps) plans.push(...(await commitKit(st, e.partner, rule, base, comps, po)));
    else plans.push(await commitLine(st, e.partner, rule, base, po));
  }
  // Rows where nothing is short keep no backorder reason.
  for (const p of plans) if (p.row.backordered === 0 && p.row.reason_code === 'GW_BACKORDER_NO_STOCK') Object.assign(p.row, { reason_code: null, reason: null });
  await st.flush(ctx.at);
  await orders.upsertLines(db, plans.map((p) => p.row));
  await apply(plans.flatMap((p) => p.moves));
  for (const p of plans) {
    if (!p.oversell) continue;
    res.oversells++;
    await oversells.record(db, { partnerId: e.partner, orderId, poNumber: po, lineNumber: p.row.line_number, item: p.row.item, location: p.row.location, ordered: p.row.ordered, committed: p.row.committed, promised: p.oversell.promised, shown: p.oversell.shown, documentId: ctx.documentId, at: ctx.at });
  }
  res.backordered += plans.filter((p) => p.row.backordered > 0 && !p.row.parent_line).length;
  await refreshStatus(db, orderId);
}

/**
 * An order's status, from its lines and its cancelled flag alone (so it is the same whatever order
 * its documents came in): SHIPPED when every line shipped (a cancel that came after is too late),
 * CANCELLED, REJECTED when every line was, BACKORDERED when a line is short, else OPEN.
 */
export function orderStatus(lines: OrderLineRow[], cancelled: boolean): string {
  const top = lines.filter((l) => !l.parent_line);
  const live = top.filter((l) => l.status !== 'REJECTED' && l.status !== 'CANCELLED');
  if (live.length && live.every((l) => l.shipped >= l.ordered)) return 'SHIPPED';
  if (cancelled || (!live.length && top.some((l) => l.status === 'CANCELLED'))) return 'CANCELLED';
  if (top.length && !live.length) return 'REJECTED';
  if (live.some((l) => l.backordered > 0)) return 'BACKORDERED';
  return 'OPEN';
}

async function refreshStatus(db: Db, orderId: number): Promise<void> {
  const o = await db('orders').where({ id: orderId }).first('cancelled');
  await orders.setStatus(db, orderId, orderStatus(await orders.lines(db, orderId), !!o?.cancelled && o.cancelled !== 0));
}

/** An 860 BCH05 (or an 850 change's) sequence as a number; null: the change is not sequenced. */
function changeSequence(data: Obj): number | null {
  const v = data.changeSequence;
  return typeof v === 'string' && /^\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : null;
}

/**
 * A PO change (860, or an 850 with BEG01 04 change or 05 replace): each line as it is to be. A
 * sequenced change (BCH05) is applied per line only over older changes, so changes arriving out of
 * order end the same; quantities are the new totals. Each line is then reconciled: what is open
 * (ordered less shipped, nothing when deleted) is committed as far as the partner may, the rest
 * backordered, and what is committed beyond it released. A line that shipped more than its new
 * quantity keeps what shipped, with a note.
 */
async function applyChange(ctx: ApplyContext, e: CanonicalEvent, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const order = await orders.find(db, e.partner, po);
  if (!order) return void res.rejections.push(problem(e, 'GW_ORDER_CHANGE_REFUSED', `PO ${po}: a change of an order we do not have`, po));
  const purpose = String(data.purpose ?? 'change');
  if (purpose === 'cancellation') return cancelOrder(ctx, po, order, apply, res);
  if (purpose === 'confirmation' || purpose === 'duplicate') return;
  const seq = changeSequence(data);
  const is850 = e.type === 'order.received';
  const raw = ((data.lines as Obj[] | undefined) ?? []).map((l): Obj & { change: string } => ({ ...l, change: is850 ? 'quantity' : String(l.change ?? 'quantity') }));
  const lines = await orders.lines(db, order.id);
  const top = (n: string) => lines.find((l) => !l.parent_line && l.line_number === n);
  const items = await resolveAll(ctx, e, raw.map((l) => (l.item ? l : { item: { sku: top(String(l.lineNumber))?.item } })));
  const st = new ItemState(db);
  await st.load(...items.filter((x): x is string => !isProblem(x)), ...lines.map((l) => l.item));
  const partner = ctx.partners.get(e.partner);
  const rule = ctx.allocation(e.partner);
  const touched = new Set<OrderLineRow>();
  const moves: Movement[] = [];
  // A change that cannot be applied: a coded problem on the document and on the order line.
  const refuse = (n: string, why: string, row?: OrderLineRow) => {
    res.rejections.push(problem(e, 'GW_ORDER_CHANGE_REFUSED', `PO ${po} line ${n}: ${why}`, n));
    if (row) {
      Object.assign(row, { reason_code: 'GW_ORDER_CHANGE_REFUSED', reason: why });
      touched.add(row);
    }
  };
  const listed = new Set<string>();
  const freed = new Set<string>();
  let nextSeq = Math.max(0, ...lines.map((l) => l.seq));
  for (let i = 0; i < raw.length; i++) {
    const l = raw[i];
    const n = String(l.lineNumber);
    listed.add(n);
    const row = top(n);
    if (row && seq !== null && (row.change_seq ?? 0) > seq) continue; // a newer change set this line already
    if (row && lines.some((c) => c.parent_line === n)) {
      refuse(n, 'a kit line is changed by cancelling it and ordering again', row);
      continue;
    }
    if (l.change === 'price' || l.change === 'dates') {
      if (row && seq !== null) (row.change_seq = seq), touched.add(row);
      continue;
    }
    if (l.change === 'delete') {
      if (!row) continue;
      Object.assign(row, { status: 'CANCELLED', reason_code: null, reason: null });
      if (seq !== null) row.change_seq = seq;
      touched.add(row);
      continue;
    }
    const item = items[i];
    if (isProblem(item)) {
      res.rejections.push(item);
      continue;
    }
    const qty = units(l.quantity);
    if (qty === undefined || qty < 0) {
      refuse(n, 'no new quantity');
      continue;
    }
    const uom = (l.uom as string | undefined) ?? row?.uom ?? undefined;
    const conv = toBase(ctx.partners.items, item, qty, uom, packOf(l));
    if (!conv.ok) {
      res.rejections.push(problem(e, 'GW_UOM_UNCONVERTIBLE', `PO ${po} line ${n}: ${conv.reason}`, `${l.quantity} ${uom ?? ''}`));
      continue;
    }
    if (row && row.item !== item) {
      if (row.shipped > 0) {
        refuse(n, `${fromUnits(row.shipped)} of ${row.item} shipped already: the line cannot become ${item}`, row);
        continue;
      }
      // Another item on the line: what the old one holds is released, the new one is committed below.
      if (row.committed > 0 && row.location) {
        moves.push(movement(row.item, row.location, 'uncommit', { dCommitted: -row.committed, reason: 'changed', ref: po, orderId: order.id }));
        st.commit(row.item, row.location, e.partner, -row.committed);
        freed.add(row.item);
      }
      Object.assign(row, { item, committed: 0, backordered: 0, location: null, reason_code: null, reason: null });
    }
    if (!row && item.startsWith('PRV:') && partner?.unknownItems === 'reject') {
      refuse(n, `${item.slice(4)} is in no crosswalk (this partner's unknown items are rejected)`);
      continue;
    }
    const target: OrderLineRow = row ?? { order_id: order.id, line_number: n, item, uom: uom ?? null, location: null, ordered: 0, committed: 0, backordered: 0, shipped: 0, status: 'OPEN', reason_code: null, reason: null, uom_factor: conv.factor, parent_line: null, seq: ++nextSeq, change_seq: 0 };
    if (!row) lines.push(target);
    if (ctx.partners.items.kits[item] && !row) {
      refuse(n, 'a kit is added by a new PO, not by a change');
      continue;
    }
    Object.assign(target, { ordered: conv.base, uom: uom ?? target.uom, uom_factor: conv.factor, status: conv.base === 0 ? 'CANCELLED' : 'OPEN' });
    if (seq !== null) target.change_seq = seq;
    touched.add(target);
  }
  // A replacement PO (05) states every line: a line it leaves out is deleted.
  if (purpose === 'replace') {
    for (const row of lines) {
      if (row.parent_line || listed.has(row.line_number) || row.status === 'REJECTED') continue;
      if (seq !== null && (row.change_seq ?? 0) > seq) continue;
      row.status = 'CANCELLED';
      touched.add(row);
    }
  }
  // Reconcile each touched line with what it now asks for.
  for (const row of touched) {
    const open = order.cancelled || row.status === 'CANCELLED' || row.status === 'REJECTED' ? 0 : Math.max(0, row.ordered - row.shipped);
    if (row.shipped > row.ordered) Object.assign(row, { reason_code: 'GW_ORDER_CHANGED_AFTER_SHIP', reason: `changed to ${fromUnits(row.ordered)}, ${fromUnits(row.shipped)} shipped already` });
    if (row.committed > open) {
      const r = row.committed - open;
      if (row.location) {
        moves.push(movement(row.item, row.location, 'uncommit', { dCommitted: -r, reason: 'changed', ref: po, orderId: order.id }));
        st.commit(row.item, row.location, e.partner, -r);
      }
      row.committed = open;
      freed.add(row.item);
    } else if (row.committed < open) {
      const need = open - row.committed;
      const location = row.location ?? chooseLocation(rule, st.locations(row.item), (loc) => st.room(row.item, loc, e.partner), need);
      const c = location ? Math.min(need, st.room(row.item, location, e.partner)) : 0;
      if (c > 0 && location) {
        st.commit(row.item, location, e.partner, c);
        moves.push(movement(row.item, location, 'commit', { dCommitted: c, ref: po, orderId: order.id, reason: 'changed' }));
        row.location = location;
        row.committed += c;
      }
    }
    row.backordered = open - row.committed;
    if (row.backordered > 0 && !row.reason_code) Object.assign(row, { reason_code: 'GW_BACKORDER_NO_STOCK', reason: `${fromUnits(row.backordered)} short${row.location ? ` at ${row.location}` : ''}` });
    if (row.backordered === 0 && row.reason_code === 'GW_BACKORDER_NO_STOCK') Object.assign(row, { reason_code: null, reason: null });
    if (row.reason_code === 'GW_ORDER_CHANGED_AFTER_SHIP') res.rejections.push(problem(e, 'GW_ORDER_CHANGED_AFTER_SHIP', `PO ${po} line ${row.line_number}: ${row.reason}`, row.line_number));
  }
  await st.flush(ctx.at);
  await orders.upsertLines(db, [...touched]);
  await apply(moves);
  res.backordered += [...touched].filter((r) => r.backordered > 0).length;
  await refreshStatus(db, order.id);
  if (freed.size) await fillBackorders(ctx, freed, res);
}

function isKitRow(ctx: ApplyContext, l: OrderLineRow): boolean {
  return !l.parent_line && !!ctx.partners.items.kits[l.item];
}

/** A kit row's quantities follow its component rows (whole kits). */
function rollUpKit(kit: OrderLineRow, comps: OrderLineRow[]): void {
  if (!comps.length || kit.ordered <= 0) return;
  let committed = Infinity;
  let shipped = Infinity;
  let back = 0;
  for (const c of comps) {
    const per = c.ordered / kit.ordered; // component units per kit unit
    if (per <= 0) continue;
    committed = Math.min(committed, wholeUnits(c.committed / per));
    shipped = Math.min(shipped, wholeUnits(c.shipped / per));
    back = Math.max(back, Math.ceil(c.backordered / per / QTY_SCALE) * QTY_SCALE);
  }
  kit.committed = committed === Infinity ? 0 : committed;
  kit.shipped = shipped === Infinity ? 0 : shipped;
  kit.backordered = Math.min(back, kit.ordered);
  if (kit.backordered === 0) Object.assign(kit, { reason_code: kit.reason_code === 'GW_BACKORDER_NO_STOCK' ? null : kit.reason_code, reason: kit.reason_code === 'GW_BACKORDER_NO_STOCK' ? null : kit.reason });
  const loc = comps.find((c) => c.location)?.location;
  if (loc && !kit.location) kit.location = loc;
}

/**
 * Stock arrived (or was freed) for these items: open backorders are filled in priority order
 * (the ordering partner's rank, higher first), then oldest order first, each through the promise
 * engine (a fill never takes what was promised to another partner), each fill a commit movement
 * on the order's timeline.
 */
export async function fillBackorders(ctx: ApplyContext, items: Set<string>, res: ApplyResult): Promise<void> {
  if (!items.size) return;
  const { db } = ctx;
  // Most stock arrives with nothing waiting for it: one look at the open backorders first.
  if (!(await db('order_lines').where('backordered', '>', 0).first('order_id'))) return;
  const list = [...items].filter((i) => !ctx.partners.items.kits[i]);
  const waiting: Record<string, unknown>[] = [];
  for (let i = 0; i < list.length; i += 400) {
    const rows = await db('order_lines as l')
      .join('orders as o', 'o.id', 'l.order_id')
      .where('l.backordered', '>', 0)
      .whereIn('l.item', list.slice(i, i + 400))
      .whereNot('o.status', 'CANCELLED')
      .select('l.*', 'o.partner_id', 'o.po_number', 'o.rank as order_rank');
    waiting.push(...rows);
  }
  if (!waiting.length) return;
  waiting.sort((a, b) => num(b.order_rank) - num(a.order_rank) || num(a.order_id) - num(b.order_id) || num(a.seq) - num(b.seq) || String(a.line_number).localeCompare(String(b.line_number)));
  const st = new ItemState(db);
  await st.load(...waiting.map((w) => String(w.item)));
  const moves: Movement[] = [];
  const changedOrders = new Set<number>();
  for (const w of waiting) {
    const item = String(w.item);
    const partnerId = String(w.partner_id);
    const back = num(w.backordered);
    const rule = w.location ? ({ rule: 'fixed', location: String(w.location) } as AllocationRule) : ctx.allocation(partnerId);
    const location = chooseLocation(rule, st.locations(item), (l) => st.room(item, l, partnerId), back);
    if (!location) continue;
    const f = Math.min(back, st.room(item, location, partnerId));
    if (f <= 0) continue;
    st.commit(item, location, partnerId, f);
    moves.push(movement(item, location, 'commit', { dCommitted: f, ref: String(w.po_number), orderId: num(w.order_id), reason: 'backorder-filled' }));
    const left = back - f;
    await db('order_lines')
      .where({ order_id: w.order_id, line_number: w.line_number })
      .update({ committed: num(w.committed) + f, backordered: left, location, ...(left === 0 && w.reason_code === 'GW_BACKORDER_NO_STOCK' ? { reason_code: null, reason: null } : {}) });
    res.filled++;
    changedOrders.add(num(w.order_id));
  }
  await st.flush(ctx.at);
  await positions.apply(db, moves, { eventSeq: null, documentId: ctx.documentId, partnerId: null, at: ctx.at });
  res.movements += moves.length;
  for (const orderId of changedOrders) {
    const lines = await orders.lines(db, orderId);
    const kits = lines.filter((l) => !l.parent_line && lines.some((c) => c.parent_line === l.line_number));
    for (const k of kits) rollUpKit(k, lines.filter((c) => c.parent_line === k.line_number));
    if (kits.length) await orders.upsertLines(db, kits);
    await refreshStatus(db, orderId);
  }
}

async function applyShipped(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: (l: Movement[]) => Promise<void>, res: ApplyResult): Promise<void> {
  const shippedNow = new Map<string, number>();
  const asOf = asOfOf(e);
  const { db } = ctx;
  const data = e.data as Obj;
  const partner = ctx.partners.get(e.partner);
  const from = ((data.from as Obj | undefined)?.location as string | undefined) ?? undefined;
  const list: Movement[] = [];
  const resolved = new WeakMap<Obj, ShippedItem>();
  const orderOf = new Map<Obj, { id: number; partnerId: string }>();
  for (const o of (data.orders as Obj[] | undefined) ?? []) {
    const po = String(o.poNumber ?? '');
    const order = po ? await orderOfShipment(ctx, e, o, po) : undefined;
    if (order && 'code' in order) {
      // Whose PO this is cannot be told: nothing of it is applied (never a guess).
      res.rejections.push(order);
      continue;
    }
    if (order) orderOf.set(o, order);
    const lines = order ? await orders.lines(db, order.id) : [];
    const its: Obj[] = [];
    for (const p of (o.packs as Obj[] | undefined) ?? []) for (const it of (p.items as Obj[] | undefined) ?? []) its.push(it);
    const items = await resolveAll(ctx, e, its);
    const changed = new Set<OrderLineRow>();
    const current = await positions.getMany(db, [...new Set(items.filter((x): x is string => !isProblem(x)))].flatMap((item) => [...new Set([from, ...lines.filter((l) => l.item === item).map((l) => l.location)].filter((x): x is string => !!x))].map((location) => ({ item, location }))));
    const ship = (item: string, location: string | null, qty: number, line: OrderLineRow | undefined) => {
      if (!location) {
        res.rejections.push(problem(e, 'GW_LOCATION_MISSING', `${item}: the shipment names no location and PO ${po} has no line for it at one of ours`));
        return;
      }
      const p = current.get(key(item, location)) ?? emptyPosition(item, location);
      current.set(key(item, location), p);
      // Shipped before the snapshot the position took: that snapshot counted it already.
      const counted = !!(asOf && p.snapshotAsOf && asOf < p.snapshotAsOf);
      const out = counted ? 0 : Math.min(qty, Math.max(0, p.onHand));
      // Never below zero: what was shipped beyond our on hand is noted on the movement (the next snapshot settles it).
      const note = counted ? `counted in snapshot ${p.snapshotAsOf}` : out < qty ? `shipped ${fromUnits(qty)}, on hand was ${fromUnits(Math.max(0, p.onHand))}` : undefined;
      if (qty > 0) list.push(movement(item, location, 'ship', { dOnHand: -out, ref: po, orderId: order?.id, ...(note ? { reason: note } : {}), ...(asOf ? { asOf, ...(!counted && out < qty ? { datedOnHand: -qty } : {}) } : {}) }));
      p.onHand -= out;
      const release = line ? Math.min(qty, line.committed) : 0;
      if (release > 0 && line) {
        list.push(movement(item, line.location ?? location, 'uncommit', { dCommitted: -release, reason: 'shipped', ref: po, orderId: line.order_id }));
        line.committed -= release;
      }
      if (line) {
        line.shipped += qty;
        line.location ??= location; // it shipped from there (a line never committed had no location yet)
        // What shipped is no longer open: nor backordered (a line short of stock can still ship).
        line.backordered = Math.max(0, Math.min(line.backordered, Math.max(0, line.ordered - line.shipped) - line.committed));
        if (line.backordered === 0 && line.reason_code === 'GW_BACKORDER_NO_STOCK') Object.assign(line, { reason_code: null, reason: null });
        changed.add(line);
      }
    };
    for (let i = 0; i < its.length; i++) {
      const it = its[i];
      const item = items[i];
      if (isProblem(item)) {
        res.rejections.push(item);
        continue;
      }
      const lineNumber = it.lineNumber as string | undefined;
      const line = lines.find((l) => !l.parent_line && l.item === item && (lineNumber === undefined || l.line_number === lineNumber)) ?? lines.find((l) => l.item === item && !l.parent_line) ?? lines.find((l) => l.item === item);
      const q = baseQty(ctx, e, item, it.quantity, it.uom, packOf(it));
      if (!q) continue;
      if ('problem' in q) {
        res.rejections.push(q.problem);
        continue;
      }
      resolved.set(it, { item, base: q.base, lineNumber: line?.parent_line ?? line?.line_number });
      const comps = line && !line.parent_line ? lines.filter((c) => c.parent_line === line.line_number) : [];
      if (line && comps.length) {
        // A kit shipped whole: its components leave stock and their commitments are released.
        for (const c of comps) ship(c.item, from ?? c.location ?? line.location ?? partner?.defaultLocation ?? null, Math.round((c.ordered / line.ordered) * q.base), c);
        rollUpKit(line, comps);
        changed.add(line);
      } else {
        ship(item, from ?? line?.location ?? partner?.defaultLocation ?? null, q.base, line);
        if (line?.parent_line) {
          const kit = lines.find((l) => l.line_number === line.parent_line);
          if (kit) {
            rollUpKit(kit, lines.filter((c) => c.parent_line === kit.line_number));
            changed.add(kit);
          }
        }
      }
      if (line) {
        const top = line.parent_line ?? line.line_number;
        shippedNow.set(`${line.order_id}:${top}`, (shippedNow.get(`${line.order_id}:${top}`) ?? 0) + q.base);
      }
    }
    await orders.upsertLines(db, [...changed]);
    if (order) await refreshStatus(db, order.id);
  }
  await apply(list);
  if (ctx.asn) res.asns.push(...(await queueAsns({ db, partners: ctx.asn.partners, now: ctx.asn.now }, e, eventSeq, shippedNow, (it) => resolved.get(it), (o) => orderOf.get(o))));
}

/**
 * The order a 3PL shipment ships: a PO is (partner, PO number). The partner is the one the
 * shipment names (its customer: a partner id, ISA id or GS id), else the only partner with that PO
 * number, else the one whose PO was for the shipment's ship-to. Anything else is a coded problem:
 * an unknown customer, or a PO number that two partners' orders share with nothing to tell them
 * apart. undefined: no order has that PO number.
 */
async function orderOfShipment(ctx: ApplyContext, e: CanonicalEvent, o: Obj, po: string): Promise<{ id: number; partnerId: string } | Rejection | undefined> {
  const data = e.data as Obj;
  let candidates = await orders.allByPo(ctx.db, po);
  const partner = customerOf(ctx.partners, e, o);
  if (partner === undefined) {
    const customer = String(o.customer ?? data.customer);
    return problem(e, 'GW_ORDER_PARTNER_UNKNOWN', `PO ${po}: the shipment names customer ${customer}, which is none of our partners`, customer);
  }
  if (partner) candidates = candidates.filter((c) => c.partnerId === partner.id);
  if (candidates.length <= 1) return candidates[0];
  const shipTo = String(((o.shipTo as Obj | undefined)?.id ?? (data.to as Obj | undefined)?.id) ?? '');
  const same: typeof candidates = [];
  if (shipTo) {
    for (const c of candidates) {
      const ev = await ctx.db('events').where({ seq: c.eventSeq }).first('payload');
      const poShipTo = ev ? (((JSON.parse(ev.payload) as CanonicalEvent).data.shipTo as Obj | undefined)?.id as string | undefined) : undefined;
      if (poShipTo === shipTo) same.push(c);
    }
  }
  if (same.length === 1) return same[0];
  return problem(e, 'GW_ORDER_AMBIGUOUS', `PO ${po} is an order of ${candidates.map((c) => c.partnerId).join(' and ')}; the shipment names no customer${shipTo ? ` and ship-to ${shipTo} tells them not apart` : ' and no ship-to'}`, po);
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
