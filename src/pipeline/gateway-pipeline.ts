import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GatewayError } from '../core/errors.ts';
import { isError, reject, type Rejection } from '../core/rejection.ts';
import { documents, type DocumentRow } from '../store/document-repository.ts';
import { isTransient } from '../core/transient.ts';
import { within } from '../core/within.ts';
import { leases } from '../store/lease-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { rejections } from '../store/rejection-repository.ts';
import type { InboundSource, IncomingFile, OutboundSink, SourceCoordination, SourceStatus } from '../transport/channel.ts';
import type { HeldRow } from '../store/sequencing-repository.ts';
import { expireWaiting, settleHeld, type ApplyResult } from './apply-events.ts';
import { ackAfterFailure, applyContext, processDocument, type InboundDeps, type ProcessOutcome } from './process-inbound.ts';
import { releaseWave } from './release-940.ts';
import { publishDue } from '../store/availability-repository.ts';

/**
 * The running pipeline: receive -> commit bytes -> process -> settle the source -> dispatch the
 * outbox. All database work goes through one queue, so a file is never processed twice at once,
 * and start-up recovery finishes whatever a crash interrupted, from the statuses in the store.
 */
export interface PipelineChannel {
  partnerId: string;
  /** Local folder and/or SFTP: each names its channel on the documents it brings. */
  sources: InboundSource[];
  /** Where this partner's outbound documents go. */
  sink: OutboundSink | null;
}

// A WAITING document was accepted and is kept: its file is archived like a processed one.
const SETTLED_OK = new Set(['PROCESSED', 'DUPLICATE', 'WAITING']);

export interface ChannelStatus extends SourceStatus {
  partner: string;
  channel: string;
  sessions?: InboundSource['sessions'];
}

export interface PipelineOptions {
  maxBytes: number;
  /** A delivery that failed this many times is marked FAILED (a resend puts it back). */
  maxDeliveryAttempts: number;
  /** The outbox is looked at this often anyway (resends from the CLI, entries from elsewhere). */
  outboxSweepMs?: number;
  /** Waiting documents whose window ended are dead-lettered this often (default: every minute). */
  heldSweepMs?: number;
  /** How long a claimed outbox entry is this instance's (another may deliver it after); default a minute. */
  deliveryLeaseMs?: number;
  /** Outbox entries claimed at a time (smaller: instances share a burst; default 100). */
  claimBatch?: number;
  /** A document our own code fails on is tried this often (backoff retryBaseMs x 4^n) before it is FAILED (default 3). */
  maxProcessAttempts?: number;
  retryBaseMs?: number;
  /**
   * Several instances (PostgreSQL): how long work this instance holds (a received document, a
   * claimed file, an SFTP channel's polling) stays its own without renewal; after that another
   * instance takes it over (default a minute).
   */
  workLeaseMs?: number;
  /** How often warehouses with 940 waves are looked at (default 30 s; each releases every waveEveryMinutes). */
  waveCheckMs?: number;
  /** At stop, how long the document and the delivery in hand may take before they are abandoned (default 30 s). */
  stopGraceMs?: number;
}

export class GatewayPipeline {
  /** Who claims outbox entries (several instances on one PostgreSQL). */
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private queue: Promise<unknown> = Promise.resolve();
  private dispatching: Promise<void> | null = null;
  private redispatch = false;
  private readonly channels = new Map<string, PipelineChannel>();
  readonly stats = { received: 0, processed: 0, dispatched: 0, failures: 0 };
  lastError: string | null = null;
  /** Called after a document moved stock (the 846 publisher listens). */
  onStockMoved: () => void = () => undefined;

  constructor(
    private readonly deps: InboundDeps,
    channels: PipelineChannel[],
    private readonly opts: PipelineOptions,
  ) {
    for (const c of channels) this.channels.set(c.partnerId, c);
  }

