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
  /** The flow it belongs to: its order's correlation id (an 855, 940, 856), or its document's (a 997). */
  correlation_id?: string | null;
}

const row = (r: Record<string, unknown>): OutboxRow => ({ ...(r as unknown as OutboxRow), id: num(r.id), attempts: num(r.attempts), source_document_id: r.source_document_id == null ? null : num(r.source_document_id) });

export const outbox = {
  async enqueue(db: Db, o: { partnerId: string; kind: string; sourceDocumentId: number | null; sourceRef: string; filename: string; content: string; contentPath?: string; isa13: string; gs06: string | null; createdAt: string; correlationId?: string | null }): Promise<void> {
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
        correlation_id: o.correlationId ?? null,
      })
      .onConflict('source_ref')
      .ignore();
  },

  async pending(db: Db, limit = 100): Promise<OutboxRow[]> {
    return (await db('outbox').where({ status: 'PENDING' }).orderBy('id').limit(limit)).map(row);
  },

  /**
   * Claim pending entries for delivery: each is given to one claimant for `leaseMs` (on
   * PostgreSQL the rows are locked with SKIP LOCKED, so instances claiming at once take different
   * entries; SQLite has one writer). An entry whose claimant died is claimable again once its
   * lease has run out.
   */
  async claim(db: Db, owner: string, now: Date, leaseMs: number, limit = 100): Promise<OutboxRow[]> {
    return outbox.claimFor(db, owner, null, now, leaseMs, limit);
  },

  /** claim(), only entries of these partners (those the claimant has a channel for). */
  async claimFor(db: Db, owner: string, partnerIds: string[] | null, now: Date, leaseMs: number, limit = 100): Promise<OutboxRow[]> {
    const at = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    return db.transaction(async (trx) => {
      let q = trx('outbox')
        .where({ status: 'PENDING' })
        .andWhere((w) => w.whereNull('lease_until').orWhere('lease_until', '<', at))
        .orderBy('id')
        .limit(limit)
        .select('id');
      if (partnerIds) q = q.whereIn('partner_id', partnerIds);
      if (trx.client.config.client === 'pg') q = q.forUpdate().skipLocked();
      const ids = (await q).map((r: { id: unknown }) => num(r.id));
      if (!ids.length) return [];
      await trx('outbox').whereIn('id', ids).update({ claimed_by: owner.slice(0, 128), lease_until: until });
      return (await trx('outbox').whereIn('id', ids).orderBy('id')).map(row);
    });
  },

  /** How many entries of this kind to a partner have a source ref starting with `prefix` (the revisions of an 855, the releases of a PO's 940s). */
  async countByRef(db: Db, partnerId: string, kind: string, prefix: string): Promise<number> {
    const [r] = await db('outbox').where({ partner_id: partnerId, kind }).andWhere('source_ref', 'like', `${prefix}%`).count({ n: '*' });
    return num(r.n);
  },

  /** Claim one entry (the CLI's `emit`): false when someone else holds it (a running gateway delivers it). */
  async claimOne(db: Db, id: number, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const at = now.toISOString();
    const n = await db('outbox')
      .where({ id, status: 'PENDING' })
      .andWhere((w) => w.whereNull('lease_until').orWhere('lease_until', '<', at))
      .update({ claimed_by: owner.slice(0, 128), lease_until: new Date(now.getTime() + leaseMs).toISOString() });
    return n === 1;
  },

  /** Give a claimed entry back (shutdown): pending for whoever claims it next. */
  async release(db: Db, id: number, owner: string): Promise<void> {
    await db('outbox').where({ id, claimed_by: owner, status: 'PENDING' }).update({ lease_until: null });
  },

  /** Every claim void (SQLite at start: the gateway that made them is gone). */
  async releaseAll(db: Db): Promise<void> {
    await db('outbox').whereNotNull('lease_until').update({ lease_until: null });
  },

  /** Delivered: only the claimant's word counts (after its lease ran out, another may have it). */
  async markSent(db: Db, id: number, at: string, owner?: string): Promise<void> {
    let q = db('outbox').where({ id });
    if (owner) q = q.andWhere({ claimed_by: owner });
    await q.update({ status: 'SENT', sent_at: at, lease_until: null }).increment('attempts', 1);
  },

  async markAttemptFailed(db: Db, id: number, error: string, failed: boolean, owner?: string): Promise<void> {
    let q = db('outbox').where({ id });
    if (owner) q = q.andWhere({ claimed_by: owner });
    await q.update({ last_error: error.slice(0, 2000), status: failed ? 'FAILED' : 'PENDING', lease_until: null }).increment('attempts', 1);
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
    if (ids.length) await db('outbox').whereIn('id', ids).update({ status: 'PENDING', attempts: 0, claimed_by: null, lease_until: null });
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
export const ACKED_KINDS = ['846', '855', '856', '940'];

/**
 * What became of a sent entry at the partner: its 997's verdict, `awaited`, `overdue` once the
 * partner's window has passed, or null when no 997 is expected.
 */
export function ackState(o: { kind: string; status: string; ack_status: string | null; sent_at: string | null }, windowMinutes: number, now: number): string | null {
  if (o.ack_status) return o.ack_status;
  if (!ACKED_KINDS.includes(o.kind) || o.status !== 'SENT') return null;
  return now - Date.parse(String(o.sent_at)) > windowMinutes * 60_000 ? 'overdue' : 'awaited';
}
