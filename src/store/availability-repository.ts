import { emptyPosition, key, type Divergence, type Movement, type Position } from '../domain/availability.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';

const COLS = ['on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'safety_stock'] as const;

function toPosition(r: Record<string, unknown>): Position {
  return {
    item: String(r.item),
    location: String(r.location),
    onHand: num(r.on_hand),
    committed: num(r.committed),
    inTransit: num(r.in_transit),
    hold: num(r.hold),
    damaged: num(r.damaged),
    safetyStock: num(r.safety_stock),
    expectedDate: (r.expected_date as string | null) ?? null,
  };
}

export const positions = {
  /** Positions for these (item, location) keys; missing ones come back empty. */
  async getMany(db: Db, keys: { item: string; location: string }[]): Promise<Map<string, Position>> {
    const out = new Map<string, Position>();
    const items = [...new Set(keys.map((k) => k.item))];
    for (let i = 0; i < items.length; i += 400) {
      const rows = await db('positions').whereIn('item', items.slice(i, i + 400));
      for (const r of rows) out.set(key(String(r.item), String(r.location)), toPosition(r));
    }
    for (const k of keys) if (!out.has(key(k.item, k.location))) out.set(key(k.item, k.location), emptyPosition(k.item, k.location));
    return out;
  },

  async forItem(db: Db, item: string): Promise<Position[]> {
    return (await db('positions').where({ item }).orderBy('location')).map(toPosition);
  },

  async get(db: Db, item: string, location: string): Promise<Position> {
    const r = await db('positions').where({ item, location }).first();
    return r ? toPosition(r) : emptyPosition(item, location);
  },

  /** Keyset page over all positions, ordered by (item, location). */
  async page(db: Db, after: { item: string; location: string } | null, limit: number, locations?: string[]): Promise<Position[]> {
    let q = db('positions').orderBy([{ column: 'item' }, { column: 'location' }]).limit(limit);
    if (after) q = q.where((w) => w.where('item', '>', after.item).orWhere((w2) => w2.where('item', after.item).andWhere('location', '>', after.location)));
    if (locations) q = q.whereIn('location', locations);
    return (await q).map(toPosition);
  },

  async locations(db: Db): Promise<string[]> {
    return (await db('positions').distinct('location').orderBy('location')).map((r) => String(r.location));
  },

  async count(db: Db): Promise<number> {
    const [r] = await db('positions').count({ n: '*' });
    return num(r.n);
  },

  /** Append movements and move the positions by the same deltas, in the caller's transaction. */
  async apply(db: Db, list: Movement[], ctx: { eventSeq: number | null; documentId: number | null; partnerId: string | null; at: string }): Promise<void> {
    if (!list.length) return;
    for (let i = 0; i < list.length; i += 300) {
      const chunk = list.slice(i, i + 300);
      await db('movements').insert(
        chunk.map((m) => ({
          event_seq: ctx.eventSeq,
          document_id: ctx.documentId,
          partner_id: ctx.partnerId,
          item: m.item,
          location: m.location,
          kind: m.kind,
          d_on_hand: m.dOnHand,
          d_committed: m.dCommitted,
          d_in_transit: m.dInTransit,
          d_hold: m.dHold,
          d_damaged: m.dDamaged,
          d_safety: m.dSafety,
          reason: m.reason ?? null,
          ref: m.ref?.slice(0, 128) ?? null,
          expected_date: m.expectedDate ?? null,
          created_at: ctx.at,
        })),
      );
    }
    const [{ seq }] = (await db('movements').max({ seq: 'seq' })) as { seq: unknown }[];
    const lastSeq = num(seq);
    // One upsert per (item, location): deltas summed.
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
    const rows = [...agg.values()].map((m) => ({
      item: m.item,
      location: m.location,
      on_hand: m.dOnHand,
      committed: m.dCommitted,
      in_transit: m.dInTransit,
      hold: m.dHold,
      damaged: m.dDamaged,
      safety_stock: m.dSafety,
      expected_date: m.expectedDate ?? null,
      last_movement_seq: lastSeq,
    }));
    for (let i = 0; i < rows.length; i += 300) {
      await db('positions')
        .insert(rows.slice(i, i + 300))
        .onConflict(['item', 'location'])
        .merge({
          ...Object.fromEntries(COLS.map((c) => [c, db.raw(`positions.${c} + excluded.${c}`)])),
          expected_date: db.raw('coalesce(excluded.expected_date, positions.expected_date)'),
          last_movement_seq: db.raw('excluded.last_movement_seq'),
        });
    }
  },

  /** Rebuild every position from the movement log (the log is the truth). */
  async rebuild(db: Db): Promise<number> {
    await db('positions').delete();
    await db.raw(
      `insert into positions (item, location, on_hand, committed, in_transit, hold, damaged, safety_stock, expected_date, last_movement_seq)
       select item, location, sum(d_on_hand), sum(d_committed), sum(d_in_transit), sum(d_hold), sum(d_damaged), sum(d_safety), max(expected_date), max(seq)
       from movements group by item, location`,
    );
    return positions.count(db);
  },

  /** Item/locations moved after a movement seq (for delta publication). */
  async changedSince(db: Db, seq: number, upTo: number): Promise<Position[]> {
    return (await db('positions').where('last_movement_seq', '>', seq).andWhere('last_movement_seq', '<=', upTo).orderBy([{ column: 'location' }, { column: 'item' }])).map(toPosition);
  },

  /** Keyset page in (location, item) order: the order an 846 is written in. */
  async pageByLocation(db: Db, after: { item: string; location: string } | null, limit: number, locations?: string[]): Promise<Position[]> {
    let q = db('positions').orderBy([{ column: 'location' }, { column: 'item' }]).limit(limit);
    if (after) q = q.where((w) => w.where('location', '>', after.location).orWhere((w2) => w2.where('location', after.location).andWhere('item', '>', after.item)));
    if (locations) q = q.whereIn('location', locations);
    return (await q).map(toPosition);
  },

  async lastMovementSeq(db: Db): Promise<number> {
    const [{ seq }] = (await db('movements').max({ seq: 'seq' })) as { seq: unknown }[];
    return num(seq);
  },
};

export const divergences = {
  async insert(db: Db, list: Divergence[], ctx: { eventSeq: number; documentId: number; partnerId: string; at: string }): Promise<void> {
    for (let i = 0; i < list.length; i += 300) {
      await db('divergences').insert(
        list.slice(i, i + 300).map((d) => ({ event_seq: ctx.eventSeq, document_id: ctx.documentId, partner_id: ctx.partnerId, item: d.item, location: d.location, before: d.before, after: d.after, diff: d.diff, created_at: ctx.at })),
      );
    }
  },

  async list(db: Db, q: { partnerId?: string; documentId?: number; onlyDifferent?: boolean; limit: number }): Promise<Record<string, unknown>[]> {
    let k = db('divergences').orderBy('id', 'desc').limit(q.limit);
    if (q.partnerId) k = k.where({ partner_id: q.partnerId });
    if (q.documentId) k = k.where({ document_id: q.documentId });
    if (q.onlyDifferent) k = k.whereNot({ diff: 0 });
    return k;
  },
};

export interface OrderLineRow {
  order_id: number;
  line_number: string;
  item: string;
  uom: string | null;
  location: string | null;
  ordered: number;
  committed: number;
  backordered: number;
  shipped: number;
}

export const orders = {
  async find(db: Db, partnerId: string, poNumber: string): Promise<{ id: number; status: string } | undefined> {
    const r = await db('orders').where({ partner_id: partnerId, po_number: poNumber }).first();
    return r ? { id: num(r.id), status: String(r.status) } : undefined;
  },

  /** Any partner's order with this PO number (a 3PL confirms the retailer's PO). */
  async findByPo(db: Db, poNumber: string): Promise<{ id: number; partnerId: string; status: string } | undefined> {
    const r = await db('orders').where({ po_number: poNumber }).orderBy('id', 'desc').first();
    return r ? { id: num(r.id), partnerId: String(r.partner_id), status: String(r.status) } : undefined;
  },

  async create(db: Db, o: { partnerId: string; poNumber: string; status: string; eventSeq: number; at: string }): Promise<number> {
    const [r] = await db('orders').insert({ partner_id: o.partnerId, po_number: o.poNumber, status: o.status, event_seq: o.eventSeq, received_at: o.at }).returning('id');
    return num(typeof r === 'object' ? (r as { id: unknown }).id : r);
  },

  async setStatus(db: Db, id: number, status: string): Promise<void> {
    await db('orders').where({ id }).update({ status });
  },

  async lines(db: Db, orderId: number): Promise<OrderLineRow[]> {
    return (await db('order_lines').where({ order_id: orderId }).orderBy('line_number')).map((r) => ({
      ...(r as OrderLineRow),
      order_id: num(r.order_id),
      ordered: num(r.ordered),
      committed: num(r.committed),
      backordered: num(r.backordered),
      shipped: num(r.shipped),
    }));
  },

  async upsertLine(db: Db, l: OrderLineRow): Promise<void> {
    await db('order_lines').insert(l).onConflict(['order_id', 'line_number']).merge();
  },
};

export const publications = {
  async get(db: Db, partnerId: string): Promise<{ lastMovementSeq: number; lastFullAt: string | null; lastSentAt: string | null }> {
    const r = await db('publications').where({ partner_id: partnerId }).first();
    return { lastMovementSeq: num(r?.last_movement_seq), lastFullAt: r?.last_full_at ?? null, lastSentAt: r?.last_sent_at ?? null };
  },

  async set(db: Db, partnerId: string, v: { lastMovementSeq: number; lastFullAt?: string; lastSentAt: string }): Promise<void> {
    const row: Record<string, unknown> = { partner_id: partnerId, last_movement_seq: v.lastMovementSeq, last_sent_at: v.lastSentAt };
    if (v.lastFullAt) row.last_full_at = v.lastFullAt;
    await db('publications').insert(row).onConflict('partner_id').merge();
  },
};