  /** The key figures of a processed document: its outcome, rejections, latency, the 856s and shortfalls it caused. */
  private count(doc: DocumentRow, o: ProcessOutcome): void {
    const k = this.deps.kpis;
    if (!k) return;
    const partner = doc.partner_id ?? 'unknown';
    const now = this.deps.clock.now().getTime();
    const since = (now - Date.parse(doc.received_at)) / 1000;
    k.processed.inc({ partner, status: o.status });
    for (const r of o.rejections) k.rejections.inc({ partner, code: r.code, severity: r.severity });
    if (o.status !== 'DUPLICATE' && o.status !== 'FAILED' && doc.replay_of === null) k.processing.observe({ partner }, Math.max(0, since));
    for (const a of o.asns ?? []) if (a.status === 'QUEUED' && doc.replay_of === null) k.landingTo856.observe({ partner: a.partnerId }, Math.max(0, since));
    if (o.oversells) k.oversells.inc({ partner }, o.oversells);
    if (o.backordered) k.backorders.inc({ partner }, o.backordered);
  }

  /** Each source's channel with its last error and last successful poll (for the status API). */
  channelStatus(): ChannelStatus[] {
    return [...this.channels.values()].flatMap((c) =>
      c.sources.map((s) => {
        const st = s.status;
        return {
          ...(s.sessions ? { sessions: s.sessions } : {}),
          partner: c.partnerId,
          channel: s.channel,
          lastError: st?.lastError ?? null,
          lastErrorAt: st?.lastErrorAt ?? null,
          lastPollAt: st?.lastPollAt ?? null,
          lastInboundAt: st?.lastInboundAt ?? null,
          lastOutboundAt: st?.lastOutboundAt ?? null,
        };
      }),
    );
  }

  /** Run work exclusively with document processing (the 846 publisher uses it). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(fn);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Finish what a crash interrupted, then start the sources. */
  async start(): Promise<void> {
    await this.recover();
    for (const c of this.channels.values()) {
      for (const source of c.sources) {
        source.coordination = this.coordinationFor(source);
        await source.start((f) => this.onFile(c, source, f));
      }
    }
    if (this.shared) {
      // Another instance's work, when it dies, is taken over once its lease has run out.
      this.recoverTimer = setInterval(() => void this.recover().catch((e) => this.deps.logger.error({ err: String(e) }, 'taking over unfinished documents failed')), Math.max(250, this.leaseMs / 2));
      this.recoverTimer.unref?.();
    }
    void this.dispatch();
    if (this.opts.outboxSweepMs) {
      this.sweepTimer = setInterval(() => void this.dispatch(), this.opts.outboxSweepMs);
      this.sweepTimer.unref?.();
    }
    await this.expireWaiting();
    const waves = () => void this.releaseWaves().catch((e) => this.deps.logger.error({ err: String(e) }, '940 wave failed'));
    this.waveTimer = setInterval(waves, this.opts.waveCheckMs ?? 30_000);
    this.waveTimer.unref?.();
    waves();
    this.heldTimer = setInterval(() => void this.expireWaiting().catch((e) => this.deps.logger.error({ err: String(e) }, 'expiring waiting documents failed')), this.opts.heldSweepMs ?? 60_000);
    this.heldTimer.unref?.();
  }

  private sweepTimer: NodeJS.Timeout | null = null;
  private waveTimer: NodeJS.Timeout | null = null;
  private heldTimer: NodeJS.Timeout | null = null;
  private recoverTimer: NodeJS.Timeout | null = null;

  /** Several instances may share the store (PostgreSQL); SQLite is one gateway (its data dir lock). */
  private get shared(): boolean {
    return this.deps.db.client.config.client !== 'sqlite3';
  }

  private get leaseMs(): number {
    return this.opts.workLeaseMs ?? 60_000;
  }

  /** When work this instance takes now stops being its own without renewal. */
  private leaseUntil(): string {
    return new Date(this.deps.clock.now().getTime() + this.leaseMs).toISOString();
  }

  /** How a source shares its channel with other instances: a poll lease, orphaned claims returned. */
  private coordinationFor(source: InboundSource): SourceCoordination {
    const { db, clock } = this.deps;
    const name = `poll:${source.channel}`;
    return {
      mayPoll: () => (this.shared ? leases.acquire(db, name, this.instanceId, clock.now(), this.leaseMs).catch(() => false) : Promise.resolve(true)),
      release: () => (this.shared ? leases.release(db, name, this.instanceId) : Promise.resolve()),
      isRecorded: (p) => documents.recordedSource(db, p),
      orphanAfterMs: this.shared ? this.leaseMs : null,
    };
  }

