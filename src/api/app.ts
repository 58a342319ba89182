import Router from '@koa/router';
import Koa from 'koa';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ERRORS, GatewayError, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { availabilityView, heldView, showDivergence, showHeld, showOversell, supplyView } from '../pipeline/availability-view.ts';
import { dryRun } from '../pipeline/dry-run.ts';
import type { GatewayPipeline } from '../pipeline/gateway-pipeline.ts';
import { orderTimeline } from '../pipeline/order-timeline.ts';
import { divergences, orders } from '../store/availability-repository.ts';
import { fromUnits } from '../domain/quantity.ts';
import { provisionalItems } from '../store/item-repository.ts';
import { oversells } from '../store/promise-repository.ts';
import type { Db } from '../store/db.ts';
import { migrationsCurrent } from '../store/db.ts';
import { documents, type DocumentQuery } from '../store/document-repository.ts';
import { events } from '../store/event-repository.ts';
import { ACKED_KINDS, ackState, outbox } from '../store/outbox-repository.ts';
import type { RawStore } from '../store/raw-store.ts';
import { rejections } from '../store/rejection-repository.ts';
import { createMetrics } from './metrics.ts';
import type { Kpis } from '../core/kpis.ts';
import { feedStates } from '../pipeline/feed-watch.ts';
import { consoleMiddleware, isConsolePath } from './console.ts';

/**
 * The operators' and admins' API (Koa, JSON throughout, documented in docs/openapi.yaml). Every
 * request that changes something needs a bearer token from the config (kept as its sha256,
 * compared in constant time); reads too when `api.tokensForReads`. Errors are
 * `{ error: { code, message, correlationId } }`, never a stack trace.
 */
export interface ApiDeps {
  db: Db;
  /** Read-only handle for what the API only reads (a pool of readers on SQLite). */
  readDb: Db;
  raw: RawStore;
  pipeline: GatewayPipeline;
  mappings: MappingRegistry;
  mappingsDir: string;
  partners: PartnerDirectory;
  logger: Logger;
  startedAt: Date;
  auth: { tokens: { name: string; sha256: string }[]; tokensForReads: boolean; maxBodyBytes: number };
  /** The key figures counted as they happen (GET /metrics). */
  kpis?: Kpis;
}

function fail(code: ErrorCode, message?: string): never {
  throw new GatewayError(code, message);
}

/** The sha256 (hex) a token is configured as. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The name of the configured token `presented` is, compared in constant time; null if none. */
function tokenName(presented: string, tokens: { name: string; sha256: string }[]): string | null {
  const h = Buffer.from(tokenHash(presented), 'hex');
  let found: string | null = null;
  for (const t of tokens) if (timingSafeEqual(h, Buffer.from(t.sha256, 'hex')) && !found) found = t.name;
  return found;
}

const OPEN = new Set(['/health', '/ready']);
const READ = new Set(['GET', 'HEAD', 'OPTIONS']);

function int(v: unknown, name: string, o: { min?: number; max?: number; def?: number } = {}): number | undefined {
  if (v === undefined) return o.def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < (o.min ?? 1) || n > (o.max ?? Number.MAX_SAFE_INTEGER)) {
    fail('GW_BAD_REQUEST', `${name} must be an integer${o.max ? ` from ${o.min ?? 1} to ${o.max}` : ` of at least ${o.min ?? 1}`}`);
  }
  return n;
}

function str(v: unknown, name: string, re?: RegExp): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v || (re && !re.test(v))) fail('GW_BAD_REQUEST', `${name} is not valid`);
  return v;
}

function time(v: unknown, name: string): string | undefined {
  const s = str(v, name);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) fail('GW_BAD_REQUEST', `${name} must be an ISO 8601 time`);
  return new Date(t).toISOString();
}

async function body(ctx: Koa.Context, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > limit) fail('GW_PAYLOAD_TOO_LARGE', `the limit is ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.req) {
    size += (c as Buffer).length;
    if (size > limit) fail('GW_PAYLOAD_TOO_LARGE', `the limit is ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  if (!size) return {};
  if (!/json/.test(ctx.get('Content-Type'))) fail('GW_BAD_REQUEST', 'the body must be JSON (Content-Type: application/json)');
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch {
    fail('GW_BAD_REQUEST', 'the body is not a JSON object');
  }
}

