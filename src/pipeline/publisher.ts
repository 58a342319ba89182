import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { fsyncDir, fsyncPath } from '../core/durable.ts';
import { once } from 'node:events';
import path from 'node:path';
import type { Clock, Logger } from '../core/ports.ts';
import { available, key, type Position } from '../domain/availability.ts';
import { isProvisional } from '../domain/identity.ts';
import { publicationRoom, targets, type Party } from '../domain/promise.ts';
import { QTY_SCALE } from '../domain/quantity.ts';
import { fromBaseFloor } from '../domain/units.ts';
import { provisionalItems } from '../store/item-repository.ts';
import { promises, type PromiseRow } from '../store/promise-repository.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { covers, inScope, kitAvailable, partnerView, type PublishPolicy } from '../domain/publication.ts';
import type { CrosswalkIndex } from '../mapping/crosswalk.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { positions, publications, publishDue } from '../store/availability-repository.ts';
import { envelopeTo, nonconformanceOf } from './envelope-to.ts';
import { DocumentChecker, projectGrammars } from '../x12/grammar.ts';
import { isTransient } from '../core/transient.ts';
import type { Kpis } from '../core/kpis.ts';
import type { Db } from '../store/db.ts';
import { outbox } from '../store/outbox-repository.ts';
import { build846, type Line846 } from '../x12/build-846.ts';

/**
 * Outbound 846 inventory advice per partner policy: event-triggered deltas (debounced, at most one
 * file per minimum interval) and full snapshots (on demand or on a schedule). A file is built in
 * one database transaction with its control numbers and outbox entry, streamed to disk page by
 * page, then delivered by the outbox (temporary name, rename).
 */
export interface PublisherDeps {
  db: Db;
  partners: PartnerDirectory;
  mappings: MappingRegistry;
  clock: Clock;
  logger: Logger;
  /** Where built files wait for delivery. */
  outboundDir: string;
  /** Run exclusively with document processing (one writer). */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>;
  /** An outbox entry was queued. */
  queued: () => void;
  /** The key figures (landing-to-846 latency). */
  kpis?: Kpis;
}

export interface EmitResult {
  partnerId: string;
  full: boolean;
  outboxId?: number;
  filename?: string;
  isa13?: string;
  sets: number;
  lines: number;
}

const PAGE = 1000;

interface PublicationRun {
  partner: Partner;
  policy: PublishPolicy;
  crosswalk: CrosswalkIndex | null;
  kitsByComponent: Map<string, string[]>;
  /** Every partner published to: their ranks, shares and scopes decide the targets. */
  parties: (Party & { policy: PublishPolicy })[];
  full: boolean;
  /** A promise of this partner went down: others may have room now. */
  freed: boolean;
  at: string;
  /** The change number the promises of this publication carry. */
  seq: number;
}

