import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Clock, Logger } from '../core/ports.ts';
import { key, type Position } from '../domain/availability.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { inScope, kitAvailable, partnerAvailable, type PublishPolicy } from '../domain/publication.ts';
import type { CrosswalkIndex } from '../mapping/crosswalk.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { positions, publications } from '../store/availability-repository.ts';
import { counters } from '../store/counter-repository.ts';
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
    for (const p of this.subscribers()) if (p.publish846!.mode === 'delta') void this.schedule(p);
  }

  private async schedule(p: Partner): Promise<void> {
    if (this.timers.has(p.id)) return; // a delta is already due; it will include this change
    const policy = p.publish846!;
    const now = this.deps.clock.now().getTime();
    const pub = await publications.get(this.deps.db, p.id);
    const last = pub.lastSentAt ? Date.parse(pub.lastSentAt) : 0;
    const at = Math.max(now + policy.debounceMs, last + policy.minIntervalMs);
    if (this.timers.has(p.id) || this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(p.id);
      this.emit(p.id, false).catch((e) => this.deps.logger.error({ partner: p.id, err: String(e) }, '846 publication failed'));
    }, Math.max(0, at - now));
    this.timers.set(p.id, t);
  }

  /** Full snapshots on each partner's schedule (checked every 30 s). */
  startSchedule(): void {
    const tick = async () => {
      for (const p of this.subscribers()) {
        const every = p.publish846!.fullEveryMinutes;
        if (!every) continue;
        const pub = await publications.get(this.deps.db, p.id);
        const due = !pub.lastFullAt || this.deps.clock.now().getTime() - Date.parse(pub.lastFullAt) >= every * 60_000;
        if (due) await this.emit(p.id, true).catch((e) => this.deps.logger.error({ partner: p.id, err: String(e) }, 'scheduled 846 failed'));
      }
    };
    this.fullTimer = setInterval(() => void tick(), 30_000);
    this.fullTimer.unref?.();
    void tick();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.fullTimer) clearInterval(this.fullTimer);
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
    const crosswalk = this.deps.mappings.crosswalk(partner.id);
    const kitsByComponent = new Map<string, string[]>();
    for (const [kit, comps] of Object.entries(policy.kits)) for (const c of Object.keys(comps)) kitsByComponent.set(c, [...(kitsByComponent.get(c) ?? []), kit]);

    const source = full ? this.fullPages(db, policy) : this.deltaPages(db, policy, pub.lastMovementSeq, upTo);
    const lines = this.partnerLines(db, source, policy, crosswalk, kitsByComponent);
    // Peek: no line, no file.
    const it = lines[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) {
      await publications.set(db, partner.id, { lastMovementSeq: upTo, lastSentAt: pub.lastSentAt ?? now.toISOString(), ...(full ? { lastFullAt: now.toISOString() } : {}) });
      return { partnerId: partner.id, full, sets: 0, lines: 0 };
    }
    const isa = await counters.next(db, partner.id, 'isa');
    const gs = await counters.next(db, partner.id, 'gs');
    const isa13 = String(isa).padStart(9, '0');
    const filename = `846_${isa13}.x12`;
    const dir = path.join(this.deps.outboundDir, partner.id);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, filename);
    const out = createWriteStream(file);
    const us = this.deps.partners.us;
    const all = (async function* () {
      yield first.value;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })();
    const built = await build846(
      all,
      {
        envelope: partner.x12,
        sender: { qualifier: us.qualifier, id: us.id, gsId: us.gsId },
        receiver: { qualifier: partner.interchange.qualifier, id: partner.interchange.id, gsId: partner.gsId },
        isaControl: isa,
        gsControl: gs,
        now,
        reportId: `${full ? 'FULL' : 'DELTA'}-${isa13}`,
        quantities: policy.quantities,
      },
      async (text) => {
        if (!out.write(text)) await once(out, 'drain');
      },
    );
    out.end();
    await once(out, 'finish');
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
    await publications.set(db, partner.id, { lastMovementSeq: upTo, lastSentAt: now.toISOString(), ...(full ? { lastFullAt: now.toISOString() } : {}) });
    logger.info({ partner: partner.id, full, isa13, sets: built.sets, lines: built.lines }, '846 built');
    return { partnerId: partner.id, full, outboxId: Number(row?.id), filename, isa13, sets: built.sets, lines: built.lines };
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

  /** Positions moved since the last publication (and the positions of kits whose components moved). */
  private async *deltaPages(db: Db, policy: PublishPolicy, since: number, upTo: number): AsyncGenerator<Position[]> {
    const changed = await positions.changedSince(db, since, upTo);
    for (let i = 0; i < changed.length; i += PAGE) yield changed.slice(i, i + PAGE).filter((p) => !policy.locations || policy.locations.includes(p.location));
  }

  /** Positions -> the partner's lines: scope, partner item ids, policy quantities, kits per location. */
  private async *partnerLines(db: Db, pages: AsyncIterable<Position[]>, policy: PublishPolicy, crosswalk: CrosswalkIndex | null, kitsByComponent: Map<string, string[]>): AsyncGenerator<Line846[]> {
    const pendingKits = new Map<string, Set<string>>(); // location -> kits touched
    let currentLocation: string | null = null;
    const flushKits = async (location: string): Promise<Line846[]> => {
      const kits = pendingKits.get(location);
      pendingKits.delete(location);
      if (!kits?.size) return [];
      const out: Line846[] = [];
      for (const kit of [...kits].sort()) {
        const comps = policy.kits[kit];
        const ps = await positions.getMany(db, Object.keys(comps).map((item) => ({ item, location })));
        const view = (sku: string) => partnerAvailable(policy, ps.get(key(sku, location))!);
        const id = this.partnerId(kit, policy, crosswalk);
        if (id) out.push({ location, ...id, available: kitAvailable(comps, view), onHand: 0 });
      }
      return out;
    };
    for await (const page of pages) {
      const lines: Line846[] = [];
      for (const p of page) {
        if (currentLocation !== null && p.location !== currentLocation) lines.push(...(await flushKits(currentLocation)));
        currentLocation = p.location;
        for (const kit of kitsByComponent.get(p.item) ?? []) {
          if (!pendingKits.has(p.location)) pendingKits.set(p.location, new Set());
          pendingKits.get(p.location)!.add(kit);
        }
        if (policy.kits[p.item] || !inScope(policy, p.item, p.location)) continue;
        const id = this.partnerId(p.item, policy, crosswalk);
        if (!id) continue;
        lines.push({ location: p.location, ...id, available: partnerAvailable(policy, p), onHand: Math.max(0, p.onHand) });
      }
      if (lines.length) yield lines;
    }
    const rest: Line846[] = [];
    for (const loc of [...pendingKits.keys()].sort()) rest.push(...(await flushKits(loc)));
    if (rest.length) yield rest;
  }

  /** The partner's id for our SKU: the first configured qualifier the crosswalk knows; else ours. */
  private partnerId(item: string, policy: PublishPolicy, crosswalk: CrosswalkIndex | null): { qualifier: string; id: string } | null {
    const colon = item.indexOf(':');
    if (colon === 2) return { qualifier: item.slice(0, 2), id: item.slice(3) }; // an item known only by a partner id
    for (const q of policy.idQualifiers) {
      const v = crosswalk?.partnerId(item, q);
      if (v) return { qualifier: q, id: v };
    }
    return { qualifier: 'SK', id: item };
  }
}
