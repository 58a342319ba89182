import path from 'node:path';
import { directoryOf, loadConfig, readMappingFiles, type GatewayConfig } from './config/load-config.ts';
import { ERRORS, GatewayError, type ErrorCode } from './core/errors.ts';
import { silentLogger } from './core/ports.ts';
import type { PartnerDirectory } from './domain/partner.ts';
import { fromUnits } from './domain/quantity.ts';
import { MappingRegistry } from './mapping/registry.ts';
import { availabilityView, heldView, showDivergence, showOversell, supplyView } from './pipeline/availability-view.ts';
import { orderTimeline } from './pipeline/order-timeline.ts';
import { Publisher } from './pipeline/publisher.ts';
import { divergences, positions } from './store/availability-repository.ts';
import { provisionalItems } from './store/item-repository.ts';
import { oversells } from './store/promise-repository.ts';
import { openDb, type Db } from './store/db.ts';
import { outbox } from './store/outbox-repository.ts';
import { FolderChannel } from './transport/folder-channel.ts';

/** CLI commands that work on the store (the gateway may be running: SQLite WAL lets both in). */
interface Store {
  config: GatewayConfig;
  db: Db;
  partners: PartnerDirectory;
  mappings: MappingRegistry;
}

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) throw new GatewayError('GW_MAPPING_INVALID', problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'), problems);
  // Beside a running gateway, a write waits for its turn (database.cliWaitMs, a minute) rather than failing.
  const db = await openDb({ client: config.database.client, filename: path.resolve(config.dataDir, config.database.filename), connection: config.database.connection, busyTimeoutMs: config.database.cliWaitMs });
  try {
    return await fn({ config, db, partners: directoryOf(config), mappings });
  } finally {
    await db.destroy();
  }
}

const out = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');

/** `gateway rebuild`: positions again from the movement log; prints whether anything changed. */
export function cmdRebuild(): Promise<number> {
  return withStore(async ({ db }) => {
    const totals = async () => {
      const [r] = await db('positions').count({ n: '*' }).sum({ onHand: 'on_hand', committed: 'committed', inTransit: 'in_transit', hold: 'hold', damaged: 'damaged' });
      return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'n' ? Number(v ?? 0) : fromUnits(Number(v ?? 0))]));
    };
    const before = await db('positions').orderBy(['item', 'location']);
    const t0 = Date.now();
    const count = await db.transaction((trx) => positions.rebuild(trx));
    const after = await db('positions').orderBy(['item', 'location']);
    const key = (r: Record<string, unknown>) => JSON.stringify([r.item, r.location, Number(r.on_hand), Number(r.committed), Number(r.in_transit), Number(r.hold), Number(r.damaged), Number(r.safety_stock)]);
    const a = new Set(before.map(key));
    const changed = after.filter((r) => !a.has(key(r))).length + Math.max(0, before.length - after.length);
    out({ positions: count, changed, ms: Date.now() - t0, totals: await totals() });
    return changed ? 1 : 0;
  });
}

/** `gateway divergence [--partner ID] [--document N] [--all] [--limit N]` */
export function cmdDivergence(o: { partner?: string; document?: string; all?: boolean; limit?: string }): Promise<number> {
  return withStore(async ({ db }) => {
    const rows = await divergences.list(db, { partnerId: o.partner, documentId: o.document ? Number(o.document) : undefined, onlyDifferent: !o.all, limit: Number(o.limit ?? 1000) });
    for (const r of rows) out(showDivergence(r));
    return 0;
  });
}

/** `gateway oversells [--partner ID] [--po PO] [--limit N]`: PO lines short of what their partner was promised. */
export function cmdOversells(o: { partner?: string; po?: string; limit?: string }): Promise<number> {
  return withStore(async ({ db }) => {
    for (const r of await oversells.list(db, { partnerId: o.partner, po: o.po, limit: Number(o.limit ?? 1000) })) out(showOversell(r));
    return 0;
  });
}

/** `gateway held [--status S] [--partner ID] [--limit N]`: events WAITING or in CONFLICT (or, by status, what became of them). */
export function cmdHeld(o: { status?: string; partner?: string; limit?: string }): Promise<number> {
  const statuses = ['WAITING', 'CONFLICT', 'APPLIED', 'EXPIRED', 'DISCARDED'];
  if (o.status && !statuses.includes(o.status)) throw new GatewayError('GW_USAGE', `--status must be one of ${statuses.join(', ')}`);
  const limit = Number(o.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1) throw new GatewayError('GW_USAGE', '--limit must be a positive integer');
  return withStore(async ({ db }) => {
    for (const status of o.status ? [o.status] : ['WAITING', 'CONFLICT']) for (const r of await heldView(db, { status, partnerId: o.partner, limit })) out(r);
    return 0;
  });
}

