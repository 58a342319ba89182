import type { Db } from './db.ts';
import { countsForFeed, feeds } from './feed-repository.ts';
import { num } from './db.ts';

/**
 * WAITING: some events wait for what they refer to (applied when it arrives); HELD: some are in
 * conflict with what was applied under their business key (for an admin); EXPIRED: what they waited
 * for did not come in time; DISCARDED: an admin dropped what was held; FAILED: our own code failed
 * on it maxProcessAttempts times (a replay after a fix processes it).
 */
export type InboundStatus = 'RECEIVED' | 'PROCESSED' | 'PARTIAL' | 'REJECTED' | 'DUPLICATE' | 'PARKED' | 'WAITING' | 'HELD' | 'EXPIRED' | 'DISCARDED' | 'FAILED';

export interface DocumentRow {
  id: number;
  direction: 'in' | 'out';
  partner_id: string | null;
  channel: string;
  filename: string;
  source_path: string | null;
  source_done: boolean;
  sha256: string;
  size: number;
  raw_path: string;
  format: string | null;
  status: string;
  error_code: string | null;
  error_message: string | null;
  set_ids: string | null;
  isa13s: string | null;
  event_count: number;
  attempts: number;
  correlation_id: string;
  received_at: string;
  processed_at: string | null;
  replay_of: number | null;
}

/** Filters of the documents list (all optional); newest first, keyset pagination on the id. */
export interface DocumentQuery {
  limit: number;
  before?: number;
  partnerId?: string;
  direction?: 'in' | 'out';
  set?: string;
  status?: string;
  from?: string;
  to?: string;
  po?: string;
  control?: string;
  /** A flow: the documents with this correlation id, those of the order it is the id of, and those acknowledging what was sent for it. */
  correlation?: string;
}

function row(r: Record<string, unknown> | undefined): DocumentRow | undefined {
  if (!r) return undefined;
  return {
    ...(r as unknown as DocumentRow),
    id: num(r.id),
    size: num(r.size),
    event_count: num(r.event_count),
    attempts: num(r.attempts),
    source_done: !!r.source_done,
    replay_of: r.replay_of === null || r.replay_of === undefined ? null : num(r.replay_of),
  };
}

