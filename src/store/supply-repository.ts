import type { Db } from './db.ts';
import { num } from './db.ts';

export interface SupplyRow {
  id: number;
  partner_id: string;
  shipment_id: string;
  location: string;
  status: 'OPEN' | 'PARTIAL' | 'RECEIVED' | 'CANCELLED';
  cancelled: boolean;
  expected_date: string | null;
  document_id: number | null;
  created_at: string;
  updated_at: string;
}

export interface SupplyLine {
  supply_id: number;
  item: string;
  po_number: string | null;
  expected: number;
  received: number;
}

const row = (r: Record<string, unknown>): SupplyRow => ({ ...(r as unknown as SupplyRow), id: num(r.id), cancelled: !!r.cancelled && r.cancelled !== 0, document_id: r.document_id == null ? null : num(r.document_id) });

/**
 * A notice's status from its lines and its cancelled flag alone (the same whatever order its
 * documents came in): RECEIVED when every line came in full, else CANCELLED, else PARTIAL when
 * something came, else OPEN.
 */
export function supplyStatus(lines: SupplyLine[], cancelled: boolean): SupplyRow['status'] {
  if (lines.length && lines.every((l) => l.received >= l.expected)) return 'RECEIVED';
  if (cancelled) return 'CANCELLED';
  return lines.some((l) => l.received > 0) ? 'PARTIAL' : 'OPEN';
}

/** Stock on its way to us per supplier ship notice, and what the warehouse received of it. */
export const supply = {
  /** The ship notice with this shipment id (the newest, should two suppliers share an id). */
  async byShipment(db: Db, shipmentId: string): Promise<SupplyRow | undefined> {
    const r = await db('supply').where({ shipment_id: shipmentId }).orderBy('id', 'desc').first();
    return r ? row(r) : undefined;
  },

  /** A supplier's own ship notice with this shipment id. */
  async find(db: Db, partnerId: string, shipmentId: string): Promise<SupplyRow | undefined> {
    const r = await db('supply').where({ partner_id: partnerId, shipment_id: shipmentId }).first();
    return r ? row(r) : undefined;
  },

  async create(db: Db, s: { partnerId: string; shipmentId: string; location: string; expectedDate: string | null; documentId: number; at: string }): Promise<number> {
    const [r] = await db('supply')
      .insert({ partner_id: s.partnerId, shipment_id: s.shipmentId, location: s.location, status: 'OPEN', expected_date: s.expectedDate, document_id: s.documentId, created_at: s.at, updated_at: s.at })
      .returning('id');
    return num(typeof r === 'object' ? (r as { id: unknown }).id : r);
  },

  async lines(db: Db, supplyId: number): Promise<SupplyLine[]> {
    return (await db('supply_lines').where({ supply_id: supplyId }).orderBy('item')).map((r) => ({ ...(r as SupplyLine), supply_id: num(r.supply_id), expected: num(r.expected), received: num(r.received) }));
  },

  async putLines(db: Db, list: SupplyLine[]): Promise<void> {
    for (let i = 0; i < list.length; i += 500) await db('supply_lines').insert(list.slice(i, i + 500)).onConflict(['supply_id', 'item']).merge();
  },

  /** Set the notice's status from its lines (and cancel it first, when `cancel`). */
  async refresh(db: Db, id: number, at: string, cancel = false): Promise<SupplyRow['status']> {
    if (cancel) await db('supply').where({ id }).update({ cancelled: true });
    const r = await db('supply').where({ id }).first('cancelled');
    const status = supplyStatus(await supply.lines(db, id), !!r?.cancelled && r.cancelled !== 0);
    await db('supply').where({ id }).update({ status, updated_at: at });
    return status;
  },

  /** Ship notices not yet received in full, oldest expected first; `overdueBefore`: only those expected before that date. */
  async open(db: Db, q: { overdueBefore?: string; partnerId?: string; limit: number }): Promise<(SupplyRow & { lines: SupplyLine[] })[]> {
    let k = db('supply').whereIn('status', ['OPEN', 'PARTIAL']).orderBy([{ column: 'expected_date' }, { column: 'id' }]).limit(q.limit);
    if (q.overdueBefore) k = k.where('expected_date', '<', q.overdueBefore);
    if (q.partnerId) k = k.where({ partner_id: q.partnerId });
    const out = [];
    for (const r of await k) out.push({ ...row(r), lines: await supply.lines(db, num(r.id)) });
    return out;
  },
};
