import { key } from '../domain/availability.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';

/** A warehouse order: what one warehouse location was told to ship of one PO (940 W0502). */
export interface WarehouseOrderRow {
  id: number;
  orderId: number;
  partnerId: string;
  location: string;
  number: string;
  status: 'OPEN' | 'CLOSED' | 'CANCELLED';
  revisions: number;
}

const row = (r: Record<string, unknown>): WarehouseOrderRow => ({
  id: num(r.id),
  orderId: num(r.order_id),
  partnerId: String(r.partner_id),
  location: String(r.location),
  number: String(r.number),
  status: String(r.status) as WarehouseOrderRow['status'],
  revisions: num(r.revisions),
});

export const warehouseOrders = {
  async ofOrder(db: Db, orderId: number): Promise<WarehouseOrderRow[]> {
    return (await db('warehouse_orders').where({ order_id: orderId }).orderBy('id')).map(row);
  },

  /** The warehouse order a warehouse's document names by our number (its 945's W0602). */
  async byNumber(db: Db, partnerId: string, number: string): Promise<WarehouseOrderRow | undefined> {
    const r = await db('warehouse_orders').where({ partner_id: partnerId, number }).first();
    return r ? row(r) : undefined;
  },

  async create(db: Db, w: { orderId: number; partnerId: string; location: string; number: string; at: string }): Promise<WarehouseOrderRow> {
    const [r] = await db('warehouse_orders').insert({ order_id: w.orderId, partner_id: w.partnerId, location: w.location, number: w.number, status: 'OPEN', revisions: 0, created_at: w.at, updated_at: w.at }).returning('*');
    return row(r as Record<string, unknown>);
  },

  async update(db: Db, id: number, v: { status?: WarehouseOrderRow['status']; revisions?: number; at: string }): Promise<void> {
    await db('warehouse_orders').where({ id }).update({ ...(v.status ? { status: v.status } : {}), ...(v.revisions !== undefined ? { revisions: v.revisions } : {}), updated_at: v.at });
  },

  /** Orders with lines at these locations whose committed and shipped units its 940s do not say (for a wave). */
  async unreleased(db: Db, locations: string[]): Promise<number[]> {
    if (!locations.length) return [];
    const rows = await db('order_lines as l')
      .whereIn('l.location', locations)
      .andWhereRaw('l.committed + l.shipped <> l.released')
      .distinct('l.order_id')
      .orderBy('l.order_id');
    return rows.map((r) => num(r.order_id));
  },

  /**
   * What a warehouse was told to ship (its 940s queued) and has not shipped, per item and location
   * (key()), on its open warehouse orders: its stated available is net of it.
   */
  async outstanding(db: Db, partnerId: string, items: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!items.length) return out;
    const rows = await db('order_lines as l')
      .join('warehouse_orders as w', (j) => j.on('w.order_id', 'l.order_id').andOn('w.location', 'l.location'))
      .where('w.partner_id', partnerId)
      .andWhere('w.status', 'OPEN')
      .whereIn('l.item', items)
      .andWhereRaw('l.released > l.shipped')
      .groupBy('l.item', 'l.location')
      .select('l.item', 'l.location')
      .sum({ n: db.raw('l.released - l.shipped') });
    for (const r of rows as Record<string, unknown>[]) out.set(key(String(r.item), String(r.location)), num(r.n));
    return out;
  },
};
