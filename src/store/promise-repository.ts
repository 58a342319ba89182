import { counters } from './counter-repository.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';
import { insertRows } from './availability-repository.ts';

/**
 * What each partner was promised per item and location (src/domain/promise.ts): `shown` is the
 * quantity of its last 846 (base units), `promised` what it may still order of it. `seq` orders
 * changes so that another partner's delta 846 can pick up room a publication has freed.
 */
export interface PromiseRow {
  partnerId: string;
  item: string;
  location: string;
  promised: number;
  shown: number;
}

const k = (item: string, location: string) => `${item}\u0000${location}`;

const toRow = (x: Record<string, unknown>): PromiseRow => ({ partnerId: String(x.partner_id), item: String(x.item), location: String(x.location), promised: num(x.promised), shown: num(x.shown) });

/** Rows grouped as item\0location -> partner -> row. */
function group(out: Map<string, Map<string, PromiseRow>>, rows: Record<string, unknown>[]): void {
  for (const x of rows) {
    const row = toRow(x);
    const key = k(row.item, row.location);
    let m = out.get(key);
    if (!m) out.set(key, (m = new Map()));
    m.set(row.partnerId, row);
  }
}

export const promises = {
  /** Every partner's promise for these items (all locations), keyed item\0location -> partner -> row. */
  async forItems(db: Db, items: string[]): Promise<Map<string, Map<string, PromiseRow>>> {
    const out = new Map<string, Map<string, PromiseRow>>();
    const uniq = [...new Set(items)];
    for (let i = 0; i < uniq.length; i += 400) group(out, await db('promises').whereIn('item', uniq.slice(i, i + 400)));
    return out;
  },

  /** Every partner's promise for a page of positions in (location, item) order: one range read per location. */
  async forPage(db: Db, page: { item: string; location: string }[]): Promise<Map<string, Map<string, PromiseRow>>> {
    const out = new Map<string, Map<string, PromiseRow>>();
    const ranges = new Map<string, { from: string; to: string }>();
    for (const p of page) {
      const r = ranges.get(p.location);
      if (!r) ranges.set(p.location, { from: p.item, to: p.item });
      else {
        if (p.item < r.from) r.from = p.item;
        if (p.item > r.to) r.to = p.item;
      }
    }
    for (const [location, r] of ranges) group(out, await db('promises').where({ location }).andWhere('item', '>=', r.from).andWhere('item', '<=', r.to));
    return out;
  },

  /** The change number of a publication (one per 846 built; other partners' deltas look for it). */
  async nextSeq(db: Db): Promise<number> {
    return counters.next(db, '*', 'promise', Number.MAX_SAFE_INTEGER);
  },

  /** Set promises (upsert) under the publication's change number. */
  async set(db: Db, rows: PromiseRow[], at: string, seq: number): Promise<void> {
    if (!rows.length) return;
    await insertRows(
      db,
      'promises',
      ['partner_id', 'item', 'location', 'promised', 'shown', 'seq', 'updated_at'],
      rows.map((r) => [r.partnerId, r.item, r.location, r.promised, r.shown, seq, at]),
      'on conflict (item, location, partner_id) do update set promised = excluded.promised, shown = excluded.shown, seq = excluded.seq, updated_at = excluded.updated_at',
    );
  },

  /** After orders took from partners' promises (shown stays what the 846 said): one statement. */
  async consume(db: Db, rows: PromiseRow[], at: string): Promise<void> {
    if (!rows.length) return;
    await insertRows(
      db,
      'promises',
      ['partner_id', 'item', 'location', 'promised', 'shown', 'seq', 'updated_at'],
      rows.map((r) => [r.partnerId, r.item, r.location, r.promised, r.shown, 0, at]),
      'on conflict (item, location, partner_id) do update set promised = excluded.promised, updated_at = excluded.updated_at',
    );
  },

  /** Item/locations whose promises of other partners changed after `seq` (room freed or taken). */
  async changedByOthers(db: Db, partnerId: string, seq: number): Promise<{ item: string; location: string }[]> {
    return (await db('promises').distinct('item', 'location').where('seq', '>', seq).whereNot({ partner_id: partnerId })).map((r) => ({ item: String(r.item), location: String(r.location) }));
  },


  /** A partner's promises (for the API and the invariant checks). */
  async list(db: Db, q: { item?: string; partnerId?: string } = {}): Promise<PromiseRow[]> {
    let s = db('promises').orderBy([{ column: 'item' }, { column: 'location' }, { column: 'partner_id' }]);
    if (q.item) s = s.where({ item: q.item });
    if (q.partnerId) s = s.where({ partner_id: q.partnerId });
    return (await s).map(toRow);
  },

  /** Move a provisional item's promises to the item it became. */
  async rename(db: Db, from: string, to: string): Promise<void> {
    const rows = await db('promises').where({ item: from });
    await db('promises').where({ item: from }).delete();
    for (const r of rows) {
      const existing = await db('promises').where({ item: to, location: r.location, partner_id: r.partner_id }).first();
      if (existing) await db('promises').where({ item: to, location: r.location, partner_id: r.partner_id }).update({ promised: num(existing.promised) + num(r.promised), shown: num(existing.shown) + num(r.shown) });
      else await db('promises').insert({ ...r, item: to });
    }
  },
};

export interface OversellRow {
  partnerId: string;
  orderId: number;
  poNumber: string;
  lineNumber: string;
  item: string;
  location: string | null;
  ordered: number;
  committed: number;
  promised: number;
  shown: number;
  documentId: number | null;
  at: string;
}

export const oversells = {
  async record(db: Db, o: OversellRow): Promise<void> {
    await db('oversells').insert({
      partner_id: o.partnerId,
      order_id: o.orderId,
      po_number: o.poNumber,
      line_number: o.lineNumber,
      item: o.item,
      location: o.location,
      ordered: o.ordered,
      committed: o.committed,
      promised: o.promised,
      shown: o.shown,
      document_id: o.documentId,
      created_at: o.at,
    });
  },

  async list(db: Db, q: { partnerId?: string; po?: string; before?: number; limit: number }): Promise<Record<string, unknown>[]> {
    let s = db('oversells').orderBy('id', 'desc').limit(q.limit);
    if (q.partnerId) s = s.where({ partner_id: q.partnerId });
    if (q.po) s = s.where({ po_number: q.po });
    if (q.before) s = s.where('id', '<', q.before);
    return s;
  },

  async count(db: Db): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const rows = (await db('oversells').select('partner_id').count({ n: '*' }).groupBy('partner_id')) as { partner_id: string; n: unknown }[];
    for (const r of rows) out[String(r.partner_id)] = num(r.n);
    return out;
  },
};
