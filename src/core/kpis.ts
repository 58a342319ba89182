import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The gateway's key figures counted as they happen (prom-client), so that a scrape reads
 * counters and a few indexed rows, never the whole store. One per running gateway; GET /metrics
 * serves them with the store gauges (src/api/metrics.ts). Counters start at 0 with each process:
 * Prometheus' rate() and increase() take restarts in their stride.
 */
export class Kpis {
  readonly registry = new Registry();

  /** Files taken in, by partner and channel. */
  readonly received = new Counter({ name: 'gateway_documents_received_total', help: 'Inbound documents taken in, by partner and channel', labelNames: ['partner', 'channel'], registers: [this.registry] });

  /** Documents processed, by partner and outcome (DUPLICATE: a resend nothing new came of). */
  readonly processed = new Counter({ name: 'gateway_documents_processed_total', help: 'Inbound documents processed, by partner and status (PROCESSED, PARTIAL, REJECTED, DUPLICATE, WAITING, PARKED, FAILED)', labelNames: ['partner', 'status'], registers: [this.registry] });

  readonly rejections = new Counter({ name: 'gateway_rejections_total', help: 'Rejections and warnings recorded, by partner, code and severity', labelNames: ['partner', 'code', 'severity'], registers: [this.registry] });

  readonly oversells = new Counter({ name: 'gateway_oversells_total', help: 'PO lines short of what their partner had been promised, by the partner whose document they came with', labelNames: ['partner'], registers: [this.registry] });

  readonly backorders = new Counter({ name: 'gateway_backorders_total', help: 'PO lines backordered (at commit, or shipped short), by the partner whose document they came with', labelNames: ['partner'], registers: [this.registry] });

  readonly delivered = new Counter({ name: 'gateway_deliveries_total', help: 'Outbound files delivered (folder or SFTP), by partner and kind', labelNames: ['partner', 'kind'], registers: [this.registry] });

  readonly processing = new Histogram({ name: 'gateway_processing_seconds', help: 'Seconds from a document landing to its processing committed, by partner', labelNames: ['partner'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers: [this.registry] });

  /** From a document landing to the 846 that carries its movements being built, by the 846's recipient. */
  readonly landingTo846 = new Histogram({ name: 'gateway_landing_to_846_seconds', help: 'Seconds from a document landing to the 846 carrying its stock movements, by the partner the 846 is for', labelNames: ['partner'], buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14400], registers: [this.registry] });

  /** From the shipment document landing to the retailer's 856 built from it. */
  readonly landingTo856 = new Histogram({ name: 'gateway_landing_to_856_seconds', help: 'Seconds from a shipment document (945, 856, XML) landing to the retailer\'s 856 built from it, by retailer', labelNames: ['partner'], buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers: [this.registry] });
}
