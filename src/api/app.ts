import Router from '@koa/router';
import Koa from 'koa';
import { randomUUID } from 'node:crypto';
import { ERRORS, GatewayError, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/ports.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import type { GatewayPipeline } from '../pipeline/gateway-pipeline.ts';
import type { Db } from '../store/db.ts';
import { migrationsCurrent } from '../store/db.ts';
import { documents } from '../store/document-repository.ts';
import { events } from '../store/event-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { rejections } from '../store/rejection-repository.ts';
import { divergences } from '../store/availability-repository.ts';
import { availabilityView, showDivergence } from '../pipeline/availability-view.ts';
import { orderTimeline } from '../pipeline/order-timeline.ts';
import type { PartnerDirectory } from '../domain/partner.ts';

/** The operators' status API (grows in issue 6). JSON throughout; errors carry a GW_ code. */
export interface ApiDeps {
  db: Db;
  pipeline: GatewayPipeline;
  mappings: MappingRegistry;
  partners: PartnerDirectory;
  logger: Logger;
  startedAt: Date;
}

function fail(code: ErrorCode, message?: string): never {
  throw new GatewayError(code, message);
}

export function createApi(deps: ApiDeps): Koa {
  const app = new Koa();
  const router = new Router();

  app.use(async (ctx, next) => {
    const incoming = ctx.get('X-Correlation-Id');
    const correlationId = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Correlation-Id', correlationId);
    const started = Date.now();
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) fail('GW_NOT_FOUND', `no route ${ctx.method} ${ctx.path}`);
    } catch (e) {
      const code: ErrorCode = e instanceof GatewayError ? e.code : 'GW_INTERNAL';
      const def = ERRORS[code];
      ctx.status = def.http;
      ctx.body = { error: { code, message: e instanceof GatewayError ? e.message : def.message, correlationId } };
      if (code === 'GW_INTERNAL') deps.logger.error({ correlationId, err: String((e as Error).stack ?? e) }, 'request failed');
    }
    deps.logger.debug({ correlationId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started }, 'request');
  });

  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000) };
  });

  router.get('/ready', async (ctx) => {
    const problems: string[] = [];
    try {
      await deps.db.raw('select 1');
      if (!(await migrationsCurrent(deps.db))) problems.push('database migrations are not current');
    } catch (e) {
      problems.push(`database unreachable: ${String(e)}`);
    }
    ctx.status = problems.length ? 503 : 200;
    ctx.body = { status: problems.length ? 'not-ready' : 'ready', problems, pipeline: deps.pipeline.stats, lastError: deps.pipeline.lastError, channels: deps.pipeline.channelStatus() };
  });

  router.get('/documents', async (ctx) => {
    const limit = ctx.query.limit === undefined ? 50 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) fail('GW_BAD_REQUEST', 'limit must be an integer from 1 to 500');
    const before = ctx.query.before === undefined ? undefined : Number(ctx.query.before);
    if (before !== undefined && !(Number.isInteger(before) && before > 0)) fail('GW_BAD_REQUEST', 'before must be a document id');
    const rows = await documents.list(deps.db, {
      limit,
      afterId: before,
      status: typeof ctx.query.status === 'string' ? ctx.query.status : undefined,
      partnerId: typeof ctx.query.partner === 'string' ? ctx.query.partner : undefined,
    });
    ctx.body = { documents: rows, next: rows.length === limit ? rows[rows.length - 1].id : null };
  });

  router.get('/documents/:id', async (ctx) => {
    const id = Number(ctx.params.id);
    if (!Number.isInteger(id) || id < 1) fail('GW_BAD_REQUEST', 'document ids are positive integers');
    const doc = await documents.get(deps.db, id);
    if (!doc) fail('GW_NOT_FOUND', `no document ${id}`);
    ctx.body = {
      document: doc,
      rejections: await rejections.forDocument(deps.db, id),
      events: await events.forDocument(deps.db, id),
      acks: (await outbox.forDocument(deps.db, id)).map(({ content, ...o }) => ({ ...o, size: content.length })),
    };
  });

  router.get('/availability/:item', async (ctx) => {
    const partner = typeof ctx.query.partner === 'string' ? ctx.query.partner : undefined;
    if (partner && !deps.partners.get(partner)) fail('GW_BAD_REQUEST', `unknown partner ${partner}`);
    const view = await availabilityView(deps.db, deps.partners, { item: ctx.params.item, location: typeof ctx.query.location === 'string' ? ctx.query.location : undefined, partner });
    if (!(view.positions as unknown[]).length && !view.partnerView) fail('GW_NOT_FOUND', `no position for item ${ctx.params.item}`);
    ctx.body = view;
  });

  router.get('/divergences', async (ctx) => {
    const limit = ctx.query.limit === undefined ? 100 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000) fail('GW_BAD_REQUEST', 'limit must be an integer from 1 to 5000');
    const document = ctx.query.document === undefined ? undefined : Number(ctx.query.document);
    if (document !== undefined && !(Number.isInteger(document) && document > 0)) fail('GW_BAD_REQUEST', 'document must be a document id');
    const rows = await divergences.list(deps.db, {
      partnerId: typeof ctx.query.partner === 'string' ? ctx.query.partner : undefined,
      documentId: document,
      onlyDifferent: ctx.query.all !== 'true',
      limit,
    });
    ctx.body = { divergences: rows.map(showDivergence) };
  });

  router.get('/orders/:po', async (ctx) => {
    const partner = typeof ctx.query.partner === 'string' ? ctx.query.partner : undefined;
    const t = await orderTimeline(deps.db, deps.partners, ctx.params.po, partner, new Date());
    if (!t) fail('GW_NOT_FOUND', `no order ${ctx.params.po}`);
    ctx.body = t;
  });

  router.get('/outbox', async (ctx) => {
    const limit = ctx.query.limit === undefined ? 100 : Number(ctx.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail('GW_BAD_REQUEST', 'limit must be an integer from 1 to 1000');
    let q = deps.db('outbox').orderBy('id', 'desc').limit(limit);
    for (const k of ['partner', 'kind', 'status'] as const) {
      const v = ctx.query[k];
      if (typeof v === 'string') q = q.where(k === 'partner' ? 'partner_id' : k, v);
    }
    const now = Date.now();
    ctx.body = {
      outbox: (await q).map(({ content, ...o }) => {
        const window = deps.partners.get(o.partner_id)?.acks.expect997WithinMinutes ?? 60;
        const expectsAck = o.kind === '846' || o.kind === '856';
        const overdue = expectsAck && o.status === 'SENT' && !o.ack_status && now - Date.parse(o.sent_at) > window * 60_000;
        return { ...o, size: o.content_path ? null : String(content).length, ack: o.ack_status ?? (overdue ? 'overdue' : expectsAck && o.status === 'SENT' ? 'awaited' : null) };
      }),
    };
  });

  router.get('/mappings', (ctx) => {
    ctx.body = { mappings: deps.mappings.list() };
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
