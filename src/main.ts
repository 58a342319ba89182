import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { within } from './core/within.ts';
import { watch } from 'chokidar';
import pino from 'pino';
import { Kpis } from './core/kpis.ts';
import { feeds } from './store/feed-repository.ts';
import { FeedWatch } from './pipeline/feed-watch.ts';
import PinoPretty from 'pino-pretty';
import { createApi } from './api/app.ts';
import { promoteProvisional } from './store/item-repository.ts';
import { crosswalkLookup } from './mapping/crosswalk.ts';
import { directoryOf, loadConfig, readMappingFiles, type GatewayConfig } from './config/load-config.ts';
import { GatewayError } from './core/errors.ts';
import { systemClock, type Logger } from './core/ports.ts';
import { MappingRegistry } from './mapping/registry.ts';
import { GatewayPipeline, type PipelineChannel } from './pipeline/gateway-pipeline.ts';
import { Publisher } from './pipeline/publisher.ts';
import { openDb, openReadDb, type Db } from './store/db.ts';
import { RawStore } from './store/raw-store.ts';
import { lockDataDir } from './store/data-dir-lock.ts';
import { FolderChannel } from './transport/folder-channel.ts';
import { HostSessions } from './transport/host-sessions.ts';
import { SftpChannel } from './transport/sftp-channel.ts';

