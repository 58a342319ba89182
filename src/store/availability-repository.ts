import { emptyPosition, key, sumByPosition, type Movement, type Position, type SnapshotLine } from '../domain/availability.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';

const COLS = ['on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'wh_held', 'safety_stock'] as const;

/**
 * Insert many rows with multi-row statements whose values are written as SQL literals: bulk
 * movements of a 500,000-line snapshot spend more time binding parameters one by one than SQLite
 * spends storing them. Only integers, null and strings go in; strings are quoted by doubling their
 * quotes (standard SQL, the same on SQLite and PostgreSQL) and may not contain NUL.
 */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`not an integer quantity: ${v}`);
    return String(v);
  }
  const s = String(v);
  if (s.includes('\u0000')) throw new Error('NUL in a value');
  return `'${s.replace(/'/g, "''")}'`;
}

export async function insertRows(db: Db, table: string, cols: string[], rows: unknown[][], suffix = ''): Promise<void> {
  const head = `insert into ${table} (${cols.map((c) => `"${c}"`).join(',')}) values `;
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    const values = chunk.map((r) => `(${r.map(literal).join(',')})`).join(',');
    await db.raw(`${head}${values} ${suffix}`);
  }
}

function toPosition(r: Record<string, unknown>): Position {
  return {
    item: String(r.item),
    location: String(r.location),
    onHand: num(r.on_hand),
    committed: num(r.committed),
    inTransit: num(r.in_transit),
    hold: num(r.hold),
    damaged: num(r.damaged),
    whHeld: num(r.wh_held),
    safetyStock: num(r.safety_stock),
    expectedDate: (r.expected_date as string | null) ?? null,
    snapshotAsOf: (r.snapshot_as_of as string | null) ?? null,
  };
}

/**
 * Stock locks (PostgreSQL; SQLite has one writer): every transaction that reads positions to
 * decide on them (an allocation, a snapshot's differences) or moves them takes, before it reads,
 * a transaction advisory lock per bucket of the items it touches, in bucket order (no deadlock
 * between two lock sets). Row locks alone would not do: a snapshot computes its reconciliation
 * from the positions it read, so a movement committed in between would be lost from the log (the
 * chaos run found positions 8 units off a rebuild), and a position not yet created has no row to
 * lock. Buckets bound the locks one transaction holds (a 10,000-item snapshot takes at most
 * LOCK_BUCKETS, within PostgreSQL's shared lock table); two items in one bucket only wait for each other.
 */
const LOCK_BUCKETS = 256;

export async function lockStock(db: Db, items: Iterable<string>): Promise<void> {
  if (db.client.config.client !== 'pg') return;
  const uniq = [...new Set(items)];
  if (!uniq.length) return;
  // OFFSET 0 keeps the sorted subquery apart: the locks are taken in bucket order.
  await db.raw(
    `select pg_advisory_xact_lock(846, b) from (select distinct (hashtext(k) & ${LOCK_BUCKETS - 1}) as b from unnest(?::text[]) as k order by b offset 0) s`,
    [uniq],
  );
}

