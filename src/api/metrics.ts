import { Gauge, Registry } from 'prom-client';
import { ACKED_KINDS, ackState } from '../store/outbox-repository.ts';
import { oversells } from '../store/promise-repository.ts';
import type { ApiDeps } from './app.ts';

/**
 * GET /metrics in Prometheus text format (prom-client). Every figure is read from the store when
 * scraped, so it is right after a restart and on every instance sharing a PostgreSQL store.
 */
export function createMetrics(deps: Pick<ApiDeps, 'db' | 'partners' | 'pipeline'>): { contentType: string; render(): Promise<string> } {
  const registry = new Registry();
  const { db } = deps;
  const client = db.client.config.client as string;

  new Gauge({
    name: 'gateway_documents',
    help: 'Documents in the store by partner, direction, transaction set(s) and status',
    labelNames: ['partner', 'direction', 'set', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('documents').select('partner_id', 'direction', 'set_ids', 'status').count({ n: '*' }).groupBy('partner_id', 'direction', 'set_ids', 'status')) as Record<string, unknown>[];
      for (const r of rows) this.set({ partner: String(r.partner_id ?? 'unknown'), direction: String(r.direction), set: String(r.set_ids || 'none'), status: String(r.status) }, Number(r.n));
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

  new Gauge({
    name: 'gateway_rejections',
    help: 'Rejections recorded, by code and severity',
    labelNames: ['code', 'severity'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await db('rejections').select('code', 'severity').count({ n: '*' }).groupBy('code', 'severity')) as Record<string, unknown>[]) this.set({ code: String(r.code), severity: String(r.severity) }, Number(r.n));
    },
  });

  new Gauge({
    name: 'gateway_feed_age_seconds',
    help: 'Seconds since the last inbound document from each partner (feed latency)',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      for (const r of (await db('documents').where({ direction: 'in' }).whereNull('replay_of').select('partner_id').max({ at: 'received_at' }).groupBy('partner_id')) as Record<string, unknown>[]) {
        if (r.partner_id) this.set({ partner: String(r.partner_id) }, Math.max(0, (now - Date.parse(String(r.at))) / 1000));
      }
    },
  });

  new Gauge({
    name: 'gateway_processing_seconds_avg',
    help: 'Average seconds from receipt to processed, over the last 1,000 inbound documents per partner',
    labelNames: ['partner'],
    registers: [registry],
    async collect() {
      this.reset();
      const rows = (await db('documents').whereNotNull('processed_at').where({ direction: 'in' }).orderBy('id', 'desc').limit(1000).select('partner_id', 'received_at', 'processed_at')) as Record<string, unknown>[];
      const sums = new Map<string, [number, number]>();
      for (const r of rows) {
        const p = String(r.partner_id ?? 'unknown');
        const s = sums.get(p) ?? [0, 0];
        s[0] += Math.max(0, Date.parse(String(r.processed_at)) - Date.parse(String(r.received_at))) / 1000;
        s[1]++;
        sums.set(p, s);
      }
      for (const [p, [sum, n]] of sums) this.set({ partner: p }, sum / n);
    },
  });

  new Gauge({
    name: 'gateway_outbox',
    help: 'Outbox entries by partner, kind and status',
    labelNames: ['partner', 'kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of (await db('outbox').select('partner_id', 'kind', 'status').count({ n: '*' }).groupBy('partner_id', 'kind', 'status')) as Record<string, unknown>[]) {
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
      const rows = await db('outbox').where({ status: 'SENT' }).whereNull('ack_status').whereIn('kind', ACKED_KINDS).select('partner_id', 'kind', 'status', 'ack_status', 'sent_at');
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

  return { contentType: registry.contentType, render: () => registry.metrics() };
}
