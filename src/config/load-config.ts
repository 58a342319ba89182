import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import { partnerDirectory, type Partner, type PartnerDirectory, type Us } from '../domain/partner.ts';
import { emptyItemMaster, type ItemMaster, type ItemUnits } from '../domain/units.ts';
import { toUnits } from '../domain/quantity.ts';
import { didYouMean, keysAt } from './suggest.ts';
import type { SftpSettings } from '../transport/sftp-channel.ts';

/**
 * Configuration: `config/gateway.yaml` plus `config/partners/*.yaml`, validated with one strict
 * schema; every problem is reported at once, before any port or watcher is opened. The only place
 * that reads the environment (GATEWAY_CONFIG, GATEWAY_DATA_DIR, PORT, DATABASE_URL, LOG_LEVEL).
 */
const sep = z.string().length(1);
const decimal = z.union([z.string(), z.number()]).transform((v, c) => {
  const u = toUnits(String(v));
  if (u === null || u < 0) {
    c.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a quantity (at most 4 decimals)` });
    return z.NEVER;
  }
  return u;
});

const PartnerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, - and _'),
    name: z.string().optional(),
    interchange: z.object({ qualifier: z.string().length(2), id: z.string().min(1).max(15) }).strict(),
    gs: z.object({ id: z.string().min(2).max(15) }).strict().optional(),
    sends: z.array(z.string().regex(/^\d{3}$/)).default([]),
    receives: z.array(z.string().regex(/^\d{3}$/)).default([]),
    x12: z
      .object({
        isaVersion: z.string().regex(/^\d{5}$/).default('00401'),
        gsVersion: z.string().regex(/^\d{6}[A-Z0-9]*$/).default('004010'),
        usage: z.enum(['P', 'T', 'I']).default('P'),
        separators: z
          .object({ element: sep.default('*'), component: sep.default('>'), segment: sep.default('~'), repetition: sep.default('^') })
          .strict()
          .default({ element: '*', component: '>', segment: '~', repetition: '^' }),
        segmentSuffix: z.string().max(2).default('\n'),
      })
      .strict()
      .default({ isaVersion: '00401', gsVersion: '004010', usage: 'P', separators: { element: '*', component: '>', segment: '~', repetition: '^' }, segmentSuffix: '\n' }),
    acks: z
      .object({
        send997: z.boolean().default(true),
        /** 999 (implementation acknowledgment) instead of 997 for its groups of 005010 and later. */
        functionalAck: z.enum(['997', '999']).default('997'),
        ta1: z.enum(['on-request', 'on-error', 'never']).default('on-request'),
        /** What we send is overdue when its 997 has not come within this many minutes. */
        expect997WithinMinutes: z.number().int().min(1).default(60),
      })
      .strict()
      .default({ send997: true, functionalAck: '997', ta1: 'on-request', expect997WithinMinutes: 60 }),
    /** Where its inventory lines are when they name none (a warehouse); must be one of our locations. */
    defaultLocation: z.string().min(1).optional(),
    /** A 3PL's shipments that name no customer ship this partner's POs (a warehouse that serves one retailer). */
    shipmentCustomer: z.string().min(1).optional(),
    /** Its warehouse codes -> our locations; our own codes are accepted too; any other code is rejected. */
    locations: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** A PO line for an item that no crosswalk knows: backordered with its reason, or rejected. */
    unknownItems: z.enum(['backorder', 'reject']).default('backorder'),
    /** What the warehouse could not ship of its PO lines (a 945 W1204, a short W12): backordered, or cancelled on the line. */
    shortShipments: z.enum(['backorder', 'cancel']).default('backorder'),
    /** The partner's feed is stale (GET /partners) when nothing came from it for this long. */
    expectFeedWithinMinutes: z.number().int().min(1).optional(),
    /** Where this partner's PO lines ship from. */
    allocation: z
      .union([
        z.object({ rule: z.literal('most-available') }).strict(),
        z.object({ rule: z.literal('priority'), locations: z.array(z.string()).min(1) }).strict(),
        z.object({ rule: z.literal('fixed'), location: z.string() }).strict(),
      ])
      .optional(),
    /** A warehouse (3PL): 940 shipping orders for PO lines committed at the locations it holds (its `locations` map), at once, in waves or never. */
    orders940: z
      .object({
        /** at-once: in the transaction that commits; waves: new units every waveEveryMinutes (changes that take units back and cancels at once). */
        send: z.enum(['never', 'at-once', 'waves']).default('never'),
        waveEveryMinutes: z.number().int().min(1).max(1440).default(60),
        /** Its 846 available (QTY 33) excludes what it was told to ship and has not shipped (the usual WMS): added back, so it is not deducted twice. */
        availableNetOfReleased: z.boolean().default(true),
        idQualifiers: z.array(z.string().length(2)).default(['VN', 'UP']),
        payment: z.string().min(2).max(2).default('PP'),
        transport: z.string().min(1).max(2).default('M'),
        carrier: z.string().min(2).max(4).optional(),
      })
      .strict()
      .optional(),
    /** Outbound 855 PO acknowledgments: never, always (each PO and each change), or on-change (only when the answer is not "accepted as asked"). */
    ack855: z
      .object({
        send: z.enum(['never', 'always', 'on-change']).default('never'),
        /** The retailer expects its 855 within this many minutes of its PO: later (or none) shows as po-ack-overdue. */
        withinMinutes: z.number().int().min(1).max(10_080).default(60),
      })
      .strict()
      .optional(),
    /** Outbound 856 ship notices to this partner when its POs ship. */
    asn856: z
      .object({
        structure: z.enum(['SOPI', 'SOTPI']).default('SOPI'),
        gs1CompanyPrefix: z.string().regex(/^\d{6,12}$/, '6 to 12 digits'),
        allowOverShipment: z.boolean().default(false),
        idQualifiers: z.array(z.string().length(2)).default(['UP', 'IN', 'VN']),
      })
      .strict()
      .optional(),
    /** Outbound 846 inventory advice to this partner. */
    publish846: z
      .object({
        enabled: z.boolean().default(true),
        mode: z.enum(['delta', 'full']).default('delta'),
        locations: z.array(z.string()).optional(),
        items: z.array(z.string()).optional(),
        idQualifiers: z.array(z.string().length(2)).default(['UP', 'VN']),
        safetyStock: decimal.default(0),
        percent: z.number().min(0).max(100).default(100),
        cap: decimal.optional(),
        /** Served first when stock is short (higher first). */
        rank: z.number().int().default(0),
        /** Exclusive reservation: a fixed quantity (base units) or a percentage of what can be promised. */
        share: z.union([z.object({ quantity: decimal }).strict(), z.object({ percent: z.number().gt(0).max(100) }).strict()]).optional(),
        /** The unit quantities are sent in (e.g. CA: whole cases, rounded down); absent: each item's base unit. */
        unit: z.string().regex(/^[A-Z0-9]{2}$/).optional(),
        quantities: z.array(z.enum(['33', '17'])).min(1).default(['33']),
        debounceMs: z.number().int().min(0).default(2000),
        minIntervalMs: z.number().int().min(0).default(0),
        fullEveryMinutes: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    channels: z
      .object({
        /** The partner's SFTP server: polled for inbound files, written to for outbound ones. */
        sftp: z
          .object({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(22),
            user: z.string().min(1),
            privateKeyPath: z.string().optional(),
            privateKeyEnv: z.string().optional(),
            hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'SHA256:<base64> as ssh-keygen -lf prints it'),
            inbound: z.string().min(1),
            outbound: z.string().min(1),
            archive: z.string().optional(),
            error: z.string().optional(),
            pattern: z.string().default('.*'),
            pollIntervalMs: z.number().int().min(100).default(30_000),
            minAgeMs: z.number().int().min(0).default(5_000),
            maxBytes: z.number().int().min(1).default(512 * 1024 * 1024),
            connectTimeoutMs: z.number().int().min(100).default(10_000),
            maxSessionsPerHost: z.number().int().min(1).default(2),
            idleMs: z.number().int().min(0).default(30_000),
            shutdownGraceMs: z.number().int().min(0).default(10_000),
          })
          .strict()
          .refine((x) => !!x.privateKeyPath !== !!x.privateKeyEnv, 'give privateKeyPath or privateKeyEnv')
          .optional(),
        folder: z
          .object({
            enabled: z.boolean().default(true),
            /** Folders; default data/drop/<id>/{in,out,archive,error}. */
            root: z.string().optional(),
          })
          .strict()
          .default({ enabled: true }),
      })
      .strict()
      .default({ folder: { enabled: true } }),
  })
  .strict();

const GatewaySchema = z
  .object({
    dataDir: z.string().default('./data'),
    us: z.object({ qualifier: z.string().length(2), id: z.string().min(1).max(15), gsId: z.string().optional() }).strict(),
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Bearer tokens, stored as the sha256 (hex) of the token: `gateway token` makes one. */
        tokens: z
          .array(z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits (sha256 of the token)') }).strict())
          .default([]),
        /** Reads need a token too (changes always do). */
        tokensForReads: z.boolean().default(false),
        /** Largest request body accepted (mapping drafts). */
        maxBodyBytes: z.number().int().min(1024).default(1024 * 1024),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080, tokens: [], tokensForReads: false, maxBodyBytes: 1024 * 1024 }),
    database: z
      .object({
        client: z.enum(['sqlite3', 'pg']).default('sqlite3'),
        /** SQLite file, relative to dataDir. */
        filename: z.string().default('gateway.sqlite'),
        /** PostgreSQL connection string (or DATABASE_URL). */
        connection: z.string().optional(),
        /** SQLite: how long a CLI command beside a running gateway waits for the write lock. */
        cliWaitMs: z.number().int().min(0).default(60_000),
      })
      .strict()
      .default({ client: 'sqlite3', filename: 'gateway.sqlite', cliWaitMs: 60_000 }),
    partnersDir: z.string().default('partners'),
    mappingsDir: z.string().default('../mappings'),
    inbound: z
      .object({
        /** chokidar awaitWriteFinish stability threshold. */
        stabilityMs: z.number().int().min(0).default(300),
        /** A file without its trailer is processed anyway (and rejected) once it is this old. */
        incompleteAfterMs: z.number().int().min(0).default(60_000),
        /** Largest file accepted. */
        maxBytes: z.number().int().min(1).default(512 * 1024 * 1024),
        /** How long a document waits for what it refers to (a PO, a ship notice) before it is dead-lettered. */
        waitHours: z.number().positive().max(24 * 365).default(24),
        /** A document the gateway's own code fails on is tried this often before it is FAILED (dead letters). */
        maxAttempts: z.number().int().min(1).max(100).default(3),
        /** The first retry after such a failure waits this long, each next one 4 times longer (at most a minute). */
        retryBaseMs: z.number().int().min(1).default(1000),
        /**
         * Several instances on PostgreSQL: work an instance holds (a received document, a file it
         * claimed, an SFTP channel it polls) is taken over by another once its holder has not
         * renewed it for this long (it died).
         */
        leaseMs: z.number().int().min(500).default(60_000),
      })
      .strict()
      .default({ stabilityMs: 300, incompleteAfterMs: 60_000, maxBytes: 512 * 1024 * 1024, waitHours: 24, maxAttempts: 3, retryBaseMs: 1000, leaseMs: 60_000 }),
    outbound: z
      .object({
        /** A delivery that failed this many times is marked FAILED (`gateway resend` puts it back). */
        maxAttempts: z.number().int().min(1).default(10),
        /** The outbox is looked at this often anyway (resends, retries after a restart). */
        sweepMs: z.number().int().min(100).default(5_000),
      })
      .strict()
      .default({ maxAttempts: 10, sweepMs: 5_000 }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info'),
    /** Our locations (warehouses). Partners' location maps and default locations add theirs. */
    locations: z.array(z.string().min(1)).default([]),
    /** The item master (base units, unit conversions, kits), relative to this file. */
    itemMaster: z.string().default('items.yaml'),
  })
  .strict();

const unitCode = z.string().regex(/^[A-Z0-9]{2}$/, 'a 2-character X12 unit code (EA, CA, ...)');
const factor = decimal.refine((v) => v > 0, 'must be more than 0');
const ItemMasterSchema = z
  .object({
    defaultBaseUnit: unitCode.default('EA'),
    items: z.record(z.string().min(1), z.object({ baseUnit: unitCode.optional(), units: z.record(unitCode, factor).default({}) }).strict()).default({}),
    kits: z.record(z.string().min(1), z.record(z.string().min(1), factor)).default({}),
  })
  .strict();

function loadItemMaster(file: string, problems: ConfigProblem[]): ItemMaster {
  if (!existsSync(file)) return emptyItemMaster();
  const r = ItemMasterSchema.safeParse(readYaml(file, problems) ?? {});
  if (!r.success) {
    problems.push(...issues(file, r.error, ItemMasterSchema));
    return emptyItemMaster();
  }
  const items = new Map<string, ItemUnits>();
  for (const [sku, d] of Object.entries(r.data.items)) {
    const baseUnit = d.baseUnit ?? r.data.defaultBaseUnit;
    if (d.units[baseUnit] !== undefined) problems.push({ file, path: `items.${sku}.units.${baseUnit}`, message: 'the base unit needs no conversion' });
    items.set(sku, { baseUnit, units: d.units });
  }
  for (const [kit, comps] of Object.entries(r.data.kits)) {
    if (comps[kit] !== undefined) problems.push({ file, path: `kits.${kit}`, message: 'a kit cannot contain itself' });
    for (const c of Object.keys(comps)) if (r.data.kits[c]) problems.push({ file, path: `kits.${kit}.${c}`, message: 'a kit component cannot be a kit' });
  }
  return { defaultBaseUnit: r.data.defaultBaseUnit, items, kits: r.data.kits };
}

export interface GatewayConfig {
  configFile: string;
  dataDir: string;
  us: Us;
  api: { host: string; port: number; tokens: { name: string; sha256: string }[]; tokensForReads: boolean; maxBodyBytes: number };
  database: { client: 'sqlite3' | 'pg'; filename: string; connection?: string; cliWaitMs: number };
  mappingsDir: string;
  partners: Partner[];
  folders: Record<string, { in: string; out: string; archive: string; error: string } | null>;
  sftp: Record<string, SftpSettings>;
  inbound: { stabilityMs: number; incompleteAfterMs: number; maxBytes: number; waitHours: number; maxAttempts: number; retryBaseMs: number; leaseMs: number };
  outbound: { maxAttempts: number; sweepMs: number };
  logLevel: string;
  /** Our locations: the listed ones, every partner's mapped ones and default locations. */
  locations: string[];
  items: ItemMaster;
}

export interface ConfigProblem {
  file: string;
  path: string;
  message: string;
}

/** Zod's issues as problems: one per unknown key, with the key it most likely meant. */
function issues(file: string, err: z.ZodError, schema: z.ZodType): ConfigProblem[] {
  return err.issues.flatMap((i) => {
    if (i.code !== 'unrecognized_keys') return [{ file, path: i.path.join('.') || '(root)', message: i.message }];
    const allowed = keysAt(schema, i.path);
    return i.keys.map((k) => {
      const near = didYouMean(k, allowed);
      return { file, path: [...i.path, k].join('.'), message: `unknown key${near ? ` (did you mean "${near}"?)` : allowed.length ? ` (allowed here: ${allowed.join(', ')})` : ''}` };
    });
  });
}

function readYaml(file: string, problems: ConfigProblem[]): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push({ file, path: '(root)', message: (e as Error).message.split('\n')[0] });
    return undefined;
  }
}

export const DEFAULT_CONFIG = 'config/gateway.yaml';

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): GatewayConfig {
  const configFile = path.resolve(cwd, env.GATEWAY_CONFIG ?? DEFAULT_CONFIG);
  const problems: ConfigProblem[] = [];
  if (!existsSync(configFile)) throw new GatewayError('GW_CONFIG_INVALID', `no config file at ${configFile}`);
  const doc = readYaml(configFile, problems);
  const g = GatewaySchema.safeParse(doc ?? {});
  if (!g.success) problems.push(...issues(configFile, g.error, GatewaySchema));
  const base = path.dirname(configFile);
  const partners: Partner[] = [];
  const folders: GatewayConfig['folders'] = {};
  const sftp: GatewayConfig['sftp'] = {};
  let dataDir = path.resolve(cwd, env.GATEWAY_DATA_DIR ?? (g.success ? g.data.dataDir : './data'));
  // Partner files are checked even when gateway.yaml is not valid: every problem at once.
  const partnersDir = g.success ? g.data.partnersDir : typeof (doc as { partnersDir?: unknown })?.partnersDir === 'string' ? String((doc as { partnersDir: string }).partnersDir) : 'partners';
  {
    const dir = path.resolve(base, partnersDir);
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
    if (!files.length) problems.push({ file: dir, path: '(root)', message: 'no partner files (*.yaml)' });
    const seenIds = new Map<string, string>();
    const seenIsa = new Map<string, string>();
    for (const f of files) {
      const file = path.join(dir, f);
      const p = PartnerSchema.safeParse(readYaml(file, problems) ?? {});
      if (!p.success) {
        problems.push(...issues(file, p.error, PartnerSchema));
        continue;
      }
      const d = p.data;
      if (`${d.id}.yaml` !== f && `${d.id}.yml` !== f) problems.push({ file, path: 'id', message: `the file must be named ${d.id}.yaml` });
      if (seenIds.has(d.id)) problems.push({ file, path: 'id', message: `${d.id} is also defined in ${seenIds.get(d.id)}` });
      const isaKey = `${d.interchange.qualifier}/${d.interchange.id}`;
      if (seenIsa.has(isaKey)) problems.push({ file, path: 'interchange', message: `${isaKey} is also used by ${seenIsa.get(isaKey)}` });
      seenIds.set(d.id, file);
      seenIsa.set(isaKey, d.id);
      const s = d.x12.separators;
      if (new Set([s.element, s.component, s.segment, s.repetition]).size !== 4) {
        problems.push({ file, path: 'x12.separators', message: 'the four separators must differ' });
      }
      partners.push({
        id: d.id,
        name: d.name ?? d.id,
        interchange: d.interchange,
        gsId: d.gs?.id ?? d.interchange.id,
        sends: d.sends,
        receives: d.receives,
        x12: d.x12,
        acks: d.acks,
        defaultLocation: d.defaultLocation,
        shipmentCustomer: d.shipmentCustomer,
        locations: d.locations,
        unknownItems: d.unknownItems,
        shortShipments: d.shortShipments,
        expectFeedWithinMinutes: d.expectFeedWithinMinutes,
        allocation: d.allocation,
        asn856: d.asn856,
        ack855: d.ack855,
        orders940: d.orders940,
        publish846: d.publish846 && { ...d.publish846, kits: {} },
      });
      const sf = d.channels.sftp;
      if (sf) {
        let key: Buffer | null = null;
        if (sf.privateKeyPath) {
          const kp = path.resolve(base, sf.privateKeyPath);
          if (existsSync(kp)) key = readFileSync(kp);
          else problems.push({ file, path: 'channels.sftp.privateKeyPath', message: `no key file at ${kp}` });
        } else if (sf.privateKeyEnv) {
          const v = env[sf.privateKeyEnv];
          if (v) key = Buffer.from(v.includes('PRIVATE KEY') ? v : Buffer.from(v, 'base64').toString('utf8'));
          else problems.push({ file, path: 'channels.sftp.privateKeyEnv', message: `the environment variable ${sf.privateKeyEnv} is not set` });
        }
        let pattern = /.*/;
        try {
          pattern = new RegExp(sf.pattern);
        } catch (e) {
          problems.push({ file, path: 'channels.sftp.pattern', message: (e as Error).message });
        }
        if (key) sftp[d.id] = { ...sf, privateKey: key, pattern };
      }
      if (d.channels.folder.enabled) {
        const root = d.channels.folder.root ? path.resolve(base, d.channels.folder.root) : path.join(dataDir, 'drop', d.id);
        folders[d.id] = { in: path.join(root, 'in'), out: path.join(root, 'out'), archive: path.join(root, 'archive'), error: path.join(root, 'error') };
      } else folders[d.id] = null;
    }
  }
  const items = loadItemMaster(path.resolve(base, g.success ? g.data.itemMaster : 'items.yaml'), problems);
  // Kits are the item master's: every partner's publication shows them, every PO for one commits its components.
  for (const p of partners) if (p.publish846) p.publish846.kits = items.kits;
  const locations = new Set(g.success ? g.data.locations : []);
  for (const p of partners) {
    for (const l of Object.values(p.locations)) locations.add(l);
    if (p.defaultLocation) locations.add(p.defaultLocation);
  }
  for (const p of partners) {
    if (p.shipmentCustomer && !partners.some((q) => q.id === p.shipmentCustomer)) problems.push({ file: path.resolve(base, partnersDir, `${p.id}.yaml`), path: 'shipmentCustomer', message: `${p.shipmentCustomer} is none of our partners` });
    for (const l of [...(p.publish846?.locations ?? []), ...(p.allocation?.rule === 'fixed' ? [p.allocation.location] : p.allocation?.rule === 'priority' ? p.allocation.locations : [])]) {
      if (!locations.has(l)) problems.push({ file: path.resolve(base, partnersDir, `${p.id}.yaml`), path: 'locations', message: `${l} is not one of our locations (${[...locations].sort().join(', ') || 'none'}): list it in gateway.yaml locations or a partner's location map` });
    }
  }
  const port = env.PORT !== undefined ? Number(env.PORT) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
    problems.push({ file: 'environment', path: 'PORT', message: `${JSON.stringify(env.PORT)} is not a port number` });
  }
  if (problems.length || !g.success) {
    throw new GatewayError('GW_CONFIG_INVALID', problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'), problems);
  }
  const c = g.data;
  dataDir = path.resolve(cwd, env.GATEWAY_DATA_DIR ?? c.dataDir);
  const dbUrl = env.DATABASE_URL;
  return {
    configFile,
    dataDir,
    us: { qualifier: c.us.qualifier, id: c.us.id, gsId: c.us.gsId ?? c.us.id },
    api: { ...c.api, port: port ?? c.api.port },
    database: dbUrl ? { client: 'pg', filename: c.database.filename, connection: dbUrl, cliWaitMs: c.database.cliWaitMs } : c.database,
    mappingsDir: path.resolve(base, c.mappingsDir),
    partners,
    folders,
    sftp,
    inbound: c.inbound,
    outbound: c.outbound,
    logLevel: env.LOG_LEVEL ?? c.logLevel,
    locations: [...locations].sort(),
    items,
  };
}

/** The partners with our locations and item master, as the pure layers see them. */
export function directoryOf(config: GatewayConfig): PartnerDirectory {
  return partnerDirectory(config.us, config.partners, { locations: config.locations, items: config.items });
}

/** Mapping files under a folder, with paths relative to it. */
export function readMappingFiles(dir: string): { rel: string; text: string }[] {
  const out: { rel: string; text: string }[] = [];
  if (!existsSync(dir)) return out;
  for (const scope of readdirSync(dir, { withFileTypes: true })) {
    if (!scope.isDirectory()) continue;
    for (const f of readdirSync(path.join(dir, scope.name))) {
      if (!/\.(ya?ml|json)$/.test(f)) continue;
      out.push({ rel: `${scope.name}/${f}`, text: readFileSync(path.join(dir, scope.name, f), 'utf8') });
    }
  }
  return out.sort((a, b) => a.rel.localeCompare(b.rel));
}
