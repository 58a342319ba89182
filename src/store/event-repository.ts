import type { CanonicalEvent } from '../domain/events.ts';
import type { Db } from './db.ts';
import { num } from './db.ts';

export const events = {
  /**
   * Append events; one already recorded under the same idempotency key is not appended again.
   * Returns the log sequence number of each event appended, by event id.
   */
  async append(db: Db, documentId: number, interchangeSeq: number, groupSeq: number, list: CanonicalEvent[], recordedAt: string): Promise<Map<string, number>> {
    const inserted = new Map<string, number>();
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
      const res = (await db('events').insert(rows).onConflict('idempotency_key').ignore().returning(['seq', 'id'])) as { seq: unknown; id: string }[];
      for (const r of res) inserted.set(r.id, num(r.seq));
    }
    return inserted;
  },

  async forDocument(db: Db, documentId: number): Promise<CanonicalEvent[]> {
    const rows = await db('events').where({ document_id: documentId }).orderBy('seq');
    return rows.map((r) => JSON.parse(r.payload));
  },

  async bySeq(db: Db, seq: number): Promise<CanonicalEvent | undefined> {
    const r = await db('events').where({ seq }).first('payload');
    return r ? (JSON.parse(r.payload) as CanonicalEvent) : undefined;
  },

  async count(db: Db, where: Record<string, unknown> = {}): Promise<number> {
    const [r] = await db('events').where(where).count({ n: '*' });
    return num(r.n);
  },
};