  /** Waiting events whose window ended: dead-lettered (GW_WAIT_EXPIRED). */
  async expireWaiting(): Promise<number> {
    return this.serial(async () => {
      const { db, clock, logger } = this.deps;
      const expired = await db.transaction((trx) => expireWaiting(applyContext(this.deps, trx, 0, clock.now())));
      for (const h of expired) logger.warn({ documentId: h.document_id, heldId: h.id, waitsFor: h.waits_for, code: 'GW_WAIT_EXPIRED' }, 'a waiting document expired');
      return expired.length;
    });
  }

  /**
   * Warehouses whose 940s go in waves: each whose wave is due (one instance claims it for its
   * period: the claim row's end is the next wave) releases what its 940s do not say yet.
   */
  async releaseWaves(): Promise<number> {
    const { db, clock, logger, partners } = this.deps;
    let queued = 0;
    for (const p of partners.all()) {
      if (this.stopped || p.orders940?.send !== 'waves' || !p.receives.includes('940')) continue;
      const now = clock.now();
      if (!(await publishDue.claim(db, `wave:${p.id}`, new Date(now.getTime() + p.orders940.waveEveryMinutes * 60_000), now))) continue;
      const problems: Rejection[] = [];
      const n = await this.serial(() => db.transaction((trx) => releaseWave(applyContext(this.deps, trx, 0, now), p, problems)));
      for (const r of problems) logger.error({ partner: p.id, code: r.code }, r.message);
      logger.info({ partner: p.id, queued: n }, '940 wave released');
      queued += n;
    }
    if (queued) void this.dispatch();
    return queued;
  }

  /** An admin's release or discard of a held event (in the queue, like a document). */
  async settleHeld(id: number, action: 'release' | 'discard', by: string): Promise<{ held: HeldRow; result: ApplyResult }> {
    const out = await this.serial(() => this.deps.db.transaction((trx) => settleHeld(applyContext(this.deps, trx, 0, this.deps.clock.now()), id, action, by)));
    if ('error' in out) throw new GatewayError(out.held ? 'GW_CONFLICT' : 'GW_NOT_FOUND', out.error);
    this.deps.logger.info({ heldId: id, action, by, documentId: out.held.document_id, status: out.held.status }, 'held event settled');
    if (out.result.releasedMovements > 0) this.onStockMoved();
    void this.dispatch();
    return out;
  }

  /** Sources stop first (each finishes or abandons the transfer in hand), then the queue drains. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.heldTimer) clearInterval(this.heldTimer);
    if (this.waveTimer) clearInterval(this.waveTimer);
    if (this.recoverTimer) clearInterval(this.recoverTimer);
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    for (const c of this.channels.values()) {
      for (const source of c.sources) {
        await source.stop();
        await source.coordination?.release().catch(() => undefined);
      }
    }
    // The document and the delivery in hand finish, within a grace period: one that does not (a
    // call that never returns) is abandoned as a crash would abandon it; the store's leases and
    // recovery finish it at the next start, nothing lost or applied twice.
    const graceMs = this.opts.stopGraceMs ?? 30_000;
    for (const [what, p] of [['the document in hand', this.queue], ['the delivery in hand', this.dispatching ?? Promise.resolve()]] as const) {
      if ((await within(p.catch(() => undefined), graceMs)) === 'late') this.deps.logger.warn({ what, graceMs }, 'stop: abandoned after the grace period (the next start finishes it)');
    }
  }

  /**
   * Finish unfinished documents (RECEIVED, or processed with their source not settled): at start,
   * and on PostgreSQL every half lease, those whose holder's lease ran out (it died). On SQLite the
   * data dir lock says the gateway before this one is gone: every one is ours at start.
   */
  async recover(): Promise<void> {
    await this.serial(async () => {
      const { db, clock, logger } = this.deps;
      // SQLite has one gateway (its data dir lock): at start, whatever the one before it held is ours.
      const all = !this.shared && !this.recovered;
      if (all) await outbox.releaseAll(db);
      this.recovered = true;
      // A remote source's file is finished by its next poll (same name and hash), not blindly here.
      const local = (doc: DocumentRow) => !!doc.source_path && !this.sourceOf(doc.channel)?.remote;
      const limit = 100;
      for (let more = true, afterId = 0; more && !this.stopped; ) {
        const claimed = await documents.claimUnfinished(db, this.instanceId, clock.now(), this.leaseMs, { all, limit, afterId });
        more = claimed.length === limit;
        for (const doc of claimed) {
          afterId = doc.id;
          const file = local(doc) ? { name: doc.filename, localPath: doc.source_path!, size: doc.size } : null;
          if (doc.status === 'RECEIVED') {
            logger.info({ documentId: doc.id, file: doc.filename }, 'recovering a received document');
            await this.processAndSettle(doc, file);
          } else if (file) await this.settle(doc, file, null);
        }
      }
    });
  }

