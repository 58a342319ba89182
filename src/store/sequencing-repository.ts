import type { Db } from './db.ts';
import { num } from './db.ts';

export interface HeldRow {
  id: number;
  event_seq: number;
  document_id: number;
  partner_id: string;
  status: 'WAITING' | 'CONFLICT' | 'APPLIED' | 'EXPIRED' | 'DISCARDED';
  waits_for: string | null;
  reason_code: string;
  reason: string;
  due_at: string | null;
  created_at: string;
  settled_at: string | null;
  settled_by: string | null;
}

const held = (r: Record<string, unknown>): HeldRow => ({ ...(r as unknown as HeldRow), id: num(r.id), event_seq: num(r.event_seq), document_id: num(r.document_id) });

export const businessKeys = {
  async get(db: Db, partnerId: string, bkey: string): Promise<{ contentHash: string; documentId: number | null } | undefined> {
    const r = await db('business_keys').where({ partner_id: partnerId, bkey }).first();
    return r ? { contentHash: String(r.content_hash), documentId: r.document_id == null ? null : num(r.document_id) } : undefined;
  },

  /** Record a key's content (a conflict an admin released replaces the content it was checked against). */
  async put(db: Db, k: { partnerId: string; bkey: string; contentHash: string; documentId: number; eventSeq: number; at: string }): Promise<void> {
    await db('business_keys')
      .insert({ partner_id: k.partnerId, bkey: k.bkey.slice(0, 300), content_hash: k.contentHash, document_id: k.documentId, event_seq: k.eventSeq, created_at: k.at })
      .onConflict(['partner_id', 'bkey'])
      .merge();
  },
};

export const heldEvents = {
  async hold(db: Db, h: { eventSeq: number; documentId: number; partnerId: string; status: 'WAITING' | 'CONFLICT'; waitsFor: string | null; code: string; reason: string; dueAt: string | null; at: string }): Promise<void> {
    await db('held_events').insert({ event_seq: h.eventSeq, document_id: h.documentId, partner_id: h.partnerId, status: h.status, waits_for: h.waitsFor, reason_code: h.code, reason: h.reason, due_at: h.dueAt, created_at: h.at });
  },

  /** Waiting events that wait for any of these keys, oldest first. */
  async waitingFor(db: Db, keys: string[]): Promise<HeldRow[]> {
    if (!keys.length) return [];
    return (await db('held_events').whereIn('waits_for', keys).andWhere({ status: 'WAITING' }).orderBy('id')).map(held);
  },

  async get(db: Db, id: number): Promise<HeldRow | undefined> {
    const r = await db('held_events').where({ id }).first();
    return r ? held(r) : undefined;
  },

  async list(db: Db, q: { status?: string; partnerId?: string; documentId?: number; limit: number; before?: number }): Promise<HeldRow[]> {
    let k = db('held_events').orderBy('id', 'desc').limit(q.limit);
    if (q.status) k = k.where({ status: q.status });
    if (q.partnerId) k = k.where({ partner_id: q.partnerId });
    if (q.documentId) k = k.where({ document_id: q.documentId });
    if (q.before) k = k.where('id', '<', q.before);
    return (await k).map(held);
  },

  async due(db: Db, now: string): Promise<HeldRow[]> {
    return (await db('held_events').where({ status: 'WAITING' }).andWhere('due_at', '<=', now).orderBy('id')).map(held);
  },

  async wait(db: Db, id: number, waitsFor: string, reason: string): Promise<void> {
    await db('held_events').where({ id }).update({ waits_for: waitsFor, reason });
  },

  async settle(db: Db, id: number, status: 'APPLIED' | 'EXPIRED' | 'DISCARDED', at: string, by: string): Promise<void> {
    await db('held_events').where({ id }).update({ status, settled_at: at, settled_by: by.slice(0, 128) });
  },

  /** How many of a document's events are still WAITING or CONFLICT. */
  async openFor(db: Db, documentId: number): Promise<{ waiting: number; conflict: number }> {
    const rows = await db('held_events').where({ document_id: documentId }).whereIn('status', ['WAITING', 'CONFLICT']).select('status').count({ n: '*' }).groupBy('status');
    const by = Object.fromEntries((rows as Record<string, unknown>[]).map((r) => [String(r.status), num(r.n)]));
    return { waiting: by.WAITING ?? 0, conflict: by.CONFLICT ?? 0 };
  },

  async countByStatus(db: Db): Promise<Record<string, number>> {
    const rows = await db('held_events').select('status').count({ n: '*' }).groupBy('status');
    return Object.fromEntries((rows as Record<string, unknown>[]).map((r) => [String(r.status), num(r.n)]));
  },
};
