import { idKeys, idKeyString, isProvisional, provisionalKey, type IdKey } from '../domain/identity.ts';
import { movement, type Movement } from '../domain/availability.ts';
import { insertRows, literal, positions } from './availability-repository.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';
import { promises } from './promise-repository.ts';

/**
 * Item identity in the store (src/domain/identity.ts): the ids of provisional items, their
 * creation, merging (two provisional items seen on one line are one item) and promotion (a
 * crosswalk entry names one: it becomes that SKU without losing its positions, orders or promises).
 */
export type Resolved = { item: string; provisional: boolean } | { conflict: string[] } | null;

export interface ResolveLine {
  sku?: string;
  ids?: Record<string, string>;
}

export interface SeenIn {
  partnerId: string;
  documentId: number | null;
  set: string;
  at: string;
}

/** The SKUs a line's ids name in a crosswalk (each id on its own). */
type Lookup = (ids: Record<string, string>) => string[];

async function idsToItems(db: Db, keys: IdKey[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const uniq = new Map(keys.map((k) => [idKeyString(k), k]));
  const list = [...uniq.values()];
  // Nothing to find in an empty table (the usual case until an unknown item shows up).
  if (!list.length || !(await db('item_ids').first('item'))) return out;
  // A row-value IN list seeks the primary key (scope, qualifier, value) on SQLite and PostgreSQL.
  for (let i = 0; i < list.length; i += 2000) {
    const values = list.slice(i, i + 2000).map((k) => `(${literal(k.scope)}, ${literal(k.qualifier)}, ${literal(k.value)})`).join(',');
    const rows = (await db.raw(`select scope, qualifier, value, item from item_ids where (scope, qualifier, value) in (values ${values})`)) as unknown;
    for (const r of rowsOf(rows)) out.set(idKeyString({ scope: String(r.scope), qualifier: String(r.qualifier), value: String(r.value) }), String(r.item));
  }
  return out;
}

/** knex raw results: an array on SQLite, { rows } on PostgreSQL. */
function rowsOf(r: unknown): Record<string, unknown>[] {
  return Array.isArray(r) ? (r as Record<string, unknown>[]) : ((r as { rows: Record<string, unknown>[] }).rows ?? []);
}

/**
 * Resolve many lines at once: the crosswalk first (two SKUs: a conflict), else the provisional
 * item that holds any of the line's ids (several: merged into one), else a new provisional item.
 */
export async function resolveItems(db: Db, partnerId: string, lines: ResolveLine[], lookup: Lookup | null, seen: SeenIn): Promise<Resolved[]> {
  const out: Resolved[] = new Array(lines.length).fill(null);
  const pending: { i: number; keys: IdKey[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    const ids = l.ids ?? {};
    const skus = lookup ? lookup(ids) : [];
    if (l.sku && !skus.includes(l.sku)) skus.push(l.sku);
    if (skus.length > 1) out[i] = { conflict: skus.sort() };
    else if (skus.length === 1) out[i] = { item: skus[0], provisional: false };
    else {
      const keys = idKeys(partnerId, ids);
      if (keys.length) pending.push({ i, keys });
    }
  }
  if (!pending.length) return out;
  const known = await idsToItems(db, pending.flatMap((p) => p.keys));
  // Items merged in this batch: follow to the surviving one.
  const mergedInto = new Map<string, string>();
  const follow = (item: string) => {
    let x = item;
    while (mergedInto.has(x)) x = mergedInto.get(x)!;
    return x;
  };
  const created = new Set<string>();
  const newIds: { key: IdKey; item: string }[] = [];
  const touched = new Map<string, number>();
  // Readable keys already taken (by an item whose ids moved away in a merge or promotion).
  const candidates = [...new Set(pending.filter((p) => p.keys.every((k) => !known.has(idKeyString(k)))).map((p) => provisionalKey(p.keys)))];
  const taken = new Set<string>();
  for (let i = 0; i < candidates.length; i += 500) for (const r of await db('provisional_items').whereIn('item', candidates.slice(i, i + 500)).select('item')) taken.add(String(r.item));
  for (const { i, keys } of pending) {
    const items = [...new Set(keys.map((k) => known.get(idKeyString(k))).filter((x): x is string => !!x).map(follow))].sort();
    let item: string;
    if (!items.length) {
      item = provisionalKey(keys);
      for (let n = 2; created.has(item) || taken.has(item); n++) item = `${provisionalKey(keys)}#${n}`;
      created.add(item);
    } else {
      item = items[0];
      for (const other of items.slice(1)) {
        mergedInto.set(other, item);
        await mergeItem(db, other, item, 'MERGED', seen.at);
      }
    }
    for (const k of keys) {
      const ks = idKeyString(k);
      if (known.get(ks) !== item) {
        if (!known.has(ks)) newIds.push({ key: k, item });
        known.set(ks, item);
      }
    }
    touched.set(item, (touched.get(item) ?? 0) + 1);
    out[i] = { item, provisional: true };
  }
  const seenIn = JSON.stringify([seen]);
  await insertRows(db, 'provisional_items', ['item', 'first_partner_id', 'first_document_id', 'first_seen_at', 'last_seen_at', 'seen', 'status', 'seen_in'], [...created].map((item) => [item, seen.partnerId, seen.documentId, seen.at, seen.at, touched.get(item) ?? 1, 'PROVISIONAL', seenIn]));
  await insertRows(db, 'item_ids', ['scope', 'qualifier', 'value', 'item'], newIds.filter((n) => created.has(n.item)).map((n) => [n.key.scope, n.key.qualifier, n.key.value, n.item]));
  for (const n of newIds.filter((x) => !created.has(x.item))) await db('item_ids').insert({ ...n.key, item: n.item }).onConflict(['scope', 'qualifier', 'value']).merge();
  // Items seen before: counted, and (for documents of a few of them) where they were seen.
  const again = [...touched.keys()].filter((i) => !created.has(i));
  if (again.length <= 50) {
    for (const item of again) {
      const row = await db('provisional_items').where({ item }).first();
      if (!row) continue;
      const where = JSON.parse(row.seen_in ?? '[]') as SeenIn[];
      if (!where.some((w) => w.documentId === seen.documentId && w.set === seen.set)) where.push(seen);
      await db('provisional_items').where({ item }).update({ seen: num(row.seen) + touched.get(item)!, last_seen_at: seen.at, seen_in: JSON.stringify(where.slice(-20)) });
    }
  } else {
    for (let j = 0; j < again.length; j += 500) await db('provisional_items').whereIn('item', again.slice(j, j + 500)).update({ seen: db.raw('seen + 1'), last_seen_at: seen.at });
  }
  for (let i = 0; i < out.length; i++) {
    const r = out[i];
    if (r && 'item' in r && r.provisional) out[i] = { item: follow(r.item), provisional: true };
  }
  return out;
}

/** Everything of `from` becomes `to`'s: positions (as movements), order lines, promises, ids. */
export async function mergeItem(db: Db, from: string, to: string, status: 'MERGED' | 'PROMOTED', at: string): Promise<void> {
  if (from === to) return;
  const list: Movement[] = [];
  for (const p of await positions.forItem(db, from)) {
    const d = { dOnHand: p.onHand, dCommitted: p.committed, dInTransit: p.inTransit, dHold: p.hold, dDamaged: p.damaged, dWhHeld: p.whHeld, dSafety: p.safetyStock, reason: status === 'MERGED' ? 'merged' : 'promoted' };
    list.push(movement(from, p.location, 'merge', { ...neg(d), ref: to }));
    list.push(movement(to, p.location, 'merge', { ...d, ref: from }));
  }
  await positions.apply(db, list, { eventSeq: null, documentId: null, partnerId: null, at });
  await db('order_lines').where({ item: from }).update({ item: to });
  await db('item_ids').where({ item: from }).update({ item: to });
  await promises.rename(db, from, to);
  await db('provisional_items').where({ item: from }).update({ status, became: to, last_seen_at: at });
}

function neg<T extends Record<string, unknown>>(d: T): T {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) o[k] = typeof v === 'number' ? -v : v;
  return o as T;
}

/**
 * Provisional items a crosswalk now names become those SKUs (at start and after a mapping
 * change). Returns what was promoted, and the items whose ids name two SKUs (left as they are).
 */
export async function promoteProvisional(db: Db, lookupFor: (partnerId: string | null) => Lookup | null, partnerIds: string[], at: string): Promise<{ promoted: { from: string; to: string }[]; conflicts: { item: string; skus: string[] }[] }> {
  const promoted: { from: string; to: string }[] = [];
  const conflicts: { item: string; skus: string[] }[] = [];
  const open = await db('provisional_items').where({ status: 'PROVISIONAL' }).select('item');
  for (const { item } of open) {
    const ids = await db('item_ids').where({ item });
    const skus = new Set<string>();
    for (const r of ids) {
      const scopes = r.scope ? [String(r.scope)] : [null, ...partnerIds];
      for (const s of scopes) {
        for (const sku of lookupFor(s)?.({ [String(r.qualifier)]: String(r.value) }) ?? []) skus.add(sku);
      }
    }
    if (skus.size === 1) {
      const to = [...skus][0];
      await mergeItem(db, String(item), to, 'PROMOTED', at);
      promoted.push({ from: String(item), to });
    } else if (skus.size > 1) conflicts.push({ item: String(item), skus: [...skus].sort() });
  }
  return { promoted, conflicts };
}

export const provisionalItems = {
  async list(db: Db, q: { status?: string; limit: number }): Promise<Record<string, unknown>[]> {
    let s = db('provisional_items').orderBy('first_seen_at', 'desc').limit(q.limit);
    if (q.status) s = s.where({ status: q.status });
    const rows = await s;
    const items = rows.map((r) => String(r.item));
    const ids = items.length ? await db('item_ids').whereIn('item', items) : [];
    return rows.map((r) => ({
      item: r.item,
      status: r.status,
      became: r.became ?? undefined,
      ids: ids.filter((x) => x.item === r.item).map((x) => ({ qualifier: x.qualifier, value: x.value, ...(x.scope ? { partner: x.scope } : {}) })),
      firstSeen: { partner: r.first_partner_id, documentId: r.first_document_id == null ? null : num(r.first_document_id), at: r.first_seen_at },
      lastSeenAt: r.last_seen_at,
      lines: num(r.seen),
      seenIn: JSON.parse(r.seen_in ?? '[]'),
    }));
  },

  /** The ids a provisional item holds (for publishing it with a partner's qualifiers). */
  async idsOf(db: Db, items: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    const list = items.filter(isProvisional);
    for (let i = 0; i < list.length; i += 400) {
      // Scope filtered here: with it in SQL, SQLite would scan the primary key (scope first) instead of the item index.
      for (const r of await db('item_ids').whereIn('item', list.slice(i, i + 400))) {
        if (r.scope) continue;
        const m = out.get(String(r.item)) ?? {};
        m[String(r.qualifier)] ??= String(r.value);
        out.set(String(r.item), m);
      }
    }
    return out;
  },
};
