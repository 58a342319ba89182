import { Gauge, Registry } from 'prom-client';
import type { Kpis } from '../core/kpis.ts';
import { QTY_SCALE } from '../domain/quantity.ts';
import { feedStates } from '../pipeline/feed-watch.ts';
import { documents } from '../store/document-repository.ts';
import { ACKED_KINDS, ackState } from '../store/outbox-repository.ts';
import { oversells } from '../store/promise-repository.ts';
import type { ApiDeps } from './app.ts';

/**
 * GET /metrics in Prometheus text format (prom-client): the key figures counted as they happen
 * (src/core/kpis.ts: documents, duplicates, rejections, latencies, oversells, backorders,
 * deliveries) and gauges read from the store at each scrape through its indexes only (documents
 * open or in the dead letters by status, feeds, undelivered outbox entries, 997s awaited, open
 * backorders, divergence per location): never a scan of the whole store, and right after a
 * restart and on every instance sharing a PostgreSQL store.
 */
export function createMetrics(deps: Pick<ApiDeps, 'db' | 'partners' | 'pipeline'> & { kpis?: Kpis }): { contentType: string; render(): Promise<string> } {
  const registry = new Registry();
  const { db } = deps;
  const client = db.client.config.client as string;

  // Documents that need someone, by partner and status (indexed on status: not a scan of the store).
  new Gauge({
    name: 'gateway_documents_open',
    help: 'Inbound documents not done with: RECEIVED (in the pipeline), WAITING (for what they refer to), HELD (a conflict for an admin), by partner',
    labelNames: ['partner', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('documents').whereIn('status', ['RECEIVED', 'WAITING', 'HELD']).select('partner_id', 'status').count({ n: '*' }).groupBy('partner_id', 'status')) as Record<string, unknown>[];
      for (const r of rows) this.set({ partner: String(r.partner_id ?? 'unknown'), status: String(r.status) }, Number(r.n));
    },
  });

  new Gauge({
    name: 'gateway_dead_letters',
    help: 'Documents in the dead letters (REJECTED, PARKED, PARTIAL, HELD, EXPIRED, FAILED, not since replayed successfully), by partner and status',
    labelNames: ['partner', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of deps.partners.all()) this.set({ partner: p.id, status: 'FAILED' }, 0);
      const rows = (await documents
        .deadLetters(db)
        .select('d.partner_id', 'd.status')
        .count({ n: '*' })
        .groupBy('d.partner_id', 'd.status')) as Record<string, unknown>[];
      for (const r of rows) this.set({ partner: String(r.partner_id ?? 'unknown'), status: String(r.status) }, Number(r.n));
    },
  });

  new Gauge({
    name: 'gateway_oversells',
    help: 'PO lines short of what their partner had been promised (oversells), by partner',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [partner, n] of Object.entries(await oversells.count(db))) this.set({ partner }, n);
    },
  });

  new Gauge({
    name: 'gateway_backorders_open',
    help: 'Open backordered PO lines, by partner',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('order_lines as l').join('orders as o', 'o.id', 'l.order_id').where('l.backordered', '>', 0).whereNull('l.parent_line').whereNot('o.status', 'CANCELLED').select('o.partner_id').count({ n: '*' }).groupBy('o.partner_id')) as Record<string, unknown>[];
      for (const r of rows) this.set({ partner: String(r.partner_id) }, Number(r.n));
    },
  });

  new Gauge({
    name: 'gateway_provisional_items',
    help: 'Items known only by partner ids (no crosswalk entry yet)',
    registers: [registry],
    async collect() {
      const [r] = (await db('provisional_items').where({ status: 'PROVISIONAL' }).count({ n: '*' })) as Record<string, unknown>[];
      this.set(Number(r?.n ?? 0));
    },
  });

  // Each configured partner's feed: its age (since its last business document, or since it was
  // configured if it never sent), its window and whether it is stale (table feeds: one row each).
  const feedGauges = {
    age: new Gauge({ name: 'gateway_feed_age_seconds', help: 'Seconds since each partner\'s last business document (not a 997, duplicate or rejected file); since it was configured if it never sent', labelNames: ['partner'], registers: [registry] }),
    window: new Gauge({ name: 'gateway_feed_window_seconds', help: 'How long each partner\'s feed may be silent (expectFeedWithinMinutes), for partners that have a window', labelNames: ['partner'], registers: [registry] }),
    stale: new Gauge({ name: 'gateway_feed_stale', help: '1 when a partner\'s feed is older than its window, else 0 (partners with a window)', labelNames: ['partner'], registers: [registry] }),
  };
  const collectFeeds = async () => {
    for (const g of Object.values(feedGauges)) g.reset();
    for (const f of await feedStates(db, deps.partners, Date.now())) {
      if (f.ageSeconds === null) continue;
      feedGauges.age.set({ partner: f.partner }, f.ageSeconds);
      if (f.windowMinutes) {
        feedGauges.window.set({ partner: f.partner }, f.windowMinutes * 60);
        feedGauges.stale.set({ partner: f.partner }, f.stale ? 1 : 0);
      }
    }
  };

  new Gauge({
    name: 'gateway_outbox',
    help: 'Outbox entries not delivered (PENDING, FAILED) by partner and kind; deliveries are gateway_deliveries_total',
    labelNames: ['partner', 'kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of deps.partners.all()) this.set({ partner: p.id, kind: 'any', status: 'FAILED' }, 0);
      for (const r of (await db('outbox').whereIn('status', ['PENDING', 'FAILED']).select('partner_id', 'kind', 'status').count({ n: '*' }).groupBy('partner_id', 'kind', 'status')) as Record<string, unknown>[]) {
        this.set({ partner: String(r.partner_id), kind: String(r.kind), status: String(r.status) }, Number(r.n));
      }
    },
  });

  new Gauge({
    name: 'gateway_outbox_oldest_pending_seconds',
    help: 'Age of the oldest entry waiting to be delivered, per partner',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      for (const r of (await db('outbox').where({ status: 'PENDING' }).select('partner_id').min({ at: 'created_at' }).groupBy('partner_id')) as Record<string, unknown>[]) {
        this.set({ partner: String(r.partner_id) }, Math.max(0, (now - Date.parse(String(r.at))) / 1000));
      }
    },
  });

  new Gauge({
    name: 'gateway_997_overdue',
    help: '846s and 856s sent whose 997 has not come within the partner\'s window',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      const rows = await db('outbox').whereNull('ack_status').where({ status: 'SENT' }).whereIn('kind', ACKED_KINDS).select('partner_id', 'kind', 'status', 'ack_status', 'sent_at');
      const counts = new Map<string, number>();
      for (const p of deps.partners.all()) counts.set(p.id, 0);
      for (const r of rows) {
        const window = deps.partners.get(r.partner_id)?.acks.expect997WithinMinutes ?? 60;
        if (ackState(r, window, now) === 'overdue') counts.set(r.partner_id, (counts.get(r.partner_id) ?? 0) + 1);
      }
      for (const [p, n] of counts) this.set({ partner: p }, n);
    },
  });

  new Gauge({
    name: 'gateway_store_bytes',
    help: 'Size of the database',
    registers: [registry],
    async collect() {
      if (client === 'pg') {
        const r = await db.raw('select pg_database_size(current_database()) as n');
        this.set(Number(r.rows[0].n));
      } else {
        const [pc] = (await db.raw('pragma page_count')) as { page_count: number }[];
        const [ps] = (await db.raw('pragma page_size')) as { page_size: number }[];
        this.set(pc.page_count * ps.page_size);
      }
    },
  });

  new Gauge({
    name: 'gateway_channel_up',
    help: '1 when the channel\'s last poll or transfer succeeded, 0 when it ended in an error',
    labelNames: ['partner', 'channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of deps.pipeline.channelStatus()) this.set({ partner: c.partner, channel: c.channel }, c.lastError ? 0 : 1);
    },
  });

  new Gauge({
    name: 'gateway_divergence_units',
    help: 'Sum of the absolute differences (base units) between the store and the partners\' snapshots over the last 1,000 divergences, by location',
    labelNames: ['location'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('divergences').orderBy('id', 'desc').limit(1000).select('location', 'diff')) as { location: string; diff: unknown }[];
      const sums = new Map<string, number>();
      for (const r of rows) sums.set(r.location, (sums.get(r.location) ?? 0) + Math.abs(Number(r.diff)) / QTY_SCALE);
      for (const [location, n] of sums) this.set({ location }, n);
    },
  });

  const merged = deps.kpis ? Registry.merge([deps.kpis.registry, registry]) : registry;
  return {
    contentType: registry.contentType,
    render: async () => {
      await collectFeeds();
      return merged.metrics();
    },
  };
}
