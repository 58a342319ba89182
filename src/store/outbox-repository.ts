import type { Db } from './db.ts';
import { num } from './db.ts';

export interface OutboxRow {
  id: number;
  partner_id: string;
  kind: string;
  source_document_id: number | null;
  source_ref: string;
  filename: string;
  content: string;
  /** Large documents (846 feeds) are files; content is then empty. */
  content_path: string | null;
  isa13: string;
  gs06: string | null;
  status: 'PENDING' | 'SENT' | 'FAILED';
  attempts: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

const row = (r: Record<string, unknown>): OutboxRow => ({ ...(r as unknown as OutboxRow), id: num(r.id), attempts: num(r.attempts), source_document_id: r.source_document_id == null ? null : num(r.source_document_id) });

export const outbox = {
  async enqueue(db: Db, o: { partnerId: string; kind: string; sourceDocumentId: number | null; sourceRef: string; filename: string; content: string; contentPath?: string; isa13: string; gs06: string | null; createdAt: string }): Promise<void> {
    await db('outbox')
      .insert({
        partner_id: o.partnerId,
        kind: o.kind,
        source_document_id: o.sourceDocumentId,
        source_ref: o.sourceRef,
        filename: o.filename,
        content: o.content,
        content_path: o.contentPath ?? null,
        isa13: o.isa13,
        gs06: o.gs06,
        status: 'PENDING',
        created_at: o.createdAt,
      })
      .onConflict('source_ref')
      .ignore();
  },

  async pending(db: Db, limit = 100): Promise<OutboxRow[]> {
    return (await db('outbox').where({ status: 'PENDING' }).orderBy('id').limit(limit)).map(row);
  },

  async markSent(db: Db, id: number, at: string): Promise<void> {
    await db('outbox').where({ id }).update({ status: 'SENT', sent_at: at }).increment('attempts', 1);
  },

  async markAttemptFailed(db: Db, id: number, error: string, failed: boolean): Promise<void> {
    await db('outbox').where({ id }).update({ last_error: error.slice(0, 2000), status: failed ? 'FAILED' : 'PENDING' }).increment('attempts', 1);
  },

  /**
   * Put entries back in the queue (FAILED ones, or SENT ones a partner asks for again): the same
   * file, with the same control numbers, is delivered again. Returns the ids that were requeued.
   */
  async resend(db: Db, q: { ids?: number[]; partnerId?: string; failed?: boolean }): Promise<number[]> {
    let k = db('outbox').whereIn('status', q.failed ? ['FAILED'] : ['FAILED', 'SENT']);
    if (q.ids) k = k.whereIn('id', q.ids);
    if (q.partnerId) k = k.where({ partner_id: q.partnerId });
    const ids = (await k.select('id').orderBy('id')).map((r: { id: number }) => Number(r.id));
    if (ids.length) await db('outbox').whereIn('id', ids).update({ status: 'PENDING', attempts: 0 });
    return ids;
  },

  async forDocument(db: Db, documentId: number): Promise<OutboxRow[]> {
    return (await db('outbox').where({ source_document_id: documentId }).orderBy('id')).map(row);
  },

  async all(db: Db): Promise<OutboxRow[]> {
    return (await db('outbox').orderBy('id')).map(row);
  },
};

/** What we send that a partner acknowledges with a 997: those entries await one once sent. */
export const ACKED_KINDS = ['846', '856'];

/**
 * What became of a sent entry at the partner: its 997's verdict, `awaited`, `overdue` once the
 * partner's window has passed, or null when no 997 is expected.
 */
export function ackState(o: { kind: string; status: string; ack_status: string | null; sent_at: string | null }, windowMinutes: number, now: number): string | null {
  if (o.ack_status) return o.ack_status;
  if (!ACKED_KINDS.includes(o.kind) || o.status !== 'SENT') return null;
  return now - Date.parse(String(o.sent_at)) > windowMinutes * 60_000 ? 'overdue' : 'awaited';
}