/** `gateway supply [--overdue] [--partner ID] [--limit N]`: ship notices not received in full. */
export function cmdSupply(o: { overdue?: boolean; partner?: string; limit?: string }): Promise<number> {
  const limit = Number(o.limit ?? 1000);
  if (!Number.isInteger(limit) || limit < 1) throw new GatewayError('GW_USAGE', '--limit must be a positive integer');
  return withStore(async ({ db }) => {
    for (const r of await supplyView(db, { overdue: !!o.overdue, partnerId: o.partner, limit }, new Date())) out(r);
    return 0;
  });
}

/** `gateway items [--status PROVISIONAL|PROMOTED|MERGED] [--limit N]`: items no crosswalk knows, with where they were seen. */
export function cmdItems(o: { status?: string; limit?: string }): Promise<number> {
  return withStore(async ({ db }) => {
    for (const r of await provisionalItems.list(db, { status: o.status ?? 'PROVISIONAL', limit: Number(o.limit ?? 1000) })) out(r);
    return 0;
  });
}

/** `gateway availability --item SKU [--location L] [--partner ID]` */
export function cmdAvailability(o: { item: string; location?: string; partner?: string }): Promise<number> {
  return withStore(async ({ db, partners }) => {
    if (o.partner && !partners.get(o.partner)) throw new GatewayError('GW_USAGE', `unknown partner ${o.partner}`);
    out(await availabilityView(db, partners, o));
    return 0;
  });
}

/** `gateway emit 846 --partner ID [--full]`: build one now and deliver it to the partner's out folder. */
export function cmdEmit846(o: { partner: string; full?: boolean }): Promise<number> {
  return withStore(async ({ config, db, partners, mappings }) => {
    const partner = partners.get(o.partner);
    if (!partner) throw new GatewayError('GW_USAGE', `unknown partner ${o.partner}`);
    if (!partner.publish846) throw new GatewayError('GW_USAGE', `partner ${o.partner} has no publish846 policy`);
    const publisher = new Publisher({
      db,
      partners,
      mappings,
      clock: { now: () => new Date() },
      logger: silentLogger,
      outboundDir: path.join(config.dataDir, 'outbound'),
      exclusive: (fn) => fn(),
      queued: () => undefined,
    });
    const r = await publisher.emit(partner.id, !!o.full);
    const folders = config.folders[partner.id];
    let delivered: string | null = null;
    let queued = false;
    if (r.outboxId) {
      // Delivered here only when this command claims the entry (as any instance would); a running
      // gateway that claimed it first delivers it, and an SFTP partner's entry waits for it.
      const owner = `cli:${process.pid}`;
      const claimed = !config.sftp[partner.id] && !!folders && (await outbox.claimOne(db, r.outboxId, owner, new Date(), config.inbound.leaseMs));
      const row = claimed ? (await db('outbox').where({ id: r.outboxId }).first()) as { filename: string; content_path: string | null } | undefined : undefined;
      if (claimed && folders && row?.content_path) {
        const sink = new FolderChannel(partner.id, folders, { stabilityMs: 0, incompleteAfterMs: 0 }, silentLogger);
        await sink.deliverFile(row.filename, row.content_path);
        await outbox.markSent(db, r.outboxId, new Date().toISOString(), owner);
        delivered = path.join(folders.out, row.filename);
      } else queued = true;
    }
    out({ ...r, delivered, ...(queued ? { queued: 'in the outbox: the running gateway delivers it' } : {}) });
    return 0;
  });
}

/** `gateway resend`: failed (or sent) outbox entries back into the queue; the running gateway delivers them. */
export function cmdResend(ids: string[], o: { partner?: string; failed?: boolean }): Promise<number> {
  return withStore(async ({ db }) => {
    const wanted = ids.map(Number);
    if (wanted.some((n) => !Number.isInteger(n) || n <= 0)) throw new GatewayError('GW_USAGE', `outbox ids are positive integers: ${ids.join(' ')}`);
    if (!wanted.length && !o.partner && !o.failed) throw new GatewayError('GW_USAGE', 'give outbox ids, --partner or --failed');
    const requeued = await outbox.resend(db, { ids: wanted.length ? wanted : undefined, partnerId: o.partner, failed: o.failed || !wanted.length });
    out({ requeued });
    if (!requeued.length) throw new GatewayError('GW_NOT_FOUND', 'nothing to resend (only FAILED or SENT entries can be resent)');
    return 0;
  });
}