export const positions = {
  /** Positions for these (item, location) keys; missing ones come back empty. `lock`: to decide on them (see forItems). */
  async getMany(db: Db, keys: { item: string; location: string }[], opts: { lock?: boolean } = {}): Promise<Map<string, Position>> {
    const out = new Map<string, Position>();
    for (const p of await positions.forItems(db, keys.map((k) => k.item), opts)) out.set(key(p.item, p.location), p);
    for (const k of keys) if (!out.has(key(k.item, k.location))) out.set(key(k.item, k.location), emptyPosition(k.item, k.location));
    return out;
  },

  /**
   * Every position of these items, at every location. `lock`: for an allocation (on PostgreSQL
   * the rows are locked FOR UPDATE, in key order, until the transaction ends: two instances
   * committing the same stock take turns, so no unit is committed twice; SQLite has one writer).
   */
  async forItems(db: Db, items: string[], opts: { lock?: boolean } = {}): Promise<Position[]> {
    const out: Position[] = [];
    const uniq = [...new Set(items)].sort();
    const lock = opts.lock && db.client.config.client === 'pg';
    if (lock) await lockStock(db, uniq);
    for (let i = 0; i < uniq.length; i += 400) {
      let q = db('positions').whereIn('item', uniq.slice(i, i + 400));
      if (lock) q = q.orderBy([{ column: 'item' }, { column: 'location' }]).forUpdate();
      out.push(...(await q).map(toPosition));
    }
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
    if (after) q = q.whereRaw('(item, location) > (?, ?)', [after.item, after.location]);
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
    await lockStock(db, list.map((m) => m.item));
    // Multi-row statements through raw SQL: the query builder costs more than SQLite does here.
    await insertRows(
      db,
      'movements',
      ['event_seq', 'document_id', 'partner_id', 'item', 'location', 'kind', 'd_on_hand', 'd_committed', 'd_in_transit', 'd_hold', 'd_damaged', 'd_wh_held', 'd_safety', 'reason', 'ref', 'expected_date', 'as_of', 'dated_on_hand', 'order_id', 'created_at'],
      list.map((m) => [ctx.eventSeq, ctx.documentId, ctx.partnerId, m.item, m.location, m.kind, m.dOnHand, m.dCommitted, m.dInTransit, m.dHold, m.dDamaged, m.dWhHeld, m.dSafety, m.reason?.slice(0, 64) ?? null, m.ref?.slice(0, 128) ?? null, m.expectedDate ?? null, m.asOf ?? null, m.datedOnHand ?? null, m.orderId ?? null, ctx.at]),
    );
    const [{ seq }] = (await db('movements').max({ seq: 'seq' })) as { seq: unknown }[];
    const lastSeq = num(seq);
    // One upsert per (item, location): deltas summed.
    await insertRows(
      db,
      'positions',
      ['item', 'location', ...COLS, 'expected_date', 'last_movement_seq'],
      sumByPosition(list).map((m) => [m.item, m.location, m.dOnHand, m.dCommitted, m.dInTransit, m.dHold, m.dDamaged, m.dWhHeld, m.dSafety, m.expectedDate ?? null, lastSeq]),
      `on conflict (item, location) do update set ${COLS.map((c) => `${c} = positions.${c} + excluded.${c}`).join(', ')}, expected_date = coalesce(excluded.expected_date, positions.expected_date), last_movement_seq = excluded.last_movement_seq`,
    );
  },

  /**
   * A snapshot's absolute quantities, in bulk and in SQL: the same rule as `planSnapshot` (the
   * difference to the store is a reconciliation movement and a divergence line; the position
   * takes the stated values), without a round trip per line. Tested to agree with planSnapshot.
   */
  async applySnapshot(db: Db, lines: SnapshotLine[], ctx: { eventSeq: number; documentId: number; partnerId: string; at: string; asOf?: string | null }): Promise<{ movements: number; divergences: number; stale: { item: string; location: string; snapshotAsOf: string }[]; staleCount: number }> {
    const last = new Map<string, SnapshotLine>();
    for (const l of lines) last.set(key(l.item, l.location), l);
    await lockStock(db, lines.map((l) => l.item));
    // No key on the staging table: lines are unique already (deduplicated above) and joined through positions' key.
    await db.raw('create temp table if not exists snap_lines (item varchar(128) not null, location varchar(64) not null, on_hand bigint, damaged bigint, hold bigint, wh_held bigint)');
    await db.raw('delete from snap_lines');
    await insertRows(db, 'snap_lines', ['item', 'location', 'on_hand', 'damaged', 'hold', 'wh_held'], [...last.values()].map((l) => [l.item, l.location, l.onHand ?? null, l.damaged ?? null, l.hold ?? null, l.whHeld ?? 0]));
    const lit = (v: unknown) => literal(v);
    const asOf = ctx.asOf ?? null;
    let stale: { item: string; location: string; snapshotAsOf: string }[] = [];
    let staleCount = 0;
    if (asOf) {
      // A line older than the snapshot its position took is recorded (the event) but not applied.
      const newer = `from positions p where p.item = snap_lines.item and p.location = snap_lines.location and p.snapshot_as_of > ${lit(asOf)}`;
      const [c] = (await db.raw(`select count(*) as n from snap_lines where exists (select 1 ${newer})`).then((r) => (Array.isArray(r) ? r : r.rows))) as { n: unknown }[];
      staleCount = num(c.n);
      if (staleCount) {
        stale = (await db.raw(`select s.item, s.location, p.snapshot_as_of from snap_lines s join positions p on p.item = s.item and p.location = s.location where p.snapshot_as_of > ${lit(asOf)} order by s.location, s.item limit 20`).then((r) => (Array.isArray(r) ? r : r.rows))).map((r: Record<string, unknown>) => ({ item: String(r.item), location: String(r.location), snapshotAsOf: String(r.snapshot_as_of) }));
        await db.raw(`delete from snap_lines where exists (select 1 ${newer})`);
      }
      // Dated movements at or after the snapshot's time are not in it: they count on top of what it states.
      if (await db('movements').where('as_of', '>=', asOf).first('seq')) {
        for (const col of ['on_hand', 'hold', 'damaged']) {
          await db.raw(
            `update snap_lines set ${col} = ${col} + coalesce((select sum(${col === 'on_hand' ? 'coalesce(m.dated_on_hand, m.d_on_hand)' : `m.d_${col}`}) from movements m where m.item = snap_lines.item and m.location = snap_lines.location and m.as_of >= ${lit(asOf)}), 0) where ${col} is not null`,
          );
          await db.raw(`update snap_lines set ${col} = 0 where ${col} < 0`);
        }
      }
    }
    const joined = `from snap_lines s left join positions p on p.item = s.item and p.location = s.location`;
    const d = (col: string) => `case when s.${col} is null then 0 else s.${col} - coalesce(p.${col}, 0) end`;
    const differs = `${d('on_hand')} <> 0 or ${d('hold')} <> 0 or ${d('damaged')} <> 0 or ${d('wh_held')} <> 0`;
    await db.raw(
      `insert into divergences (event_seq, document_id, partner_id, item, location, before, after, diff, created_at)
       select ${lit(ctx.eventSeq)}, ${lit(ctx.documentId)}, ${lit(ctx.partnerId)}, s.item, s.location, coalesce(p.on_hand, 0), s.on_hand, s.on_hand - coalesce(p.on_hand, 0), ${lit(ctx.at)}
       ${joined} where s.on_hand is not null`,
    );
    const before = await positions.lastMovementSeq(db);
    await db.raw(
      `insert into movements (event_seq, document_id, partner_id, item, location, kind, d_on_hand, d_committed, d_in_transit, d_hold, d_damaged, d_wh_held, d_safety, reason, created_at)
       select ${lit(ctx.eventSeq)}, ${lit(ctx.documentId)}, ${lit(ctx.partnerId)}, s.item, s.location, 'reconciliation', ${d('on_hand')}, 0, 0, ${d('hold')}, ${d('damaged')}, ${d('wh_held')}, 0, 'snapshot', ${lit(ctx.at)}
       ${joined} where ${differs}`,
    );
    const lastSeq = await positions.lastMovementSeq(db);
    // Absolute values: what the snapshot states, else what the position had; and the snapshot's time.
    const touched = asOf ? `${differs} or p.snapshot_as_of is null or p.snapshot_as_of <> ${lit(asOf)}` : differs;
    await db.raw(
      `insert into positions (item, location, on_hand, committed, in_transit, hold, damaged, wh_held, safety_stock, last_movement_seq, snapshot_as_of)
       select s.item, s.location, coalesce(s.on_hand, p.on_hand, 0), 0, 0, coalesce(s.hold, p.hold, 0), coalesce(s.damaged, p.damaged, 0), coalesce(s.wh_held, p.wh_held, 0), 0, ${asOf ? `case when ${differs} then ${lit(lastSeq)} else coalesce(p.last_movement_seq, 0) end` : lit(lastSeq)}, ${asOf ? lit(asOf) : 'p.snapshot_as_of'}
       ${joined} where ${touched}
       on conflict (item, location) do update set on_hand = excluded.on_hand, hold = excluded.hold, damaged = excluded.damaged, wh_held = excluded.wh_held, last_movement_seq = excluded.last_movement_seq, snapshot_as_of = excluded.snapshot_as_of`,
    );
    const divergenceCount = [...last.values()].filter((l) => l.onHand !== undefined).length - staleCount;
    return { movements: lastSeq - before, divergences: divergenceCount, stale, staleCount };
  },

  /** Rebuild every position from the movement log (the log is the truth). */
  async rebuild(db: Db): Promise<number> {
    // The quantities come from the log; the time of the snapshot each position took is kept (a
    // snapshot that stated zero for a position nobody had moved leaves a row with only that).
    const asOf = (await db('positions').whereNotNull('snapshot_as_of').select('item', 'location', 'snapshot_as_of')) as { item: string; location: string; snapshot_as_of: string }[];
    await db('positions').delete();
    await db.raw(
      `insert into positions (item, location, on_hand, committed, in_transit, hold, damaged, wh_held, safety_stock, expected_date, last_movement_seq)
       select item, location, sum(d_on_hand), sum(d_committed), sum(d_in_transit), sum(d_hold), sum(d_damaged), sum(d_wh_held), sum(d_safety), max(expected_date), max(seq)
       from movements group by item, location`,
    );
    for (let i = 0; i < asOf.length; i += 5000) {
      await insertRows(
        db,
        'positions',
        ['item', 'location', ...COLS, 'last_movement_seq', 'snapshot_as_of'],
        asOf.slice(i, i + 5000).map((r) => [r.item, r.location, ...COLS.map(() => 0), 0, r.snapshot_as_of]),
        'on conflict (item, location) do update set snapshot_as_of = excluded.snapshot_as_of',
      );
    }
    return positions.count(db);
  },

  /** Item/locations moved after a movement seq (for delta publication). */
  /** Positions that moved in a range of the movement log (a range scan of its primary key). */
  async changedSince(db: Db, seq: number, upTo: number): Promise<Position[]> {
    const moved = db('movements').distinct('item', 'location').where('seq', '>', seq).andWhere('seq', '<=', upTo).as('m');
    const rows = await db('positions as p')
      .join(moved, (j) => j.on('p.item', 'm.item').andOn('p.location', 'm.location'))
      .select('p.*')
      .orderBy([{ column: 'p.location' }, { column: 'p.item' }]);
    return rows.map(toPosition);
  },

  /** Keyset page in (location, item) order: the order an 846 is written in. */
  async pageByLocation(db: Db, after: { item: string; location: string } | null, limit: number, locations?: string[]): Promise<Position[]> {
    let q = db('positions').orderBy([{ column: 'location' }, { column: 'item' }]).limit(limit);
    // A row-value comparison: both SQLite and PostgreSQL seek the (location, item) index with it.
    if (after) q = q.whereRaw('(location, item) > (?, ?)', [after.location, after.item]);
    if (locations) q = q.whereIn('location', locations);
    return (await q).map(toPosition);
  },

  async lastMovementSeq(db: Db): Promise<number> {
    const [{ seq }] = (await db('movements').max({ seq: 'seq' })) as { seq: unknown }[];
    return num(seq);
  },
};