/** The composition root: the only place adapters are created. */
export interface RunningGateway {
  config: GatewayConfig;
  db: Db;
  pipeline: GatewayPipeline;
  publisher: Publisher;
  mappings: MappingRegistry;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

export async function startGateway(env: NodeJS.ProcessEnv = process.env): Promise<RunningGateway> {
  const config = loadConfig(env);
  // JSON lines for machines; GATEWAY_LOG_FORMAT=pretty (gateway start --pretty) for people at a terminal.
  const pretty = env.GATEWAY_LOG_FORMAT === 'pretty' ? PinoPretty({ sync: true, colorize: !!process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : undefined;
  const logger = pino({ level: config.logLevel, redact: ['*.password', '*.privateKey', '*.token'] }, pretty) as unknown as Logger;
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) {
    throw new GatewayError('GW_MAPPING_INVALID', problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'), problems);
  }
  const dbConfig = { client: config.database.client, filename: path.resolve(config.dataDir, config.database.filename), connection: config.database.connection };
  // SQLite: one gateway per data dir (PostgreSQL instances share the database instead).
  const lock = config.database.client === 'sqlite3' ? lockDataDir(config.dataDir) : null;
  let db: Db;
  try {
    db = await openDb(dbConfig);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const readDb = openReadDb(dbConfig, db);
  const partners = directoryOf(config);
  const sessions = new HostSessions();
  const channels: PipelineChannel[] = config.partners.map((p) => {
    const f = config.folders[p.id];
    const folder = f ? new FolderChannel(p.id, f, { stabilityMs: config.inbound.stabilityMs, incompleteAfterMs: config.inbound.incompleteAfterMs }, logger) : null;
    const s = config.sftp[p.id];
    const remote = s ? new SftpChannel(p.id, s, path.join(config.dataDir, 'sftp', p.id), logger, sessions) : null;
    return { partnerId: p.id, sources: [folder, remote].filter((x): x is FolderChannel | SftpChannel => !!x), sink: remote ?? folder };
  });
  const raw = new RawStore(path.join(config.dataDir, 'raw'));
  const kpis = new Kpis();
  // Every configured partner has a feed from now on: one that never sends ages from its first start.
  await feeds.ensure(db, config.partners.map((p) => p.id), new Date().toISOString());
  const pipeline = new GatewayPipeline(
    {
      db,
      raw,
      partners,
      mappings,
      clock: systemClock,
      logger,
      allocation: (id) => partners.get(id)?.allocation ?? { rule: 'most-available' },
      waitMs: config.inbound.waitHours * 3600_000,
      kpis,
    },
    channels,
    { maxBytes: config.inbound.maxBytes, maxDeliveryAttempts: config.outbound.maxAttempts, outboxSweepMs: config.outbound.sweepMs, maxProcessAttempts: config.inbound.maxAttempts, retryBaseMs: config.inbound.retryBaseMs, workLeaseMs: config.inbound.leaseMs, deliveryLeaseMs: config.inbound.leaseMs },
  );
  const publisher = new Publisher({
    db,
    partners,
    mappings,
    clock: systemClock,
    logger,
    outboundDir: path.join(config.dataDir, 'outbound'),
    exclusive: (fn) => pipeline.exclusive(fn),
    queued: () => void pipeline.dispatch(),
    kpis,
  });
  pipeline.onStockMoved = () => publisher.notify();
  const app = createApi({
    db,
    readDb,
    raw,
    pipeline,
    mappings,
    mappingsDir: config.mappingsDir,
    partners,
    logger,
    startedAt: new Date(),
    auth: { tokens: config.api.tokens, tokensForReads: config.api.tokensForReads, maxBodyBytes: config.api.maxBodyBytes },
    kpis,
  });
  // The port is taken before any file is touched: a gateway that cannot serve does not start.
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.api.port, config.api.host, () => resolve(s));
      s.once('error', reject);
    });
  } catch (e) {
    if (readDb !== db) await readDb.destroy();
    await db.destroy();
    lock?.release();
    const code = (e as NodeJS.ErrnoException).code;
    const where = `${config.api.host ?? '0.0.0.0'}:${config.api.port}`;
    if (code === 'EADDRINUSE') throw new GatewayError('GW_PORT_IN_USE', `port ${where} is in use by another program (another gateway?)`);
    if (code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new GatewayError('GW_PORT_IN_USE', `cannot listen on ${where}: ${code === 'EACCES' ? 'not allowed (a port under 1024 needs privileges)' : 'no such address on this machine'}`);
    throw e;
  }
  // Provisional items a crosswalk now names become SKUs (at start and after every mapping change).
  const promote = () =>
    pipeline
      .exclusive(() => db.transaction((trx) => promoteProvisional(trx, (id) => crosswalkLookup(mappings, id), config.partners.map((p) => p.id), new Date().toISOString())))
      .then((r) => {
        if (r.promoted.length) {
          logger.info({ promoted: r.promoted }, 'provisional items became SKUs');
          publisher.notify();
        }
        if (r.conflicts.length) logger.warn({ code: 'GW_ITEM_ID_CONFLICT', conflicts: r.conflicts }, 'provisional items whose ids name two SKUs stay provisional');
      })
      .catch((e) => logger.error({ err: String(e) }, 'promoting provisional items failed'));
  await promote();
  await pipeline.start();
  publisher.startSchedule();
  // A feed that goes stale is said in the log (GW_FEED_STALE), once, and when it comes back.
  const feedWatch = new FeedWatch({ db: readDb, partners, logger });
  const checkFeeds = () => void feedWatch.check().catch((e) => logger.error({ err: String(e) }, 'feed check failed'));
  const feedTimer = setInterval(checkFeeds, Number(env.GATEWAY_FEED_CHECK_MS ?? 60_000));
  feedTimer.unref();
  checkFeeds();

  // Mapping configs are validated again on every change; an invalid change is refused.
  const mappingWatcher = watch(config.mappingsDir, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
  const onMapping = (file: string) => {
    const rel = path.relative(config.mappingsDir, file).split(path.sep).join('/');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const probs = mappings.update({ rel, text });
    if (probs.length) logger.error({ file: rel, problems: probs }, 'mapping change refused; the previous version stays active');
    else {
      logger.info({ file: rel }, 'mapping updated');
      void promote();
    }
  };
  mappingWatcher.on('add', onMapping).on('change', onMapping);

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  logger.info({ port, dataDir: config.dataDir, partners: config.partners.map((p) => p.id) }, 'gateway started');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        clearInterval(feedTimer);
        await new Promise<void>((r) => server.close(() => r()));
        await mappingWatcher.close();
        publisher.stop();
        await pipeline.stop();
        // A connection a call never returned from would hold destroy() forever: bounded, as a crash.
        const bounded = async (p: Promise<void>, what: string) => {
          if ((await within(p, 10_000)) === 'late') logger.warn({ what }, 'stop: the store did not close in 10 s; left to the process exit');
        };
        if (readDb !== db) await bounded(readDb.destroy(), 'read connections');
        await bounded(db.destroy(), 'store');
      } finally {
        // Whatever failed on the way down, the data dir is free for the next start.
        lock?.release();
      }
      logger.info({}, 'gateway stopped');
    })());
  return { config, db, pipeline, publisher, mappings, server, port, stop };
}

/**
 * `gateway start`: run until SIGINT/SIGTERM, finishing the file in hand. The signal handlers are
 * in place before anything starts: a signal during start-up (recovery may already be processing
 * files) stops the gateway as soon as it is up, lock released, instead of killing it half-way.
 */
export async function runForever(): Promise<void> {
  let g: RunningGateway | null = null;
  let signalled = false;
  const stopAndExit = (gw: RunningGateway) =>
    void gw.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`${JSON.stringify({ code: 'GW_INTERNAL', message: `stopping: ${String((e as Error)?.message ?? e)}` })}\n`);
        process.exit(1);
      },
    );
  const onSignal = () => {
    signalled = true;
    if (g) stopAndExit(g);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  g = await startGateway();
  if (signalled) stopAndExit(g);
}
