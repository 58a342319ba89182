import type { CanonicalEvent } from '../domain/events.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';

export const events = {
  /** Append events; one already recorded under the same idempotency key is not appended again. */
  async append(db: Db, documentId: number, interchangeSeq: number, groupSeq: number, list: CanonicalEvent[], recordedAt: string): Promise<number> {
    let inserted = 0;
    for (let i = 0; i < list.length; i += 200) {
      const rows = list.slice(i, i + 200).map((e) => ({
        id: e.id,
        idempotency_key: e.idempotencyKey,
        type: e.type,
        partner_id: e.partner,
        document_id: documentId,
        interchange_seq: interchangeSeq,
        group_seq: groupSeq,
        occurred_at: e.occurredAt,
        recorded_at: recordedAt,
        correlation_id: e.correlationId,
        payload: JSON.stringify(e),
      }));
      const res = await db('events').insert(rows).onConflict('idempotency_key').ignore().returning('seq');
      inserted += Array.isArray(res) ? res.length : 0;
    }
    return inserted;
  },

  /** Withdraw what this document appended for an interchange (or one of its groups) that was rejected at its trailer. */
  async discard(db: Db, documentId: number, interchangeSeq: number, groupSeq?: number): Promise<void> {
    let q = db('events').where({ document_id: documentId, interchange_seq: interchangeSeq });
    if (groupSeq !== undefined) q = q.where({ group_seq: groupSeq });
    await q.delete();
  },

  async forDocument(db: Db, documentId: number): Promise<CanonicalEvent[]> {
    const rows = await db('events').where({ document_id: documentId }).orderBy('seq');
    return rows.map((r) => JSON.parse(r.payload));
  },

  async count(db: Db, where: Record<string, unknown> = {}): Promise<number> {
    const [r] = await db('events').where(where).count({ n: '*' });
    return num(r.n);
  },
};