export const divergences = {
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
  status: string;
  reason_code: string | null;
  reason: string | null;
  /** The change sequence (860 BCH05) that last set the line (0: none). */
  change_seq?: number;
  /** Base units per line unit (1/10,000); null when the line could not be converted. */
  uom_factor: number | null;
  /** A kit's component rows name the kit line. */
  parent_line: string | null;
  seq: number;
  /** What a warehouse was told to ship of it (940s), base units, cumulative. */
  released?: number;
}

export const orders = {
  async find(db: Db, partnerId: string, poNumber: string): Promise<{ id: number; status: string; cancelled: boolean } | undefined> {
    const r = await db('orders').where({ partner_id: partnerId, po_number: poNumber }).first();
    return r ? { id: num(r.id), status: String(r.status), cancelled: !!r.cancelled && r.cancelled !== 0 } : undefined;
  },

  async cancel(db: Db, id: number): Promise<void> {
    await db('orders').where({ id }).update({ cancelled: true });
  },

  /**
   * Orders newest first (keyset on the id), with their line totals: by status (OPEN, BACKORDERED,
   * SHIPPED, CANCELLED, REJECTED; `open`: OPEN or BACKORDERED; `released`: a warehouse holds an
   * open order (940) for it) and partner. `overdue`: open orders
   * whose PO asked them shipped (ship no later, ship requested) or delivered (deliver no later,
   * delivery requested) before `today`, the date it asked with them.
   */
  async list(db: Db, q: { status?: string; partnerId?: string; before?: number; limit: number; today: string }): Promise<{ id: number; partner_id: string; po_number: string; status: string; received_at: string; lines: number; ordered: number; committed: number; backordered: number; shipped: number; released: number; due?: string }[]> {
    const open = q.status === 'open' || q.status === 'overdue';
    const out: Awaited<ReturnType<typeof orders.list>> = [];
    let before = q.before;
    // Overdue needs each PO's dates: read in pages until the page is full (or the orders run out).
    for (let pages = 0; out.length < q.limit && pages < 50; pages++) {
      let sel = db('orders as o')
        .leftJoin('order_lines as l', (j) => j.on('l.order_id', 'o.id').andOnNull('l.parent_line'))
        .groupBy('o.id', 'o.partner_id', 'o.po_number', 'o.status', 'o.received_at', 'o.event_seq')
        .select('o.id', 'o.partner_id', 'o.po_number', 'o.status', 'o.received_at', 'o.event_seq')
        .count({ lines: 'l.line_number' })
        .sum({ ordered: 'l.ordered', committed: 'l.committed', backordered: 'l.backordered', shipped: 'l.shipped', released: 'l.released' })
        .orderBy('o.id', 'desc')
        .limit(q.limit);
      if (before) sel = sel.where('o.id', '<', before);
      if (q.partnerId) sel = sel.where('o.partner_id', q.partnerId);
      if (q.status === 'released') sel = sel.whereExists(db('warehouse_orders as w').whereRaw('w.order_id = o.id').andWhere('w.status', 'OPEN'));
      else if (open) sel = sel.whereIn('o.status', ['OPEN', 'BACKORDERED']);
      else if (q.status) sel = sel.where('o.status', q.status.toUpperCase());
      const rows = (await sel) as Record<string, unknown>[];
      if (!rows.length) break;
      before = num(rows.at(-1)!.id);
      const due = new Map<number, string>();
      if (q.status === 'overdue') {
        const evs = await db('events').whereIn('seq', rows.map((r) => num(r.event_seq))).select('seq', 'payload');
        for (const e of evs) {
          const d = ((JSON.parse(String(e.payload)) as { data?: { dates?: Record<string, string> } }).data?.dates ?? {}) as Record<string, string>;
          const by = d.shipNoLater ?? d.shipRequested ?? d.deliverNoLater ?? d.deliveryRequested;
          if (by) due.set(num(e.seq), by);
        }
      }
      for (const r of rows) {
        const by = due.get(num(r.event_seq));
        if (q.status === 'overdue' && !(by && by < q.today)) continue;
        out.push({ id: num(r.id), partner_id: String(r.partner_id), po_number: String(r.po_number), status: String(r.status), received_at: String(r.received_at), lines: num(r.lines), ordered: num(r.ordered), committed: num(r.committed), backordered: num(r.backordered), shipped: num(r.shipped), released: num(r.released), ...(by ? { due: by } : {}) });
        if (out.length >= q.limit) break;
      }
      if (q.status !== 'overdue') break;
    }
    return out;
  },

  /** Every partner's order with this PO number (a PO is identified by partner and number). */
  async allByPo(db: Db, poNumber: string): Promise<{ id: number; partnerId: string; eventSeq: number }[]> {
    const rows = await db('orders').where({ po_number: poNumber }).orderBy('id');
    return rows.map((r) => ({ id: num(r.id), partnerId: String(r.partner_id), eventSeq: num(r.event_seq) }));
  },

  async create(db: Db, o: { partnerId: string; poNumber: string; status: string; eventSeq: number; at: string; rank: number; correlationId?: string }): Promise<number> {
    const [r] = await db('orders').insert({ partner_id: o.partnerId, po_number: o.poNumber, status: o.status, event_seq: o.eventSeq, received_at: o.at, rank: o.rank, correlation_id: o.correlationId ?? null }).returning('id');
    return num(typeof r === 'object' ? (r as { id: unknown }).id : r);
  },

  async setStatus(db: Db, id: number, status: string): Promise<void> {
    await db('orders').where({ id }).update({ status });
  },

  async lines(db: Db, orderId: number): Promise<OrderLineRow[]> {
    return (await db('order_lines').where({ order_id: orderId }).orderBy([{ column: 'seq' }, { column: 'line_number' }])).map((r) => ({
      ...(r as OrderLineRow),
      order_id: num(r.order_id),
      ordered: num(r.ordered),
      committed: num(r.committed),
      backordered: num(r.backordered),
      shipped: num(r.shipped),
      uom_factor: r.uom_factor == null ? null : num(r.uom_factor),
      seq: num(r.seq),
      change_seq: num(r.change_seq),
      released: num(r.released),
    }));
  },

  async upsertLines(db: Db, list: OrderLineRow[]): Promise<void> {
    // Rows read from the store carry `released`; rows made anew do not, and leave it as it is (0
    // for a new line): one statement each, since a multi-row insert takes the same columns.
    for (const group of [list.filter((r) => r.released !== undefined), list.filter((r) => r.released === undefined)]) {
      for (let i = 0; i < group.length; i += 500) await db('order_lines').insert(group.slice(i, i + 500)).onConflict(['order_id', 'line_number']).merge();
    }
  },
};