  private recovered = false;

  /**
   * Receive (its own short step: bytes stored, the document recorded and claimed) outside the
   * processing queue, so that a claimed file is recorded at once even while a long document is
   * processed; then processing waits its turn.
   */
  private async onFile(c: PipelineChannel, source: InboundSource, f: IncomingFile): Promise<void> {
    const doc = await this.receive(c, source, f);
    if (!doc || source.remote) {
      // A remote source lists its files again at its next poll: it gets a file's hand-over back
      // only once the file is settled (removed or moved on the server), or it would take it twice.
      if (doc) await this.serial(() => this.processAndSettle(doc, f));
      void this.dispatch();
      return;
    }
    // A local source (its files claimed by a rename, never seen twice) may hand over its next file
    // as soon as this one is recorded (its row committed,
    // its bytes stored): processing follows in the queue. A burst is then claimed from in/ at the
    // pace of receiving, not of processing (a file waiting in in/ is polled by the watcher until
    // claimed). At most AHEAD documents wait per instance, so that instances sharing a store
    // share a burst rather than one of them claiming all of it.
    const done = this.serial(() => this.processAndSettle(doc, f))
      .catch((e) => this.settleFailed(doc.id, f, e))
      .finally(() => {
        this.ahead.delete(done);
        void this.dispatch();
      });
    this.ahead.add(done);
    while (this.ahead.size >= GatewayPipeline.AHEAD) await Promise.race(this.ahead);
  }

  private readonly ahead = new Set<Promise<unknown>>();
  private readonly settleFailures = new Map<number, number>();

  /** Its file could not be moved to archive/ or error/ (a full disk, a permission): tried again, waiting longer each time. */
  private settleFailed(id: number, f: IncomingFile | null, e: unknown): void {
    const n = (this.settleFailures.get(id) ?? 0) + 1;
    this.settleFailures.set(id, n);
    const delay = Math.min(60_000, 500 * 2 ** Math.min(n, 10));
    this.deps.logger.error({ documentId: id, attempts: n, retryInMs: delay, err: String(e) }, 'settling the document\'s file failed; tried again');
    this.retryLater(id, f, delay);
  }
  static readonly AHEAD = 16;

  private async receive(c: PipelineChannel, source: InboundSource, f: IncomingFile): Promise<DocumentRow | null> {
    const { db, raw, clock, logger } = this.deps;
    const channel = source.channel;
    if (f.size > this.opts.maxBytes) {
      await this.serial(() => this.parkTooLarge(c, channel, f));
      return null;
    }
    const stored = await raw.put(f.localPath);
    const found = await documents.findUnfinishedSource(db, channel, f.name, stored.sha256);
    if (found) return found;
    const id = await documents.insertReceived(db, {
      partnerId: c.partnerId,
      channel,
      filename: f.name,
      sourcePath: f.localPath,
      sha256: stored.sha256,
      size: stored.size,
      rawPath: stored.rel,
      format: 'unknown',
      correlationId: randomUUID(),
      receivedAt: clock.now().toISOString(),
      claimedBy: this.instanceId,
      leaseUntil: this.leaseUntil(),
    });
    const doc = (await documents.get(db, id))!;
    this.stats.received++;
    this.deps.kpis?.received.inc({ partner: c.partnerId, channel });
    logger.info({ documentId: id, partner: c.partnerId, file: f.name, size: stored.size, sha256: stored.sha256, correlationId: doc.correlation_id }, 'received');
    return doc;
  }

