import { available, chooseLocation, emptyPosition, key, movement, units, type AllocationRule, type Movement, type Position } from '../domain/availability.ts';
import { asOfOf } from '../domain/as-of.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import { commitAllowance, isOversell, promiseAfterCommit } from '../domain/promise.ts';
import { fromUnits, QTY_SCALE, wholeUnits } from '../domain/quantity.ts';
import { mulUnits, toBase } from '../domain/units.ts';
import { orders, positions, type OrderLineRow } from '../store/availability-repository.ts';
import type { Db } from '../store/db.ts';
import { num } from '../store/db.ts';
import { oversells, promises, type PromiseRow } from '../store/promise-repository.ts';
import type { Rejection } from '../core/rejection.ts';
import { baseQty, isProblem, packOf, problem, resolveAll, type ApplyContext, type ApplyMovements, type ApplyResult, type Obj } from './apply-context.ts';
import { queueAsns, type ShippedItem } from './asn.ts';
import { queuePoAck } from './po-ack.ts';
import { closeWarehouseOrders, releaseToWarehouses } from './release-940.ts';
import { warehouseOrders } from '../store/warehouse-order-repository.ts';
import { customerOf, orderArrived } from './sequencing.ts';

/**
 * Orders through the promise engine (src/domain/promise.ts): POs committed per line at the
 * location the partner's rule picks (kits by their components), cancels and changes reconciled
 * line by line, backorders filled as stock arrives, and a 3PL's shipments shipping the order
 * they name (its retailer's ASN queued).
 */
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
    // Locked (PostgreSQL) until the document's transaction ends: what is read here is committed from.
    for (const p of await positions.forItems(this.db, missing, { lock: true })) this.pos.get(p.item)!.set(p.location, p);
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

export async function applyOrder(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const existing = await orders.find(ctx.db, e.partner, po);
  if (data.purpose === 'cancellation') return cancelOrder(ctx, e, po, existing, apply, res);
  if (existing && (data.purpose === 'change' || data.purpose === 'replace')) return applyChange(ctx, e, apply, res);
  if (data.purpose === 'change') return void res.rejections.push(problem(e, 'GW_ORDER_CHANGE_REFUSED', `PO ${po}: a change of an order we do not have`, po));
  // The same PO again under another key (a confirmation or duplicate copy, BEG01 06/07): nothing to apply.
  if (existing) return;
  return createOrder(ctx, e, eventSeq, apply, res);
}

/**
 * Cancel an order: what it still holds committed is released (and fills other backorders), and a
 * warehouse told to ship it gets a cancel (940 F); what shipped stays shipped, with a note.
 */
export async function cancelOrder(ctx: ApplyContext, e: CanonicalEvent, po: string, existing: { id: number; cancelled: boolean } | undefined, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  if (!existing || existing.cancelled) return;
  const list: Movement[] = [];
  const lines = await orders.lines(db, existing.id);
  const shipped = lines.filter((l) => !l.parent_line && l.shipped > 0);
  if (shipped.length) res.rejections.push(problem(e, 'GW_ORDER_CANCEL_AFTER_SHIP', `PO ${po}: line ${shipped.map((l) => `${l.line_number} (${fromUnits(l.shipped)} ${l.item})`).join(', ')} shipped already and stays shipped; the rest is cancelled`, po));
  for (const l of lines) {
    const open = l.committed;
    if (open > 0 && l.location && !isKitRow(ctx, l)) list.push(movement(l.item, l.location, 'uncommit', { dCommitted: -open, reason: 'cancelled', ref: po, orderId: existing.id }));
  }
  await orders.upsertLines(db, lines.map((l) => ({ ...l, committed: 0, backordered: 0 })));
  await apply(list);
  await orders.cancel(db, existing.id);
  await refreshStatus(db, existing.id);
  await releaseToWarehouses(ctx, existing.id, res.rejections);
  await fillBackorders(ctx, new Set(lines.map((l) => l.item)), res);
}

export async function createOrder(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const partner = ctx.partners.get(e.partner);
  const rule = ctx.allocation(e.partner);
  const rank = partner?.publish846?.rank ?? 0;
  const orderId = await orders.create(db, { partnerId: e.partner, poNumber: po, status: 'OPEN', eventSeq, at: ctx.at, rank, correlationId: e.correlationId });
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
  // The retailer's 855: the promise engine's answer per line (per its ack855 policy).
  if (ctx.asn) await queuePoAck({ db, partners: ctx.asn.partners, now: ctx.asn.now }, orderId, 'received', res.rejections);
  // What is committed goes to the warehouse holding it (940), per its policy.
  await releaseToWarehouses(ctx, orderId, res.rejections);
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
export async function applyChange(ctx: ApplyContext, e: CanonicalEvent, apply: ApplyMovements, res: ApplyResult): Promise<void> {
  const { db } = ctx;
  const data = e.data as Obj;
  const po = String(data.poNumber);
  const order = await orders.find(db, e.partner, po);
  if (!order) return void res.rejections.push(problem(e, 'GW_ORDER_CHANGE_REFUSED', `PO ${po}: a change of an order we do not have`, po));
  const purpose = String(data.purpose ?? 'change');
  if (purpose === 'cancellation') return cancelOrder(ctx, e, po, order, apply, res);
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
  // The retailer's 855 revision for the changed order (per its ack855 policy).
  if (ctx.asn) await queuePoAck({ db, partners: ctx.asn.partners, now: ctx.asn.now }, order.id, 'changed', res.rejections);
  await releaseToWarehouses(ctx, order.id, res.rejections);
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
    // The stock that filled a backorder goes to its warehouse (a further release of the PO).
    await releaseToWarehouses(ctx, orderId, res.rejections);
  }
}