export const publications = {
  async get(db: Db, partnerId: string): Promise<{ lastMovementSeq: number; lastPromiseSeq: number; lastFullAt: string | null; lastSentAt: string | null }> {
    const r = await db('publications').where({ partner_id: partnerId }).first();
    return { lastMovementSeq: num(r?.last_movement_seq), lastPromiseSeq: num(r?.last_promise_seq), lastFullAt: r?.last_full_at ?? null, lastSentAt: r?.last_sent_at ?? null };
  },

  async set(db: Db, partnerId: string, v: { lastMovementSeq: number; lastPromiseSeq: number; lastFullAt?: string; lastSentAt: string }): Promise<void> {
    const row: Record<string, unknown> = { partner_id: partnerId, last_movement_seq: v.lastMovementSeq, last_promise_seq: v.lastPromiseSeq, last_sent_at: v.lastSentAt };
    if (v.lastFullAt) row.last_full_at = v.lastFullAt;
    await db('publications').insert(row).onConflict('partner_id').merge();
  },
};

/**
 * 846 publications due (a delta after its debounce: the partner id; a scheduled full feed in
 * progress: `full:<partner>`), rows so that a restart or another instance finds them. Whoever
 * deletes a due row (or inserts a full feed's claim) is the one who sends it.
 */
