import type { Db } from './db.ts';
import { num } from './db.ts';

/**
 * Each partner's feed (table feeds): when its last business document landed and since when the
 * partner is configured. A 997, a duplicate, a rejected or parked file does not count: a feed is
 * alive when documents that carry business come, not when anything comes.
 */
export interface FeedRow {
  partnerId: string;
  configuredAt: string;
  lastInAt: string | null;
  lastDocumentId: number | null;
}

const COUNTS = new Set(['PROCESSED', 'PARTIAL', 'WAITING']);
const ACKS = new Set(['', '997', '999', 'TA1']);

/** Whether a processed document keeps its partner's feed alive. */
export function countsForFeed(status: string, setIds: string): boolean {
  return COUNTS.has(status) && setIds.split(',').some((s) => !ACKS.has(s));
}

export const feeds = {
  /** Every configured partner has a row (its configured_at the first time it is seen). */
  async ensure(db: Db, partnerIds: string[], now: string): Promise<void> {
    for (const id of partnerIds) await db('feeds').insert({ partner_id: id, configured_at: now }).onConflict('partner_id').ignore();
  },

  /** A document of the partner's that counts landed at `receivedAt` (moves forward only). */
  async touch(db: Db, partnerId: string, receivedAt: string, documentId: number): Promise<void> {
    const cur = await db('feeds').where({ partner_id: partnerId }).first('last_in_at');
    if (!cur) await db('feeds').insert({ partner_id: partnerId, configured_at: receivedAt, last_in_at: receivedAt, last_document_id: documentId }).onConflict('partner_id').ignore();
    else if (!cur.last_in_at || String(cur.last_in_at) < receivedAt) await db('feeds').where({ partner_id: partnerId }).update({ last_in_at: receivedAt, last_document_id: documentId });
  },

  async all(db: Db): Promise<Map<string, FeedRow>> {
    const out = new Map<string, FeedRow>();
    for (const r of (await db('feeds').select()) as Record<string, unknown>[]) {
      out.set(String(r.partner_id), { partnerId: String(r.partner_id), configuredAt: String(r.configured_at), lastInAt: r.last_in_at ? String(r.last_in_at) : null, lastDocumentId: r.last_document_id == null ? null : num(r.last_document_id) });
    }
    return out;
  },
};

/** A feed's age in seconds at `now`: since its last document, or since it was configured if it never sent. */
export function feedAge(f: FeedRow, now: number): number {
  return Math.max(0, (now - Date.parse(f.lastInAt ?? f.configuredAt)) / 1000);
}