export async function applyShipped(ctx: ApplyContext, e: CanonicalEvent, eventSeq: number, apply: ApplyMovements, res: ApplyResult): Promise<void> {
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
    let po = String(o.poNumber ?? '');
    // Our warehouse order number (a 945's W0602) names the order whoever's PO it is.
    const wo = o.orderId ? await warehouseOrders.byNumber(db, e.partner, String(o.orderId)) : undefined;
    const byNumber = wo ? await db('orders').where({ id: wo.orderId }).first('id', 'partner_id', 'po_number') : undefined;
    if (byNumber) po = String(byNumber.po_number);
    const order = byNumber ? { id: num(byNumber.id), partnerId: String(byNumber.partner_id) } : po ? await orderOfShipment(ctx, e, o, po) : undefined;
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
    const current = await positions.getMany(db, [...new Set(items.filter((x): x is string => !isProblem(x)))].flatMap((item) => [...new Set([from, ...lines.filter((l) => l.item === item).map((l) => l.location)].filter((x): x is string => !!x))].map((location) => ({ item, location }))), { lock: true });
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
    /**
     * The warehouse shipped `n` less than it was told (it could not find them): of what is still
     * committed to the line, that much is released and taken off on hand (so it is not promised
     * again before the next snapshot says otherwise); the PO line's partner says whether the rest
     * waits as a backorder or is cancelled (shortShipments). The line carries GW_SHORT_SHIPPED.
     */
    let shorted = false;
    const shortShip = (item: string, location: string | null, n: number, line: OrderLineRow, lineParty: string) => {
      shorted = true;
      const policy = ctx.partners.get(lineParty)?.shortShipments ?? 'backorder';
      const release = Math.min(n, line.committed);
      const at = line.location ?? location;
      if (release > 0 && at) {
        const p = current.get(key(item, at)) ?? emptyPosition(item, at);
        current.set(key(item, at), p);
        const gone = Math.min(release, Math.max(0, p.onHand));
        list.push(movement(item, at, 'uncommit', { dCommitted: -release, reason: 'short-shipped', ref: po, orderId: line.order_id }));
        if (gone > 0) list.push(movement(item, at, 'adjustment', { dOnHand: -gone, reason: 'short-shipped', ref: po, orderId: line.order_id }));
        p.onHand -= gone;
        line.committed -= release;
      }
      const open = Math.max(0, line.ordered - line.shipped - line.committed);
      const note = `${fromUnits(n)} short-shipped by ${e.partner} (shipment ${String(data.shipmentId ?? '')})`;
      if (policy === 'cancel') {
        // Cancelled on the line: what is neither shipped nor still committed is no longer ordered.
        line.ordered = Math.max(line.shipped + line.committed, line.ordered - Math.min(n, open));
        line.backordered = Math.min(line.backordered, Math.max(0, line.ordered - line.shipped - line.committed));
        Object.assign(line, { reason_code: 'GW_SHORT_SHIPPED', reason: `${note}: cancelled` });
      } else {
        line.backordered = Math.min(open, line.backordered + n);
        Object.assign(line, { reason_code: 'GW_SHORT_SHIPPED', reason: `${note}: backordered` });
      }
      res.rejections.push(problem(e, 'GW_SHORT_SHIPPED', `PO ${po} line ${line.line_number}: ${note}: ${policy === 'cancel' ? 'cancelled' : 'backordered'}`, line.line_number));
      changed.add(line);
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
        if (line) {
          // What the warehouse says it could not ship of the line (a 945's W1204, or ordered - shipped).
          const diff = it.difference !== undefined ? baseQty(ctx, e, item, it.difference, it.uom, packOf(it)) : it.ordered !== undefined ? baseQty(ctx, e, item, it.ordered, it.uom, packOf(it)) : undefined;
          const short = diff && !('problem' in diff) ? (it.difference !== undefined ? diff.base : diff.base - q.base) : 0;
          if (short > 0) shortShip(item, from ?? line.location ?? partner?.defaultLocation ?? null, short, line, order!.partnerId);
        }
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
    // A shipping advice is final for the lines it reports (the order closes when all are); units shipped after our cancel are a fact, and noted.
    if (order && o.closesOrder === true) {
      const told = (await warehouseOrders.ofOrder(db, order.id)).filter((w) => w.partnerId === e.partner);
      if (told.length && told.every((w) => w.status === 'CANCELLED') && [...changed].some((l) => l.shipped > 0)) res.rejections.push(problem(e, 'GW_SHIPPED_AFTER_CANCEL', `PO ${po}: ${e.partner} shipped after our cancel (940 F) of its order ${told.at(-1)!.number}: what shipped stays shipped`, po));
      await closeWarehouseOrders(ctx, order.id, e.partner, from, [...changed].map((l) => l.line_number), res.rejections);
    }
    // A line shipped short changed the order: the retailer's 855 revision says so (per its policy).
    if (order && shorted && ctx.asn) await queuePoAck({ db, partners: ctx.asn.partners, now: ctx.asn.now }, order.id, 'changed', res.rejections);
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