  /** Too large to take in: recorded (without its bytes) and moved to error/ with the reason; the file is kept there. */
  private async parkTooLarge(c: PipelineChannel, channel: string, f: IncomingFile): Promise<void> {
    const { db, raw, clock, logger } = this.deps;
    const sha256 = await raw.hash(f.localPath);
    const r = reject('GW_FILE_TOO_LARGE', `${f.size} bytes, the limit is ${this.opts.maxBytes}`);
    const now = clock.now().toISOString();
    const id = await db.transaction(async (trx) => {
      const docId = await documents.insertReceived(trx, { partnerId: c.partnerId, channel, filename: f.name, sourcePath: f.localPath, sha256, size: f.size, rawPath: '', format: 'unknown', correlationId: randomUUID(), receivedAt: now });
      await rejections.insert(trx, docId, [r]);
      await documents.finish(trx, docId, { status: 'PARKED', format: 'unknown', partnerId: c.partnerId, errorCode: r.code, errorMessage: r.message, setIds: '', isa13s: '', eventCount: 0, processedAt: now });
      return docId;
    });
    logger.warn({ documentId: id, channel, file: f.name, size: f.size, sha256 }, 'file too large: parked in error/');
    await this.settle((await documents.get(db, id))!, f, { documentId: id, status: 'PARKED', eventCount: 0, errorCode: r.code, errorMessage: r.message, rejections: [r], acks: 0, movements: 0 });
  }

  private async processAndSettle(doc: DocumentRow, f: IncomingFile | null): Promise<ProcessOutcome | null> {
    const { logger } = this.deps;
    let outcome: ProcessOutcome | null = null;
    if (doc.status === 'RECEIVED') {
      // A document the process died on again and again (killed in it, out of memory) is not
      // tried for ever: after maxProcessAttempts + 2 starts that never finished, it is FAILED.
      const max = this.opts.maxProcessAttempts ?? 3;
      const starts = await documents.countStart(this.deps.db, doc.id);
      // Starts before this one that neither finished nor failed in our hands: the process died in them.
      const crashes = starts - 1 - Number(doc.attempts ?? 0);
      if (crashes >= max + 2) {
        outcome = await this.fail(doc.id, `the gateway stopped ${crashes} times while processing it (killed or crashed): not tried again`);
        logger.error({ documentId: doc.id, starts, code: outcome.errorCode }, 'a document the gateway keeps dying on is FAILED (dead letters)');
      }
    }
    let already = false;
    if (doc.status === 'RECEIVED' && !outcome) {
      try {
        outcome = await processDocument(this.deps, doc, { replay: doc.replay_of !== null });
        if (outcome.already) {
          // Another instance finished it meanwhile (it held the document's lock): only the source
          // is left, settled below, outside this try (a failing settle is not a processing failure).
          logger.info({ documentId: doc.id, status: outcome.status }, 'already processed by another instance');
          already = true;
        } else {
          this.stats.processed++;
          this.count(doc, outcome);
          this.transient.delete(doc.id);
          if (outcome.movements > 0) this.onStockMoved();
          const log = outcome.status === 'PROCESSED' ? logger.info.bind(logger) : logger.warn.bind(logger);
          // Its own correlation id, and the flows (orders) it belongs to: one id follows a PO from its 850 to its 856.
          log({ documentId: doc.id, partner: doc.partner_id, status: outcome.status, events: outcome.eventCount, acks: outcome.acks, code: outcome.errorCode, correlationId: doc.correlation_id, ...(outcome.flows?.length ? { flows: outcome.flows } : {}) }, 'processed');
        }
      } catch (e) {
        if (isTransient(e) && !this.stopped) {
          // The database or the disk, not the document (a deadlock between instances, a lost
          // connection, a full disk): tried again with backoff, no attempt counted against it.
          const n = (this.transient.get(doc.id) ?? 0) + 1;
          this.transient.set(doc.id, n);
          const delay = Math.min(30_000, (this.opts.retryBaseMs ?? 1000) * 2 ** Math.min(n - 1, 10));
          await documents.uncountStart(this.deps.db, doc.id).catch(() => undefined);
          logger.warn({ documentId: doc.id, transientFailures: n, retryInMs: delay, err: String(e) }, 'processing met a transient error; tried again');
          this.retryLater(doc.id, f, delay);
          return null;
        }
        this.transient.delete(doc.id);
        // Our own fault (a partner's bad data is a coded rejection, never a throw): counted in a
        // transaction of its own, retried with backoff, and after maxProcessAttempts the document
        // is FAILED with its reason: in the dead letters, its file in error/, never retried forever.
        this.stats.failures++;
        this.lastError = String(e);
        const max = this.opts.maxProcessAttempts ?? 3;
        const attempts = await documents.countFailure(this.deps.db, doc.id);
        if (attempts < max) {
          const delay = Math.min(60_000, (this.opts.retryBaseMs ?? 1000) * 4 ** (attempts - 1));
          logger.error({ documentId: doc.id, attempts, retryInMs: delay, err: String((e as Error).stack ?? e) }, 'processing failed; retried');
          this.retryLater(doc.id, f, delay);
          return null;
        }
        outcome = await this.fail(doc.id, `${attempts} attempts: ${String((e as Error).message ?? e).slice(0, 500)}`);
        logger.error({ documentId: doc.id, attempts, code: outcome.errorCode, err: String((e as Error).stack ?? e) }, 'processing failed for good: the document is FAILED (dead letters)');
        // The partner is still due its 997/TA1 where the file itself is sound (only applying failed).
        outcome.acks = await ackAfterFailure(this.deps, doc).catch((err) => {
          logger.warn({ documentId: doc.id, err: String(err) }, 'no acknowledgment for the FAILED document: its translation fails too');
          return 0;
        });
      }
    }
    const fresh = (await documents.get(this.deps.db, doc.id))!;
    const result = already ? null : outcome;
    if (f && !fresh.source_done) await this.settle(fresh, f, result);
    return result;
  }

