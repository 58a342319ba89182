import type { Db } from './db.ts';

export const interchanges = {
  /** Accepted before (wholly): a resend of the same ISA13 is a duplicate. */
  async wasAccepted(db: Db, partnerId: string, isa13: string): Promise<boolean> {
    const r = await db('interchanges').where({ partner_id: partnerId, isa13, status: 'ACCEPTED' }).first('id');
    return !!r;
  },

  /**
   * Record an interchange of a document. An ACCEPTED one is unique per (partner, ISA13) unless it
   * is a replay's: a second instance accepting the same interchange at the same moment fails here
   * (its transaction rolls back, and its retry finds the interchange a duplicate).
   */
  async record(db: Db, r: { documentId: number; seq: number; partnerId: string | null; sender: string; receiver: string; isa13: string; status: string; createdAt: string; replay?: boolean }): Promise<void> {
    await db('interchanges').insert({
      document_id: r.documentId,
      seq: r.seq,
      partner_id: r.partnerId,
      sender: r.sender,
      receiver: r.receiver,
      isa13: r.isa13,
      status: r.status,
      created_at: r.createdAt,
      replay: !!r.replay,
    });
  },
};