/**
 * One naming style for the API (camelCase): a store row's column names as JSON keys, with the
 * internals an operator has no use for (leases, claims, file paths) left out. Rows only: their
 * keys are column names, never data (an item id with an underscore is a value, not a key here).
 */
const INTERNAL = new Set(['source_path', 'raw_path', 'content', 'content_path', 'claimed_by', 'lease_until', 'source_done', 'starts']);
export function apiRow(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!INTERNAL.has(k)) out[k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = v;
  return out;
}

/** A mapping file's path under mappings/: `<scope>/<name>.yaml`, nothing else. */
const MAPPING_FILE = /^(_shared|[a-z0-9][a-z0-9_-]*)\/[A-Za-z0-9][A-Za-z0-9_.-]*\.ya?ml$/;

export function createApi(deps: ApiDeps): Koa {
  const app = new Koa();
  const router = new Router();
  const metrics = createMetrics({ ...deps, db: deps.readDb });

  app.use(async (ctx, next) => {
    const incoming = ctx.get('X-Correlation-Id');
    const correlationId = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Correlation-Id', correlationId);
    const log = deps.logger.child({ correlationId });
    ctx.state.log = log;
    ctx.state.correlationId = correlationId;
    const started = Date.now();
    try {
      if (!OPEN.has(ctx.path) && !(isConsolePath(ctx.path) && READ.has(ctx.method)) && (!READ.has(ctx.method) || deps.auth.tokensForReads)) {
        const m = /^Bearer (\S{1,512})$/.exec(ctx.get('Authorization'));
        if (!m) fail('GW_UNAUTHORIZED', deps.auth.tokens.length ? undefined : 'no API tokens are configured (api.tokens): changes through the API are disabled');
        const who = tokenName(m[1], deps.auth.tokens);
        if (!who) fail('GW_FORBIDDEN');
        ctx.state.tokenName = who;
      }
      await next();
      if (ctx.status === 404 && ctx.body === undefined) fail('GW_NOT_FOUND', `no route ${ctx.method} ${ctx.path}`);
    } catch (e) {
      const code: ErrorCode = e instanceof GatewayError ? e.code : 'GW_INTERNAL';
      const def = ERRORS[code];
      ctx.status = def.http;
      ctx.body = { error: { code, message: e instanceof GatewayError ? e.message : def.message, correlationId } };
      if (code === 'GW_UNAUTHORIZED') ctx.set('WWW-Authenticate', 'Bearer');
      if (code === 'GW_INTERNAL') log.error({ err: String((e as Error).stack ?? e) }, 'request failed');
    }
    log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started, token: ctx.state.tokenName }, 'request');
  });

  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) };
  });

  router.get('/ready', async (ctx) => {
    const problems: string[] = [];
    try {
      // Through the read pool: readiness never waits behind a document's transaction.
      await deps.readDb.raw('select 1');
      if (!(await migrationsCurrent(deps.readDb))) problems.push('database migrations are not current');
    } catch (e) {
      problems.push(`database unreachable: ${String((e as Error).message ?? e)}`);
    }
    const channels = deps.pipeline.channelStatus();
    for (const c of channels) if (c.lastError) problems.push(`${c.channel}: ${c.lastError}`);
    // A channel error is reported but does not make the gateway unready (the others still work).
    const fatal = problems.filter((p) => p.startsWith('database'));
    ctx.status = fatal.length ? 503 : 200;
    ctx.body = { status: fatal.length ? 'not-ready' : 'ready', problems, pipeline: deps.pipeline.stats, lastError: deps.pipeline.lastError, channels };
  });

  router.get('/partners', async (ctx) => {
    // Feeds from their table (a business document resets a feed, a 997 or a rejected file does not).
    const states = new Map((await feedStates(deps.readDb, deps.partners, Date.now())).map((f) => [f.partner, f]));
    const lastOut = new Map<string, string>();
    for (const r of (await deps.readDb('outbox').whereNotNull('sent_at').select('partner_id').max({ at: 'sent_at' }).groupBy('partner_id')) as { partner_id: string; at: string }[]) lastOut.set(r.partner_id, r.at);
    const failing = new Map<string, number>();
    for (const r of (await deps.readDb('outbox').where({ status: 'FAILED' }).select('partner_id').count({ n: '*' }).groupBy('partner_id')) as { partner_id: string; n: unknown }[]) failing.set(r.partner_id, Number(r.n));
    const channels = deps.pipeline.channelStatus();
    ctx.body = {
      partners: deps.partners.all().map((p) => {
        const f = states.get(p.id);
        return {
          id: p.id,
          name: p.name,
          interchange: p.interchange,
          lastInboundAt: f?.lastInboundAt ?? null,
          lastOutboundAt: lastOut.get(p.id) ?? null,
          feedAgeSeconds: f?.ageSeconds == null ? null : Math.round(f.ageSeconds),
          expectFeedWithinMinutes: p.expectFeedWithinMinutes ?? null,
          stale: f?.stale ?? false,
          failedDeliveries: failing.get(p.id) ?? 0,
          channels: channels.filter((c) => c.partner === p.id),
        };
      }),
    };
  });

  const documentQuery = (q: Record<string, unknown>): DocumentQuery => {
    const direction = str(q.direction, 'direction', /^(in|out)$/) as 'in' | 'out' | undefined;
    const partnerId = str(q.partner, 'partner');
    if (partnerId && !deps.partners.get(partnerId)) fail('GW_BAD_REQUEST', `unknown partner ${partnerId}`);
    return {
      limit: int(q.limit, 'limit', { min: 1, max: 500, def: 50 })!,
      before: int(q.before, 'before'),
      partnerId,
      direction,
      set: str(q.set, 'set', /^\d{3}$|^xml$/),
      status: str(q.status, 'status', /^[A-Z]{1,16}$/),
      from: time(q.from, 'from'),
      to: time(q.to, 'to'),
      po: str(q.po, 'po', /^.{1,64}$/),
      control: str(q.control, 'control', /^\d{1,9}$/),
      correlation: str(q.correlation, 'correlation', /^[A-Za-z0-9._-]{1,64}$/),
    };
  };

  router.get('/documents', async (ctx) => {
    const q = documentQuery(ctx.query);
    const rows = await documents.list(deps.readDb, q);
    ctx.body = { documents: rows.map((d) => apiRow(d as unknown as Record<string, unknown>)), next: rows.length === q.limit ? rows[rows.length - 1].id : null };
  });

  const PREVIEW = 64 * 1024;
  router.get('/documents/:id', async (ctx) => {
    const id = int(ctx.params.id, 'document id')!;
    const doc = await documents.get(deps.readDb, id);
    if (!doc) fail('GW_NOT_FOUND', `no document ${id}`);
    const head = doc.raw_path ? await deps.raw.head(doc.raw_path, PREVIEW).catch(() => null) : null;
    const held = await heldView(deps.readDb, { documentId: id, limit: 500 });
    ctx.body = {
      document: apiRow(doc as unknown as Record<string, unknown>),
      envelope: (await deps.readDb('interchanges').where({ document_id: id }).orderBy('seq').select('seq', 'sender', 'receiver', 'isa13', 'status', 'partner_id')).map(apiRow),
      raw: head ? { size: doc.size, truncated: doc.size > head.length, content: head.toString('latin1'), href: `/documents/${id}/raw` } : null,
      rejections: (await rejections.forDocument(deps.readDb, id)).map(apiRow),
      events: await events.forDocument(deps.readDb, id),
      acks: (await outbox.forDocument(deps.readDb, id)).map((o) => ({ ...apiRow(o as unknown as Record<string, unknown>), size: o.content.length })),
      replays: (await deps.readDb('documents').where({ replay_of: id }).orderBy('id').select('id', 'status', 'event_count', 'received_at')).map((r) => apiRow({ ...r, id: Number(r.id) })),
      // Its events held back (WAITING, CONFLICT) and what became of them.
      held,
      // The orders' flows it belongs to (their correlation ids: GET /documents?correlation=).
      flows: await documents.flowsOf(deps.readDb, id),
      timeline: [
        { at: doc.received_at, what: 'received', channel: doc.channel },
        ...(doc.processed_at ? [{ at: doc.processed_at, what: doc.status.toLowerCase(), code: doc.error_code }] : []),
        ...(await outbox.forDocument(deps.readDb, id)).flatMap((o) => [
          { at: o.created_at, what: `${o.kind} queued`, outboxId: o.id },
          ...(o.sent_at ? [{ at: o.sent_at, what: `${o.kind} sent`, outboxId: o.id }] : []),
        ]),
        ...held.flatMap((h) => [
          { at: h.createdAt, what: h.waitsFor ? 'waiting' : 'held', code: h.code, waitsFor: h.waitsFor },
          ...(h.settledAt ? [{ at: h.settledAt, what: String(h.status).toLowerCase(), by: h.settledBy }] : []),
        ]),
      ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)),
    };
  });

  router.get('/documents/:id/raw', async (ctx) => {
    const id = int(ctx.params.id, 'document id')!;
    const doc = await documents.get(deps.readDb, id);
    if (!doc) fail('GW_NOT_FOUND', `no document ${id}`);
    if (!doc.raw_path) fail('GW_NOT_FOUND', `document ${id} has no stored bytes (${doc.error_code ?? 'not kept'})`);
    ctx.type = 'application/octet-stream';
    ctx.set('Content-Disposition', `attachment; filename="${doc.filename.replace(/[^\w.-]/g, '_')}"`);
    ctx.body = deps.raw.read(doc.raw_path);
  });

  router.post('/documents/:id/replay', async (ctx) => {
    const id = int(ctx.params.id, 'document id')!;
    const r = await deps.pipeline.replay(id, ctx.state.correlationId);
    ctx.state.log.info({ replayOf: id, documentId: r.outcome.documentId, status: r.outcome.status, token: ctx.state.tokenName }, 'replay requested');
    ctx.status = 201;
    ctx.body = {
      replayOf: id,
      document: r.outcome.documentId,
      status: r.outcome.status,
      eventCount: r.outcome.eventCount,
      movements: r.outcome.movements,
      errorCode: r.outcome.errorCode,
      rejections: r.outcome.rejections.slice(0, 200),
    };
  });

  // Inbound documents that failed (rejected, parked, partly rejected) and have no successful replay.
  router.get('/dead-letters', async (ctx) => {
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 500, def: 50 })!;
    const before = int(ctx.query.before, 'before');
    const partner = str(ctx.query.partner, 'partner');
    let q = documents
      .deadLetters(deps.readDb)
      .orderBy('d.id', 'desc')
      .limit(limit)
      .select('d.id', 'd.partner_id', 'd.channel', 'd.filename', 'd.status', 'd.error_code', 'd.error_message', 'd.received_at', 'd.replay_of');
    if (before) q = q.where('d.id', '<', before);
    if (partner) q = q.where('d.partner_id', partner);
    const rows = (await q).map((r) => apiRow({ ...r, id: Number(r.id) }));
    ctx.body = { deadLetters: rows, next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  // Events held: WAITING for what they refer to (a PO), or in CONFLICT with what their business key had.
  router.get('/held', async (ctx) => {
    const status = str(ctx.query.status, 'status');
    if (status && !['WAITING', 'CONFLICT', 'APPLIED', 'EXPIRED', 'DISCARDED'].includes(status)) fail('GW_BAD_REQUEST', 'status must be WAITING, CONFLICT, APPLIED, EXPIRED or DISCARDED');
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 500, def: 50 })!;
    const rows = await heldView(deps.readDb, { status, partnerId: str(ctx.query.partner, 'partner'), documentId: int(ctx.query.document, 'document'), before: int(ctx.query.before, 'before'), limit });
    ctx.body = { held: rows, next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  // Supplier ship notices not received in full (overdue=true: those whose expected date passed).
  router.get('/supply', async (ctx) => {
    const overdue = str(ctx.query.overdue, 'overdue');
    if (overdue && !['true', 'false'].includes(overdue)) fail('GW_BAD_REQUEST', 'overdue must be true or false');
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 5000, def: 100 })!;
    ctx.body = { notices: await supplyView(deps.readDb, { overdue: overdue === 'true', partnerId: str(ctx.query.partner, 'partner'), limit }, new Date()) };
  });

  const settle = (action: 'release' | 'discard') => async (ctx: Koa.ParameterizedContext) => {
    const id = int(ctx.params.id, 'held id')!;
    const r = await deps.pipeline.settleHeld(id, action, `api:${ctx.state.tokenName ?? 'anonymous'}`);
    ctx.state.log.info({ heldId: id, action, token: ctx.state.tokenName }, `held event: ${action}`);
    ctx.body = { held: showHeld(r.held), released: r.result.released, movements: r.result.releasedMovements, asns: r.result.asns.length };
  };
  router.post('/held/:id/release', settle('release'));
  router.post('/held/:id/discard', settle('discard'));

  router.get('/availability/:item', async (ctx) => {
    const partner = str(ctx.query.partner, 'partner');
    if (partner && !deps.partners.get(partner)) fail('GW_BAD_REQUEST', `unknown partner ${partner}`);
    const view = await availabilityView(deps.readDb, deps.partners, { item: ctx.params.item, location: str(ctx.query.location, 'location'), partner });
    if (!(view.positions as unknown[]).length && !view.partnerView) fail('GW_NOT_FOUND', `no position for item ${ctx.params.item}`);
    ctx.body = view;
  });

  router.get('/divergences', async (ctx) => {
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 5000, def: 100 })!;
    const rows = await divergences.list(deps.readDb, {
      partnerId: str(ctx.query.partner, 'partner'),
      documentId: int(ctx.query.document, 'document'),
      onlyDifferent: ctx.query.all !== 'true',
      limit,
    });
    ctx.body = { divergences: rows.map(showDivergence) };
  });

  // PO lines short of what their partner had been promised (physical stock dropped below a promise).
  router.get('/oversells', async (ctx) => {
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 5000, def: 100 })!;
    const rows = await oversells.list(deps.readDb, { partnerId: str(ctx.query.partner, 'partner'), po: str(ctx.query.po, 'po'), before: int(ctx.query.before, 'before'), limit });
    ctx.body = { oversells: rows.map(showOversell), next: rows.length === limit ? Number(rows[rows.length - 1].id) : null };
  });

  // Items no crosswalk knows: their ids and where they were seen (a crosswalk entry makes one a SKU).
  router.get('/items/provisional', async (ctx) => {
    const status = str(ctx.query.status, 'status') ?? 'PROVISIONAL';
    if (!['PROVISIONAL', 'PROMOTED', 'MERGED'].includes(status)) fail('GW_BAD_REQUEST', 'status must be PROVISIONAL, PROMOTED or MERGED');
    ctx.body = { items: await provisionalItems.list(deps.readDb, { status, limit: int(ctx.query.limit, 'limit', { min: 1, max: 5000, def: 100 })! }) };
  });

  router.get('/orders', async (ctx) => {
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 1000, def: 100 })!;
    const status = str(ctx.query.status, 'status', /^(open|overdue|released|OPEN|BACKORDERED|SHIPPED|CANCELLED|REJECTED|backordered|shipped|cancelled|rejected)$/);
    const rows = await orders.list(deps.readDb, { status, partnerId: str(ctx.query.partner, 'partner'), before: int(ctx.query.before, 'before'), limit, today: new Date().toISOString().slice(0, 10) });
    ctx.body = {
      orders: rows.map((r) => ({ poNumber: r.po_number, partner: r.partner_id, status: r.status, receivedAt: r.received_at, lines: r.lines, ordered: fromUnits(r.ordered), committed: fromUnits(r.committed), backordered: fromUnits(r.backordered), shipped: fromUnits(r.shipped), released: fromUnits(r.released), ...(r.due ? { due: r.due } : {}), id: r.id })),
      next: rows.length === limit ? rows.at(-1)!.id : null,
    };
  });

  router.get('/orders/:po', async (ctx) => {
    const partner = str(ctx.query.partner, 'partner');
    const t = await orderTimeline(deps.readDb, deps.partners, ctx.params.po, partner, new Date());
    if (!t) fail('GW_NOT_FOUND', `no order ${ctx.params.po}`);
    ctx.body = t;
  });

  router.get('/outbox', async (ctx) => {
    const limit = int(ctx.query.limit, 'limit', { min: 1, max: 1000, def: 100 })!;
    const before = int(ctx.query.before, 'before');
    const wanted = str(ctx.query.status, 'status', /^(PENDING|SENT|FAILED|acknowledged|rejected|overdue|awaited)$/);
    let q = deps.readDb('outbox').orderBy('id', 'desc').limit(limit);
    if (before) q = q.where('id', '<', before);
    const partner = str(ctx.query.partner, 'partner');
    const kind = str(ctx.query.kind, 'kind');
    const correlation = str(ctx.query.correlation, 'correlation', /^[A-Za-z0-9._-]{1,64}$/);
    if (correlation) q = q.where('correlation_id', correlation);
    if (partner) q = q.where('partner_id', partner);
    if (kind) q = q.where('kind', kind);
    if (wanted && /^[A-Z]/.test(wanted)) q = q.where('status', wanted);
    if (wanted === 'acknowledged') q = q.whereIn('ack_status', ['accepted', 'accepted-with-errors', 'partially-accepted']);
    if (wanted === 'rejected') q = q.where('ack_status', 'rejected');
    if (wanted === 'overdue' || wanted === 'awaited') q = q.where('status', 'SENT').whereNull('ack_status').whereIn('kind', ACKED_KINDS);
    const now = Date.now();
    const rows = (await q).map(({ content, ...o }) => {
      const ack = ackState(o, deps.partners.get(o.partner_id)?.acks.expect997WithinMinutes ?? 60, now);
      return { ...o, id: Number(o.id), size: o.content_path ? null : String(content).length, ack };
    });
    // An 846 lists the documents whose stock movements it carries (correlation from what landed to what the partner was told).
    const sources = new Map<number, number[]>();
    const ids846 = rows.filter((r) => r.kind === '846').map((r) => r.id);
    if (ids846.length) for (const x of (await deps.readDb('outbox_sources').whereIn('outbox_id', ids846).orderBy('document_id').select('outbox_id', 'document_id')) as { outbox_id: unknown; document_id: unknown }[]) sources.set(Number(x.outbox_id), [...(sources.get(Number(x.outbox_id)) ?? []), Number(x.document_id)]);
    const kept = wanted === 'overdue' ? rows.filter((r) => r.ack === 'overdue') : wanted === 'awaited' ? rows.filter((r) => r.ack === 'awaited') : rows;
    const shown = kept.map((r) => ({ ...apiRow(r), ...(r.kind === '846' ? { sourceDocuments: sources.get(r.id) ?? [] } : {}) }));
    ctx.body = { outbox: shown, next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  router.post('/outbox/:id/resend', async (ctx) => {
    const id = int(ctx.params.id, 'outbox id')!;
    const row = await deps.db('outbox').where({ id }).first('id', 'status');
    if (!row) fail('GW_NOT_FOUND', `no outbox entry ${id}`);
    if (row.status === 'PENDING') fail('GW_CONFLICT', `outbox entry ${id} is already waiting to be sent`);
    await outbox.resend(deps.db, { ids: [id] });
    ctx.state.log.info({ outboxId: id, token: ctx.state.tokenName }, 'resend requested');
    void deps.pipeline.dispatch();
    ctx.status = 202;
    ctx.body = { outboxId: id, status: 'PENDING' };
  });

  router.get('/mappings', (ctx) => {
    ctx.body = { mappings: deps.mappings.list(), refused: deps.mappings.refused() };
  });

  const draftOf = async (ctx: Koa.Context) => {
    const b = await body(ctx, deps.auth.maxBodyBytes);
    const file = str(b.file, 'file', MAPPING_FILE);
    const text = b.text;
    if (!file) fail('GW_BAD_REQUEST', 'file is required (<scope>/<name>.yaml)');
    if (typeof text !== 'string') fail('GW_BAD_REQUEST', 'text is required (the YAML of the draft)');
    return { b, file, text };
  };

  router.post('/mappings/validate', async (ctx) => {
    const { file, text } = await draftOf(ctx);
    const problems = deps.mappings.validate({ rel: file, text });
    ctx.body = { file, valid: !problems.length, problems };
  });

  router.post('/mappings/dry-run', async (ctx) => {
    const { b, file, text } = await draftOf(ctx);
    const { registry, problems } = deps.mappings.draft({ rel: file, text });
    if (!registry) {
      ctx.status = 422;
      ctx.body = { file, valid: false, problems };
      return;
    }
    let docs;
    if (b.documents !== undefined) {
      if (!Array.isArray(b.documents) || !b.documents.length || b.documents.length > 200 || !b.documents.every((n) => Number.isSafeInteger(n) && n > 0)) fail('GW_BAD_REQUEST', 'documents must be 1 to 200 document ids');
      docs = (await Promise.all((b.documents as number[]).map((id) => documents.get(deps.readDb, id)))).filter((d) => !!d);
    } else {
      // The newest inbound documents the draft could apply to: its partner's (or all), its set.
      const [scope, name] = file.split('/');
      const set = /^(\d{3})\./.exec(name)?.[1];
      const limit = b.limit === undefined ? 20 : Number(b.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 200) fail('GW_BAD_REQUEST', 'limit must be an integer from 1 to 200');
      docs = await documents.list(deps.readDb, { limit, direction: 'in', partnerId: scope === '_shared' ? undefined : scope, set: set ?? (name.includes('.xml.') ? 'xml' : undefined) });
      docs = docs.filter((d) => d.replay_of === null);
    }
    const diffs = await dryRun(docs, deps.raw, deps.partners, deps.mappings, registry);
    ctx.body = {
      file,
      valid: true,
      documents: diffs.length,
      changedDocuments: diffs.filter((d) => d.added.length || d.removed.length || d.changed.length || d.active.errors.join() !== d.draft.errors.join()).length,
      diffs,
    };
  });

  router.post('/mappings/activate', async (ctx) => {
    const { file, text } = await draftOf(ctx);
    const refuse = (problems: unknown[]) => {
      ctx.status = 422;
      ctx.body = { file, activated: false, problems };
    };
    const invalid = deps.mappings.validate({ rel: file, text });
    if (invalid.length) return refuse(invalid);
    // Kept in the mappings folder (temp name, then rename), so it is what starts next time. The
    // file is written before the version is activated: the folder watcher, which reads the file
    // when it sees a change, can then never put back an older text after this activation.
    const target = path.join(deps.mappingsDir, ...file.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    await writeFile(tmp, text);
    await rename(tmp, target);
    const problems = deps.mappings.update({ rel: file, text });
    if (problems.length) return refuse(problems);
    ctx.state.log.info({ file, token: ctx.state.tokenName }, 'mapping activated through the API');
    const id = deps.mappings.list().find((m) => m.file === file);
    ctx.body = { file, activated: true, version: id?.version ?? null, sha: id?.sha ?? null };
  });

  // The key figures over time for the console's charts: per bucket (5 minutes up to 6 hours, else
  // an hour) documents received, rejected and duplicate, the mean processing time and the mean
  // time from landing to the 846 that carried a document's movements. Reads the window only.
  router.get('/kpis', async (ctx) => {
    const hours = int(ctx.query.hours, 'hours', { min: 1, max: 24 * 14, def: 24 })!;
    const bucket = hours <= 6 ? 300 : 3600;
    const now = Math.floor(Date.now() / 1000);
    const start = Math.floor((now - hours * 3600) / bucket) * bucket;
    const since = new Date(start * 1000).toISOString();
    const n = Math.ceil((now - start) / bucket) + 1;
    const zero = () => Array.from({ length: n }, () => 0);
    const series = { received: zero(), rejected: zero(), duplicates: zero(), processingSeconds: zero(), landingTo846Seconds: zero() };
    const counts = { processing: zero(), landing: zero() };
    const at = (iso: string) => Math.min(n - 1, Math.max(0, Math.floor((Date.parse(iso) / 1000 - start) / bucket)));
    for (const d of (await deps.readDb('documents').where('received_at', '>=', since).where({ direction: 'in' }).whereNull('replay_of').select('received_at', 'processed_at', 'status')) as { received_at: string; processed_at: string | null; status: string }[]) {
      const i = at(d.received_at);
      series.received[i]++;
      if (['REJECTED', 'PARKED', 'PARTIAL', 'FAILED', 'EXPIRED'].includes(d.status)) series.rejected[i]++;
      if (d.status === 'DUPLICATE') series.duplicates[i]++;
      if (d.processed_at) {
        series.processingSeconds[i] += Math.max(0, (Date.parse(d.processed_at) - Date.parse(d.received_at)) / 1000);
        counts.processing[i]++;
      }
    }
    for (const r of (await deps.readDb('outbox_sources as s').join('documents as d', 'd.id', 's.document_id').join('outbox as o', 'o.id', 's.outbox_id').where('d.received_at', '>=', since).select('d.received_at', 'o.created_at')) as { received_at: string; created_at: string }[]) {
      const i = at(r.received_at);
      series.landingTo846Seconds[i] += Math.max(0, (Date.parse(r.created_at) - Date.parse(r.received_at)) / 1000);
      counts.landing[i]++;
    }
    for (let i = 0; i < n; i++) {
      series.processingSeconds[i] = counts.processing[i] ? series.processingSeconds[i] / counts.processing[i] : 0;
      series.landingTo846Seconds[i] = counts.landing[i] ? series.landingTo846Seconds[i] / counts.landing[i] : 0;
    }
    ctx.body = { hours, bucketSeconds: bucket, at: Array.from({ length: n }, (_, i) => start + i * bucket), ...series };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.contentType;
    ctx.body = await metrics.render();
  });

  app.use(consoleMiddleware());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