  /** Our own code gave up on a document: FAILED with its reason (GW_PROCESSING_FAILED), in one transaction. */
  private async fail(documentId: number, detail: string): Promise<ProcessOutcome> {
    const r = reject('GW_PROCESSING_FAILED', detail);
    await this.deps.db.transaction(async (trx) => {
      await rejections.insert(trx, documentId, [r]);
      await documents.fail(trx, documentId, { code: r.code, message: r.message, at: this.deps.clock.now().toISOString() });
    });
    const outcome: ProcessOutcome = { documentId, status: 'FAILED', eventCount: 0, errorCode: r.code, errorMessage: r.message, rejections: [r], acks: 0, movements: 0 };
    const doc = await documents.get(this.deps.db, documentId);
    if (doc) this.count(doc, outcome);
    return outcome;
  }

  private retries = new Map<number, NodeJS.Timeout>();
  /** Transient failures per document in a row (for the backoff). */
  private transient = new Map<number, number>();

  /** Process a document again after a failure of ours, in the queue like any document. */
  private retryLater(id: number, f: IncomingFile | null, delay: number): void {
    if (this.stopped || this.retries.has(id)) return;
    const t = setTimeout(() => {
      this.retries.delete(id);
      if (this.stopped) return;
      void this.serial(async () => {
        const doc = await documents.get(this.deps.db, id);
        if (doc && (doc.status === 'RECEIVED' || (f && !doc.source_done))) await this.processAndSettle(doc, f);
      })
        .catch((e) => this.settleFailed(id, f, e))
        .then(() => void this.dispatch());
    }, delay);
    t.unref?.();
    this.retries.set(id, t);
  }

  private sourceOf(channel: string): InboundSource | undefined {
    return [...this.channels.values()].flatMap((c) => c.sources).find((x) => x.channel === channel);
  }

  private async settle(doc: DocumentRow, f: IncomingFile, outcome: ProcessOutcome | null): Promise<void> {
    const source = this.sourceOf(doc.channel);
    if (source) {
      const ok = SETTLED_OK.has(doc.status);
      const report = ok
        ? undefined
        : {
            documentId: doc.id,
            status: doc.status,
            errorCode: doc.error_code,
            errorMessage: doc.error_message,
            rejections: (outcome?.rejections ?? []).filter(isError).slice(0, 200),
          };
      if (report && !outcome) {
        report.rejections = (await rejections.forDocument(this.deps.db, doc.id)).filter((r) => r.severity === 'error').slice(0, 200) as never[];
      }
      await source.settle(f, doc.id, ok ? 'archive' : 'error', report);
    }
    await documents.markSourceDone(this.deps.db, doc.id);
  }