export const documents = {
  async insertReceived(
    db: Db,
    d: { partnerId: string | null; channel: string; filename: string; sourcePath: string | null; sha256: string; size: number; rawPath: string; format: string; correlationId: string; receivedAt: string; claimedBy?: string; leaseUntil?: string },
  ): Promise<number> {
    const [r] = await db('documents')
      .insert({
        direction: 'in',
        partner_id: d.partnerId,
        channel: d.channel,
        filename: d.filename,
        source_path: d.sourcePath,
        source_done: d.sourcePath === null,
        sha256: d.sha256,
        size: d.size,
        raw_path: d.rawPath,
        format: d.format,
        status: 'RECEIVED',
        correlation_id: d.correlationId,
        received_at: d.receivedAt,
        claimed_by: d.claimedBy?.slice(0, 128) ?? null,
        lease_until: d.leaseUntil ?? null,
      })
      .returning('id');
    return num(typeof r === 'object' ? (r as { id: unknown }).id : r);
  },

  /** A document received from this source whose source file was not yet moved away (crash recovery). */
  async findUnfinishedSource(db: Db, channel: string, filename: string, sha256: string): Promise<DocumentRow | undefined> {
    return row(await db('documents').where({ channel, filename, sha256, source_done: false }).orderBy('id', 'desc').first());
  },

  async get(db: Db, id: number): Promise<DocumentRow | undefined> {
    return row(await db('documents').where({ id }).first());
  },

  /**
   * Claim unfinished inbound documents (RECEIVED, or processed with their source not yet settled)
   * whose lease ran out (their holder died) or that nobody holds; `all`: every one (SQLite at
   * start: the data dir lock says the gateway that held them is gone). Oldest first.
   */
  async claimUnfinished(db: Db, owner: string, now: Date, leaseMs: number, opts: { all?: boolean; limit?: number; afterId?: number } = {}): Promise<DocumentRow[]> {
    const at = now.toISOString();
    const until = new Date(now.getTime() + leaseMs).toISOString();
    const unfinished = (q: Db) => {
      let w = q('documents')
        .where({ direction: 'in' })
        .andWhere((x) => x.where({ status: 'RECEIVED' }).orWhere({ source_done: false }))
        .orderBy('id')
        .limit(opts.limit ?? 100)
        .select('id');
      if (!opts.all) w = w.andWhere((x) => x.whereNull('lease_until').orWhere('lease_until', '<', at));
      if (opts.afterId) w = w.andWhere('id', '>', opts.afterId);
      return w;
    };
    const claim = { claimed_by: owner.slice(0, 128), lease_until: until };
    if (db.client.config.client === 'pg') {
      // One statement (one round trip): the rows locked and skipped by other claimants, claimed, returned.
      const rows = (await db('documents').whereIn('id', unfinished(db).forUpdate().skipLocked()).update(claim).returning('*')) as Record<string, unknown>[];
      return rows.map((r) => row(r)!).sort((a, b) => a.id - b.id);
    }
    // SQLite: one writer; the select and the update in one transaction.
    return db.transaction(async (trx) => {
      const ids = (await unfinished(trx)).map((r: { id: unknown }) => num(r.id));
      if (!ids.length) return [];
      await trx('documents').whereIn('id', ids).update(claim);
      return (await trx('documents').whereIn('id', ids).orderBy('id')).map((r) => row(r)!);
    });
  },

  /**
   * The document's row, locked until the transaction ends (PostgreSQL): whoever processes it
   * holds this lock, so two instances never process one document at once; the second sees the
   * status the first committed.
   */
  async lockForWork(trx: Db, id: number): Promise<DocumentRow | undefined> {
    let q = trx('documents').where({ id });
    if (trx.client.config.client === 'pg') q = q.forUpdate();
    return row(await q.first());
  },

  /** A document names this source file and has not settled it yet (it is being worked on). */
  async recordedSource(db: Db, sourcePath: string): Promise<boolean> {
    return !!(await db('documents').where({ source_path: sourcePath, source_done: false }).first('id'));
  },

  async finish(
    db: Db,
    id: number,
    f: { status: InboundStatus; format: string; partnerId: string | null; errorCode: string | null; errorMessage: string | null; setIds: string; isa13s: string; eventCount: number; processedAt: string },
  ): Promise<void> {
    await db('documents')
      .where({ id })
      .update({
        status: f.status,
        format: f.format,
        partner_id: f.partnerId,
        error_code: f.errorCode,
        error_message: f.errorMessage,
        set_ids: f.setIds.slice(0, 128),
        isa13s: f.isa13s.slice(0, 256),
        event_count: f.eventCount,
        processed_at: f.processedAt,
      })
      .increment('attempts', 1);
    // In the same transaction: the partner's feed is alive only when a business document counts.
    if (f.partnerId && countsForFeed(f.status, f.setIds)) {
      const d = await db('documents').where({ id }).first('received_at', 'replay_of');
      if (d && d.replay_of == null) await feeds.touch(db, f.partnerId, String(d.received_at), id);
    }
  },

  /** A processing attempt starts (committed before it, so a process that dies in it leaves the count); the count. */
  async countStart(db: Db, id: number): Promise<number> {
    await db('documents').where({ id }).increment('starts', 1);
    const r = await db('documents').where({ id }).first('starts');
    return num(r?.starts);
  },

  /** A start that ended in a transient error is not a crash (see countStart's use in the pipeline). */
  async uncountStart(db: Db, id: number): Promise<void> {
    await db('documents').where({ id }).andWhere('starts', '>', 0).decrement('starts', 1);
  },

  /** One more failed processing attempt (in its own transaction: the failed one rolled back); the count after it. */
  async countFailure(db: Db, id: number): Promise<number> {
    await db('documents').where({ id }).increment('attempts', 1);
    const r = await db('documents').where({ id }).first('attempts');
    return num(r?.attempts);
  },

  /** Our own code failed on the document for good: FAILED with the reason (dead letters; a replay after a fix). */
  async fail(db: Db, id: number, f: { code: string; message: string; at: string }): Promise<void> {
    await db('documents').where({ id }).update({ status: 'FAILED', error_code: f.code, error_message: f.message, processed_at: f.at });
  },

  async markSourceDone(db: Db, id: number): Promise<void> {
    await db('documents').where({ id }).update({ source_done: true, lease_until: null });
  },

  async list(db: Db, q: DocumentQuery): Promise<DocumentRow[]> {
    let k = db('documents').orderBy('id', 'desc').limit(q.limit);
    if (q.before) k = k.where('id', '<', q.before);
    if (q.status) k = k.where({ status: q.status });
    if (q.partnerId) k = k.where({ partner_id: q.partnerId });
    if (q.direction) k = k.where({ direction: q.direction });
    if (q.from) k = k.where('received_at', '>=', q.from);
    if (q.to) k = k.where('received_at', '<', q.to);
    // set_ids is "850" or "850,997": match a whole entry.
    // An XML feed is "xml:<its mapping>" once processed: set=xml finds them all, set=xml:<mapping> one kind.
    if (q.set) {
      const set = q.set;
      k = k.where((w) => {
        w.where('set_ids', set).orWhereLike('set_ids', `${set},%`).orWhereLike('set_ids', `%,${set}`).orWhereLike('set_ids', `%,${set},%`);
        if (set === 'xml') w.orWhereLike('set_ids', 'xml:%');
      });
    }
    if (q.po) k = k.whereIn('id', db('document_refs').select('document_id').where({ kind: 'po', value: q.po }));
    if (q.correlation) {
      const c = q.correlation;
      k = k.where((w) =>
        w
          .where('correlation_id', c)
          .orWhereIn('id', db('document_refs as r').join('orders as o', 'o.po_number', 'r.value').where({ 'r.kind': 'po', 'o.correlation_id': c }).select('r.document_id'))
          .orWhereIn('id', db('outbox').where({ correlation_id: c }).whereNotNull('ack_document_id').select('ack_document_id')),
      );
    }
    if (q.control) k = k.whereIn('id', db('document_refs').select('document_id').whereIn('kind', ['isa13', 'gs06']).where('value', q.control.replace(/^0+(?=\d)/, '')));
    return (await k).map((r) => row(r)!);
  },

  /**
   * The flows a document belongs to: the correlation ids of the orders it refers to (an 850 its
   * own, a 945 or 856 the PO's it ships, an 860 the PO's it changes).
   */
  async flowsOf(db: Db, documentId: number): Promise<string[]> {
    const rows = (await db('document_refs as r').join('orders as o', 'o.po_number', 'r.value').where({ 'r.document_id': documentId, 'r.kind': 'po' }).whereNotNull('o.correlation_id').distinct('o.correlation_id')) as { correlation_id: string }[];
    return rows.map((r) => r.correlation_id).sort();
  },

  /**
   * The dead letters (as `documents as d`): inbound documents rejected, parked, partly applied,
   * held, expired or failed, and not replayed successfully since (GET /dead-letters, the metrics).
   */
  deadLetters(db: Db) {
    return db('documents as d')
      .where('d.direction', 'in')
      .whereIn('d.status', ['REJECTED', 'PARKED', 'PARTIAL', 'HELD', 'EXPIRED', 'FAILED'])
      .whereNotExists(db('documents as r').whereRaw('r.replay_of = d.id').whereIn('r.status', ['PROCESSED', 'DUPLICATE']));
  },

  /** Record what a document can be found by (control numbers without leading zeros). */
  async addRefs(db: Db, documentId: number, refs: { kind: 'po' | 'isa13' | 'gs06'; value: string }[]): Promise<void> {
    const seen = new Set<string>();
    const rows = [];
    for (const r of refs) {
      const value = (r.kind === 'po' ? r.value : r.value.replace(/^0+(?=\d)/, '')).slice(0, 64);
      const key = `${r.kind}:${value}`;
      if (!value || seen.has(key)) continue;
      seen.add(key);
      rows.push({ document_id: documentId, kind: r.kind, value });
    }
    for (let i = 0; i < rows.length; i += 200) await db('document_refs').insert(rows.slice(i, i + 200)).onConflict(['kind', 'value', 'document_id']).ignore();
  },

  /** A new document for a replay of `of`: the same stored bytes, processed again. */
  async insertReplay(db: Db, of: DocumentRow, at: string, correlationId: string, claim?: { by: string; until: string }): Promise<number> {
    const [r] = await db('documents')
      .insert({
        direction: 'in',
        partner_id: of.partner_id,
        channel: `replay:${of.channel}`.slice(0, 32),
        filename: of.filename,
        source_path: null,
        source_done: true,
        sha256: of.sha256,
        size: of.size,
        raw_path: of.raw_path,
        format: of.format,
        status: 'RECEIVED',
        correlation_id: correlationId,
        received_at: at,
        replay_of: of.id,
        claimed_by: claim?.by.slice(0, 128) ?? null,
        lease_until: claim?.until ?? null,
      })
      .returning('id');
    return num(typeof r === 'object' ? (r as { id: unknown }).id : r);
  },

  async countByStatus(db: Db): Promise<Record<string, number>> {
    const rows = await db('documents').select('status').count({ n: '*' }).groupBy('status');
    return Object.fromEntries((rows as Record<string, unknown>[]).map((r) => [String(r.status), num(r.n)]));
  },
};