export class Publisher {
  private timers = new Map<string, NodeJS.Timeout>();
  private fullTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly deps: PublisherDeps) {}

  private subscribers(): Partner[] {
    return this.deps.partners.all().filter((p) => p.publish846?.enabled && p.receives.includes('846'));
  }

  /** Stock moved: schedule a delta for every subscribed partner. */
  notify(): void {
    if (this.stopped) return;
    for (const p of this.subscribers()) if (p.publish846!.mode === 'delta') void this.schedule(p).catch((e) => this.deps.logger.error({ partner: p.id, err: String(e) }, '846 scheduling failed'));
  }

  /**
   * A delta becomes due at max(now + debounce, last sent + minimum interval). The due row is the
   * truth (a restart, or another instance, finds it); the timer only wakes this process up for it.
   */
  private async schedule(p: Partner): Promise<void> {
    if (this.stopped) return;
    const policy = p.publish846!;
    const now = this.deps.clock.now();
    const pub = await publications.get(this.deps.db, p.id);
    const last = pub.lastSentAt ? Date.parse(pub.lastSentAt) : 0;
    const at = new Date(Math.max(now.getTime() + policy.debounceMs, last + policy.minIntervalMs));
    const due = await publishDue.put(this.deps.db, p.id, at, now);
    if (due !== null) this.wake(p.id, due);
  }

  private wake(partnerId: string, at: number): void {
    if (this.timers.has(partnerId) || this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(partnerId);
      void this.fireDue(partnerId);
    }, Math.max(0, at - this.deps.clock.now().getTime()));
    this.timers.set(partnerId, t);
  }

  /** The delta of a partner whose time has come: whoever deletes its due row sends it (once). */
  private async fireDue(partnerId: string): Promise<void> {
    if (this.stopped) return;
    const { db, logger } = this.deps;
    try {
      const taken = await publishDue.take(db, partnerId, this.deps.clock.now());
      if (taken !== true) {
        if (taken !== null) this.wake(partnerId, taken);
        return;
      }
      await this.emit(partnerId, false);
    } catch (e) {
      if (isTransient(e) && !this.stopped) {
        // A deadlock with another instance's commit, a lost connection: due again in a second
        // (nothing is lost meanwhile: a delta carries every movement since the last one sent).
        logger.warn({ partner: partnerId, err: String(e) }, '846 publication met a transient error; due again');
        const now = this.deps.clock.now();
        const at = await publishDue.put(db, partnerId, new Date(now.getTime() + 1000), now).catch(() => null);
        if (at !== null) this.wake(partnerId, at);
        return;
      }
      logger.error({ partner: partnerId, err: String(e) }, '846 publication failed');
    }
  }

  /**
   * A scheduled full feed, sent by one instance: the one whose claim row (`full:<partner>`, held
   * for 10 minutes at most) goes in first; the others see it and leave the feed to it.
   */
  private async emitFullOnce(partnerId: string): Promise<void> {
    const { db } = this.deps;
    const now = this.deps.clock.now();
    const key = `full:${partnerId}`;
    if (!(await publishDue.claim(db, key, new Date(now.getTime() + 600_000), now))) return;
    try {
      // Another instance may have sent it between our look and our claim.
      const pub = await publications.get(db, partnerId);
      const every = this.deps.partners.get(partnerId)!.publish846!.fullEveryMinutes;
      if (!pub.lastFullAt || now.getTime() - Date.parse(pub.lastFullAt) >= (every ?? 0) * 60_000) await this.emit(partnerId, true);
    } finally {
      await publishDue.remove(db, key);
    }
  }

  /** Deltas due that no timer here is waiting for (left by a restart or by another instance). */
  private async sweepDue(): Promise<void> {
    if (this.stopped) return;
    for (const r of await publishDue.all(this.deps.db)) if (this.deps.partners.get(r.key)?.publish846) this.wake(r.key, r.dueAt);
  }

  /** Full snapshots on each partner's schedule (checked every 30 s). */
  startSchedule(): void {
    const tick = async () => {
      for (const p of this.subscribers()) {
        if (this.stopped) return;
        const every = p.publish846!.fullEveryMinutes;
        if (!every) continue;
        const pub = await publications.get(this.deps.db, p.id);
        const due = !pub.lastFullAt || this.deps.clock.now().getTime() - Date.parse(pub.lastFullAt) >= every * 60_000;
        if (due) await this.emitFullOnce(p.id).catch((e) => this.deps.logger.error({ partner: p.id, err: String(e) }, 'scheduled 846 failed'));
      }
    };
    // A tick that fails (the store going away at shutdown) is logged, never an unhandled rejection.
    const run = () => void tick().catch((e) => this.deps.logger.error({ err: String(e) }, 'full 846 schedule failed'));
    this.fullTimer = setInterval(run, 30_000);
    this.fullTimer.unref?.();
    run();
    const sweep = () => void this.sweepDue().catch((e) => this.deps.logger.error({ err: String(e) }, '846 due sweep failed'));
    this.dueTimer = setInterval(sweep, 1000);
    this.dueTimer.unref?.();
    sweep();
  }

  private dueTimer: NodeJS.Timeout | null = null;

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.fullTimer) clearInterval(this.fullTimer);
    if (this.dueTimer) clearInterval(this.dueTimer);
  }

  /** Build and queue an 846 for one partner now: a delta (what moved since the last one) or full. */
  emit(partnerId: string, full: boolean): Promise<EmitResult> {
    return this.deps.exclusive(async () => {
      const partner = this.deps.partners.get(partnerId);
      if (!partner?.publish846) throw new Error(`partner ${partnerId} has no publish846 policy`);
      const r = await this.deps.db.transaction((trx) => this.build(trx, partner, partner.publish846!, full));
      if (r.outboxId) this.deps.queued();
      return r;
    });
  }

  private async build(db: Db, partner: Partner, policy: PublishPolicy, full: boolean): Promise<EmitResult> {
    const { clock, logger } = this.deps;
    const now = clock.now();
    const pub = await publications.get(db, partner.id);
    const upTo = await positions.lastMovementSeq(db);
    // Every promise change up to this publication's own number is seen by it.
    const run: PublicationRun = {
      partner,
      policy,
      crosswalk: this.deps.mappings.crosswalk(partner.id),
      kitsByComponent: new Map(),
      parties: this.subscribers().map((p) => ({ partner: p.id, rank: p.publish846!.rank, share: p.publish846!.share, policy: p.publish846! })),
      full,
      freed: false,
      at: now.toISOString(),
      seq: await promises.nextSeq(db),
    };
    for (const [kit, comps] of Object.entries(policy.kits)) for (const c of Object.keys(comps)) run.kitsByComponent.set(c, [...(run.kitsByComponent.get(c) ?? []), kit]);

    const source = full ? this.fullPages(db, policy) : this.deltaPages(db, policy, partner.id, pub.lastMovementSeq, upTo, pub.lastPromiseSeq);
    const lines = this.partnerLines(db, source, run);
    // Peek: no line, no file (the promises are brought up to date all the same).
    const it = lines[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) {
      await publications.set(db, partner.id, { lastMovementSeq: upTo, lastPromiseSeq: run.seq, lastSentAt: pub.lastSentAt ?? now.toISOString(), ...(full ? { lastFullAt: now.toISOString() } : {}) });
      if (run.freed) this.notifyOthers(partner.id);
      return { partnerId: partner.id, full, sets: 0, lines: 0 };
    }
    const env = await envelopeTo(db, this.deps.partners, partner, now);
    const { isa13, gsControl: gs } = env;
    const filename = `846_${isa13}.x12`;
    const dir = path.join(this.deps.outboundDir, partner.id);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, filename);
    const out = createWriteStream(file);
    const checked = new DocumentChecker(projectGrammars());
    const all = (async function* () {
      yield first.value;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })();
    const built = await build846(
      all,
      {
        ...env,
        reportId: `${full ? 'FULL' : 'DELTA'}-${isa13}`,
        quantities: policy.quantities,
      },
      async (text) => {
        checked.push(Buffer.from(text));
        if (!out.write(text)) await once(out, 'drain');
      },
    );
    out.end();
    await once(out, 'finish');
    // Checked by the 846 grammar as it was written, before it is released: one our own code got wrong is never sent.
    const bad = nonconformanceOf(checked.end(), `846 for ${partner.id}`);
    if (bad) {
      rmSync(file, { force: true });
      throw Object.assign(new Error(bad.message), { code: bad.code });
    }
    // On disk (file and its name) before the outbox row that points at it commits.
    await fsyncPath(file);
    await fsyncDir(dir);
    await outbox.enqueue(db, {
      partnerId: partner.id,
      kind: '846',
      sourceDocumentId: null,
      sourceRef: `846:${partner.id}:${isa13}`,
      filename,
      content: '',
      contentPath: file,
      isa13,
      gs06: String(gs),
      createdAt: now.toISOString(),
    });
    const row = await db('outbox').where({ source_ref: `846:${partner.id}:${isa13}` }).first('id');
    await this.carried(db, Number(row?.id), partner.id, pub.lastMovementSeq, upTo, now);
    await publications.set(db, partner.id, { lastMovementSeq: upTo, lastPromiseSeq: run.seq, lastSentAt: now.toISOString(), ...(full ? { lastFullAt: now.toISOString() } : {}) });
    logger.info({ partner: partner.id, full, isa13, sets: built.sets, lines: built.lines }, '846 built');
    if (run.freed) this.notifyOthers(partner.id);
    return { partnerId: partner.id, full, outboxId: Number(row?.id), filename, isa13, sets: built.sets, lines: built.lines };
  }

  /**
   * The documents whose stock movements this 846 carries (those since the partner's last one), kept
   * with it (outbox_sources: correlation from a landed document to the 846 that told the partner),
   * and each one's time from landing to this 846 (gateway_landing_to_846_seconds).
   */
  private async carried(db: Db, outboxId: number, partnerId: string, since: number, upTo: number, now: Date): Promise<void> {
    if (!outboxId || upTo <= since) return;
    const ids = ((await db('movements').where('seq', '>', since).andWhere('seq', '<=', upTo).whereNotNull('document_id').distinct('document_id')) as { document_id: unknown }[]).map((r) => Number(r.document_id));
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await db('outbox_sources').insert(chunk.map((d) => ({ outbox_id: outboxId, document_id: d }))).onConflict(['outbox_id', 'document_id']).ignore();
      const kpis = this.deps.kpis;
      if (!kpis) continue;
      for (const d of (await db('documents').whereIn('id', chunk).whereNull('replay_of').select('received_at')) as { received_at: string }[]) {
        kpis.landingTo846.observe({ partner: partnerId }, Math.max(0, (now.getTime() - Date.parse(d.received_at)) / 1000));
      }
    }
  }

  /** A publication lowered a promise: room freed for partners whose share was held back by it. */
  private notifyOthers(partnerId: string): void {
    if (this.stopped) return;
    for (const p of this.subscribers()) if (p.id !== partnerId && p.publish846!.mode === 'delta') void this.schedule(p).catch((e) => this.deps.logger.error({ partner: p.id, err: String(e) }, '846 scheduling failed'));
  }

  /** All positions in scope, in (location, item) pages. */
  private async *fullPages(db: Db, policy: PublishPolicy): AsyncGenerator<Position[]> {
    let after: { item: string; location: string } | null = null;
    for (;;) {
      const page = await positions.pageByLocation(db, after, PAGE, policy.locations);
      if (!page.length) return;
      after = page[page.length - 1];
      yield page;
    }
  }

  /**
   * Positions moved since the last publication, and those where another partner's promise changed
   * (room freed or taken), in (location, item) order.
   */
  private async *deltaPages(db: Db, policy: PublishPolicy, partnerId: string, since: number, upTo: number, promiseSince: number): AsyncGenerator<Position[]> {
    const changed = await positions.changedSince(db, since, upTo);
    const seen = new Set(changed.map((p) => key(p.item, p.location)));
    const extra = (await promises.changedByOthers(db, partnerId, promiseSince)).filter((k) => !seen.has(key(k.item, k.location)));
    if (extra.length) {
      const ps = await positions.getMany(db, extra);
      for (const k of extra) changed.push(ps.get(key(k.item, k.location))!);
      changed.sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
    }
    for (let i = 0; i < changed.length; i += PAGE) yield changed.slice(i, i + PAGE).filter((p) => !policy.locations || policy.locations.includes(p.location));
  }

  /**
   * Positions -> the partner's lines through the promise engine: for each item and location its
   * share (src/domain/promise.ts) within what other partners' promises leave, its policy's view of
   * that, its own item ids and unit; kits per location from their components' views. The promise
   * rows are updated as the lines are made (same transaction as the file's outbox entry). A delta
   * carries only lines whose shown quantity changed.
   */
  private async *partnerLines(db: Db, pages: AsyncIterable<Position[]>, run: PublicationRun): AsyncGenerator<Line846[]> {
    const { policy, partner } = run;
    const pendingKits = new Map<string, Set<string>>(); // location -> kits touched
    // Components of kits at the current location: their promise is settled with the kits.
    const heldBack = new Map<string, { single: number; shown: number; own?: PromiseRow }>();
    const master = this.deps.partners.items;
    let currentLocation: string | null = null;
    const roomOf = (p: Position, proms: Map<string, PromiseRow> | undefined) => {
      const a = available(p);
      const parties = run.parties.filter((x) => covers(x.policy, p.item, p.location));
      const t = targets(a, parties).get(partner.id) ?? 0;
      let others = 0;
      for (const [pid, r] of proms ?? []) if (pid !== partner.id) others += r.promised;
      return publicationRoom(a, t, others);
    };
    const unitOf = (item: string): { uom: string; factor: number } => {
      const entry = master.items.get(item);
      const base = entry?.baseUnit ?? master.defaultBaseUnit;
      if (policy.unit && policy.unit !== base) {
        const f = entry?.units[policy.unit];
        if (f) return { uom: policy.unit, factor: f };
      }
      return { uom: base, factor: QTY_SCALE };
    };
    const updates: PromiseRow[] = [];
    const promise = (item: string, location: string, promised: number, shown: number, own: PromiseRow | undefined) => {
      if (own && promised < own.promised) run.freed = true;
      if (!own || own.promised !== promised || own.shown !== shown) updates.push({ partnerId: partner.id, item, location, promised, shown });
    };
    const flushUpdates = async () => {
      if (updates.length) await promises.set(db, updates.splice(0), run.at, run.seq);
    };
    const flushKits = async (location: string): Promise<Line846[]> => {
      const kits = pendingKits.get(location);
      pendingKits.delete(location);
      const out: Line846[] = [];
      const kitNeed = new Map<string, number>();
      for (const kit of [...(kits ?? [])].sort()) {
        const comps = policy.kits[kit];
        const ps = await positions.getMany(db, Object.keys(comps).map((item) => ({ item, location })));
        const proms = await promises.forItems(db, [...Object.keys(comps), kit]);
        const view = (sku: string) => partnerView(policy, roomOf(ps.get(key(sku, location))!, proms.get(key(sku, location))));
        const n = kitAvailable(comps, view);
        for (const [c, per] of Object.entries(comps)) kitNeed.set(c, Math.max(kitNeed.get(c) ?? 0, (n / QTY_SCALE) * per));
        for (const c of Object.keys(comps)) {
          if (heldBack.has(c)) continue;
          const own = proms.get(key(c, location))?.get(partner.id);
          heldBack.set(c, { single: own?.promised ?? 0, shown: own?.shown ?? 0, own });
        }
        const own = proms.get(key(kit, location))?.get(partner.id);
        promise(kit, location, 0, n, own);
        const id = this.partnerId(kit, policy, run.crosswalk, undefined);
        if (id && (run.full || own?.shown !== n)) out.push({ location, ...id, available: n, onHand: 0, uom: master.items.get(kit)?.baseUnit ?? master.defaultBaseUnit });
      }
      for (const [c, h] of heldBack) promise(c, location, Math.max(h.single, kitNeed.get(c) ?? 0), h.shown, h.own);
      heldBack.clear();
      await flushUpdates();
      return out;
    };
    for await (const page of pages) {
      const lines: Line846[] = [];
      const proms = await promises.forPage(db, page);
      const provisional = await provisionalItems.idsOf(db, page.map((p) => p.item));
      for (const p of page) {
        if (currentLocation !== null && p.location !== currentLocation) lines.push(...(await flushKits(currentLocation)));
        currentLocation = p.location;
        const isComponent = run.kitsByComponent.has(p.item);
        for (const kit of run.kitsByComponent.get(p.item) ?? []) {
          if (!pendingKits.has(p.location)) pendingKits.set(p.location, new Set());
          pendingKits.get(p.location)!.add(kit);
        }
        if (policy.kits[p.item]) continue;
        const own = proms.get(key(p.item, p.location))?.get(partner.id);
        const direct = inScope(policy, p.item, p.location);
        if (!direct && !isComponent) continue;
        const id = direct ? this.partnerId(p.item, policy, run.crosswalk, provisional.get(p.item)) : null;
        const { uom, factor } = unitOf(p.item);
        const shown = id ? partnerView(policy, roomOf(p, proms.get(key(p.item, p.location))), factor) : 0;
        if (isComponent) heldBack.set(p.item, { single: shown, shown, own });
        else promise(p.item, p.location, shown, shown, own);
        if (id && (run.full || own?.shown !== shown)) {
          const inUnit = (base: number) => (factor === QTY_SCALE ? base : fromBaseFloor(base, factor));
          lines.push({ location: p.location, ...id, available: inUnit(shown), onHand: inUnit(Math.max(0, p.onHand)), uom });
        }
      }
      await flushUpdates();
      if (lines.length) yield lines;
    }
    const rest: Line846[] = [];
    const locs = new Set([...pendingKits.keys(), ...(currentLocation !== null ? [currentLocation] : [])]);
    for (const loc of [...locs].sort()) rest.push(...(await flushKits(loc)));
    await flushUpdates();
    if (rest.length) yield rest;
  }

  /** The partner's id for our SKU: the first configured qualifier the crosswalk knows; else ours. */
  private partnerId(item: string, policy: PublishPolicy, crosswalk: CrosswalkIndex | null, provisionalIds: Record<string, string> | undefined): { qualifier: string; id: string } | null {
    if (isProvisional(item)) {
      // An item no crosswalk knows: published by the partner's qualifiers among the global ids seen for it.
      for (const q of policy.idQualifiers) if (provisionalIds?.[q]) return { qualifier: q, id: provisionalIds[q] };
      return null;
    }
    for (const q of policy.idQualifiers) {
      const v = crosswalk?.partnerId(item, q);
      if (v) return { qualifier: q, id: v };
    }
    return { qualifier: 'SK', id: item };
  }
}