  /**
   * Process a stored inbound document again (after a mapping fix), as a new document that points to
   * it. What was applied before is not applied again (events' idempotency keys); the partner gets
   * no second acknowledgment. A crash during it is finished by start-up recovery, as a replay.
   */
  async replay(id: number, correlationId: string = randomUUID()): Promise<{ replayOf: number; outcome: ProcessOutcome }> {
    const { db, clock, logger } = this.deps;
    return this.serial(async () => {
      const orig = await documents.get(db, id);
      if (!orig) throw new GatewayError('GW_NOT_FOUND', `no document ${id}`);
      if (orig.direction !== 'in') throw new GatewayError('GW_CONFLICT', `document ${id} is outbound`);
      if (orig.status === 'RECEIVED') throw new GatewayError('GW_CONFLICT', `document ${id} is still being processed`);
      if (!orig.raw_path) throw new GatewayError('GW_CONFLICT', `document ${id} has no stored bytes (${orig.error_code ?? 'not kept'})`);
      const newId = await documents.insertReplay(db, orig, clock.now().toISOString(), correlationId, { by: this.instanceId, until: this.leaseUntil() });
      const doc = (await documents.get(db, newId))!;
      const outcome = await processDocument(this.deps, doc, { replay: true });
      this.stats.processed++;
      if (outcome.movements > 0) this.onStockMoved();
      logger.info({ documentId: newId, replayOf: id, status: outcome.status, events: outcome.eventCount, correlationId: doc.correlation_id }, 'replayed');
      return { replayOf: id, outcome };
    });
  }

  /** Deliver pending outbox entries (one dispatcher at a time; a request during a run triggers one more run). */
  dispatch(): Promise<void> {
    if (this.dispatching) {
      this.redispatch = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      do {
        this.redispatch = false;
        await this.dispatchOnce();
      } while (this.redispatch);
    })().finally(() => {
      this.dispatching = null;
    });
    return this.dispatching;
  }

  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private stopped = false;

  /** After a failed delivery: try again later, exponentially (with jitter), up to a minute apart. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.backoffMs = Math.min(60_000, this.backoffMs ? this.backoffMs * 2 : 500);
    const delay = this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.dispatch();
    }, delay);
    this.retryTimer.unref?.();
  }

  private async dispatchOnce(): Promise<void> {
    const { db, clock, logger } = this.deps;
    let failures = 0;
    // Only entries this instance can deliver are claimed (a partner without a channel here stays
    // for an instance that has one); each claimed entry is this instance's for the lease.
    const mine = [...this.channels.values()].filter((c) => c.sink).map((c) => c.partnerId);
    const batch = this.opts.claimBatch ?? 100;
    // Claim and deliver batch after batch while there is more (a failure ends the run: its retry waits for the backoff).
    for (let more = mine.length > 0; more && !this.stopped && !failures; ) {
      const claimed = await outbox.claimFor(db, this.instanceId, mine, clock.now(), this.opts.deliveryLeaseMs ?? 60_000, batch);
      more = claimed.length === batch;
      for (const row of claimed) {
        if (this.stopped) {
          await outbox.release(db, row.id, this.instanceId);
          continue;
        }
        const sink = this.channels.get(row.partner_id)?.sink;
        if (!sink) continue;
        try {
          if (row.content_path) await sink.deliverFile(row.filename, row.content_path);
          else await sink.deliver(row.filename, row.content);
          await outbox.markSent(db, row.id, clock.now().toISOString(), this.instanceId);
          this.stats.dispatched++;
          logger.info({ outboxId: row.id, partner: row.partner_id, kind: row.kind, file: row.filename, isa13: row.isa13, correlationId: row.correlation_id ?? undefined }, 'delivered');
          this.deps.kpis?.delivered.inc({ partner: row.partner_id, kind: row.kind });
        } catch (e) {
          if (this.stopped) {
            logger.warn({ outboxId: row.id, partner: row.partner_id }, 'delivery abandoned at shutdown; it stays pending');
            await outbox.release(db, row.id, this.instanceId);
            continue;
          }
          const failed = row.attempts + 1 >= this.opts.maxDeliveryAttempts;
          await outbox.markAttemptFailed(db, row.id, String(e), failed, this.instanceId);
          logger.error({ outboxId: row.id, partner: row.partner_id, err: String(e), failed }, 'delivery failed');
          if (!failed) failures++;
        }
      }
    }
    if (failures) this.scheduleRetry();
    else this.backoffMs = 0;
  }

  /** Wait until everything queued so far is processed and dispatched (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.dispatch();
  }
}