export const publishDue = {
  /** Due at `at` unless a row is due already (it will include this change); when it is due now. */
  async put(db: Db, key: string, at: Date, now: Date): Promise<number | null> {
    await db('publish_due').insert({ partner_id: key, due_at: at.toISOString(), created_at: now.toISOString() }).onConflict('partner_id').ignore();
    const row = await db('publish_due').where({ partner_id: key }).first('due_at');
    return row ? Date.parse(String(row.due_at)) : null;
  },

  /** Take a row whose time has come (true: ours to send); else when it is due, if still there. */
  async take(db: Db, key: string, now: Date): Promise<true | number | null> {
    if (await db('publish_due').where({ partner_id: key }).andWhere('due_at', '<=', now.toISOString()).delete()) return true;
    const row = await db('publish_due').where({ partner_id: key }).first('due_at');
    return row ? Date.parse(String(row.due_at)) : null;
  },

  /** Claim a key until `until` (a claim run out is void): true when the claim is ours. */
  async claim(db: Db, key: string, until: Date, now: Date): Promise<boolean> {
    await db('publish_due').where({ partner_id: key }).andWhere('due_at', '<', now.toISOString()).delete();
    const claimed = await db('publish_due').insert({ partner_id: key, due_at: until.toISOString(), created_at: now.toISOString() }).onConflict('partner_id').ignore().returning('partner_id');
    return claimed.length > 0;
  },

  async remove(db: Db, key: string): Promise<void> {
    await db('publish_due').where({ partner_id: key }).delete();
  },

  async all(db: Db): Promise<{ key: string; dueAt: number }[]> {
    return (await db('publish_due').select('partner_id', 'due_at')).map((r) => ({ key: String(r.partner_id), dueAt: Date.parse(String(r.due_at)) }));
  },
};