/** `gateway order PO [--partner ID]`: the order and its timeline as JSON. */
export function cmdOrder(po: string, o: { partner?: string }): Promise<number> {
  return withStore(async ({ db, partners }) => {
    const t = await orderTimeline(db, partners, po, o.partner, new Date());
    if (!t) throw new GatewayError('GW_NOT_FOUND', `no order ${po}${o.partner ? ` from ${o.partner}` : ''}`);
    out(t);
    return 0;
  });
}

/**
 * `gateway drop FILE --partner ID [--as NAME] [--timeout S]`: puts a file in the partner's in
 * folder, as a partner would, and waits for the running gateway to have processed it, delivered
 * what it sent back and built the 846s it made due (their debounce): then prints the document and
 * what went out. For walk-throughs and scripts that need "done", not a guessed sleep.
 */
export function cmdDrop(file: string, o: { partner: string; as?: string; timeout?: string }): Promise<number> {
  return withStore(async ({ config, db, partners }) => {
    if (!partners.get(o.partner)) throw new GatewayError('GW_USAGE', `unknown partner ${o.partner} (configured: ${partners.all().map((p) => p.id).join(', ')})`);
    const folders = config.folders[o.partner];
    if (!folders) throw new GatewayError('GW_USAGE', `partner ${o.partner} has no folder channel (channels.folder.enabled: false)`);
    const { copyFileSync, existsSync, mkdirSync, renameSync, statSync } = await import('node:fs');
    if (!existsSync(file) || !statSync(file).isFile()) throw new GatewayError('GW_USAGE', `no such file: ${file}`);
    const name = o.as ?? path.basename(file);
    const timeoutMs = Number(o.timeout ?? 30) * 1000;
    const [{ max }] = (await db('documents').max({ max: 'id' })) as { max: unknown }[];
    const since = Number(max ?? 0);
    const startedAt = new Date().toISOString();
    mkdirSync(folders.in, { recursive: true });
    // Written beside, then renamed in: the watcher never sees half a file.
    const tmp = path.join(folders.in, `.${name}.${process.pid}.part`);
    copyFileSync(file, tmp);
    renameSync(tmp, path.join(folders.in, name));
    const deadline = Date.now() + timeoutMs;
    const wait = () => new Promise((r) => setTimeout(r, 200));
    let doc: Record<string, unknown> | undefined;
    for (;;) {
      doc = await db('documents').where('id', '>', since).where({ channel: `folder:${o.partner}`, filename: name }).whereNotNull('processed_at').orderBy('id').first();
      if (doc) {
        const pending = await db('outbox').whereIn('status', ['PENDING']).first('id');
        const due = (await db('publish_due').select('partner_id', 'due_at')) as { partner_id: string; due_at: string }[];
        const soon = due.filter((d) => !d.partner_id.startsWith('wave:') && Date.parse(d.due_at) - Date.now() < 10_000);
        if (!pending && !soon.length) break;
      }
      if (Date.now() > deadline) {
        throw new GatewayError('GW_USAGE', doc ? `${name} was processed (document ${doc.id}, ${doc.status}) but what it sends is not all out after ${timeoutMs / 1000} s` : `${name} was not processed within ${timeoutMs / 1000} s: is the gateway running (npm start) on this data dir (${config.dataDir})?`);
      }
      await wait();
    }
    const sent = (await db('outbox').where('created_at', '>=', startedAt).where({ status: 'SENT' }).orderBy('id').select('partner_id', 'kind', 'filename')) as { partner_id: string; kind: string; filename: string }[];
    out({ document: Number(doc.id), file: name, partner: doc.partner_id, status: doc.status, sets: doc.set_ids, errorCode: doc.error_code ?? null, sent: sent.map((s) => `${s.partner_id}/out/${s.filename} (${s.kind})`) });
    if (['PROCESSED', 'DUPLICATE', 'WAITING'].includes(String(doc.status))) return 0;
    const { CliFailure, report } = await import('./cli.ts');
    const code = (typeof doc.error_code === 'string' && doc.error_code in ERRORS ? doc.error_code : 'GW_PROCESSING_FAILED') as ErrorCode;
    report(new CliFailure(code, `${name} is ${doc.status}: ${String(doc.error_message ?? '').slice(0, 300)}`, `see what was rejected and where: GET /documents/${doc.id} or the console (/console/#/documents/${doc.id}); after a fix, replay it`, 1));
    return 1;
  });
}
