import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { directoryOf, loadConfig, readMappingFiles } from '../src/config/load-config.ts';
import type { PartnerDirectory } from '../src/domain/partner.ts';
import { MappingRegistry } from '../src/mapping/registry.ts';
import { MemorySink } from '../src/pipeline/memory-sink.ts';
import { translateX12, type TranslateResult } from '../src/pipeline/translate-x12.ts';
import type { CanonicalEvent } from '../src/domain/events.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus');
export const FIXED_TIME = '2026-11-20T10:00:00.000Z';

export function tempDir(prefix = 'gw-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The demo configuration and mappings of the repository. */
export function demo(env: NodeJS.ProcessEnv = {}): { partners: PartnerDirectory; mappings: MappingRegistry; config: ReturnType<typeof loadConfig> } {
  const config = loadConfig({ GATEWAY_DATA_DIR: tempDir(), ...env }, ROOT);
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) throw new Error(JSON.stringify(problems));
  return { partners: directoryOf(config), mappings, config };
}

export async function translateBuffer(
  data: Buffer | string,
  ctx: { partners: PartnerDirectory; mappings: MappingRegistry },
  opts: { partner?: string; chunk?: number; documentId?: string } = {},
): Promise<{ result: TranslateResult; events: CanonicalEvent[] }> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const size = opts.chunk ?? buf.length;
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  const sink = new MemorySink();
  const result = await translateX12(chunks, {
    partners: ctx.partners,
    mappings: ctx.mappings,
    channelPartnerId: opts.partner,
    documentId: opts.documentId ?? 'test',
    correlationId: 'test',
    receivedAt: FIXED_TIME,
    sink,
  });
  return { result, events: sink.all() };
}

export { allRejections } from '../src/pipeline/translate-x12.ts';

export function corpusFiles(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === 'xml') continue;
    for (const f of readdirSync(path.join(CORPUS, d.name))) out.push(`${d.name}/${f}`);
  }
  return out.sort();
}

export function readTsv(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [cols[i], v])));
}

/** A gateway config in a temp folder using the repository's partners and mappings, fast timings. */
export function testConfig(opts: { stabilityMs?: number; incompleteAfterMs?: number; maxBytes?: number; extra?: string; partnersDir?: string; mappingsDir?: string; api?: string; leaseMs?: number } = {}): { env: NodeJS.ProcessEnv; dataDir: string; dir: string } {
  const dir = tempDir('gw-cfg-');
  const dataDir = path.join(dir, 'data');
  const cfg = `dataDir: ${JSON.stringify(dataDir)}
us: { qualifier: ZZ, id: DISTRIBUTOR1 }
api: ${opts.api ?? '{ host: 127.0.0.1, port: 0 }'}
partnersDir: ${JSON.stringify(opts.partnersDir ?? path.join(ROOT, 'config', 'partners'))}
mappingsDir: ${JSON.stringify(opts.mappingsDir ?? path.join(ROOT, 'mappings'))}
itemMaster: ${JSON.stringify(path.join(ROOT, 'config', 'items.yaml'))}
locations: [ACME-EAST, ACME-WEST]
inbound: { stabilityMs: ${opts.stabilityMs ?? 80}, incompleteAfterMs: ${opts.incompleteAfterMs ?? 1500}, maxBytes: ${opts.maxBytes ?? 100_000_000}, retryBaseMs: 50${opts.leaseMs ? `, leaseMs: ${opts.leaseMs}` : ''} }
logLevel: ${process.env.TEST_LOG_LEVEL ?? 'silent'}
${opts.extra ?? ''}`;
  writeFileSync(path.join(dir, 'gateway.yaml'), cfg);
  return { env: { GATEWAY_CONFIG: path.join(dir, 'gateway.yaml') }, dataDir, dir };
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function drop(dataDir: string, partner: string) {
  const base = path.join(dataDir, 'drop', partner);
  return { in: path.join(base, 'in'), out: path.join(base, 'out'), archive: path.join(base, 'archive'), error: path.join(base, 'error') };
}

/** A file dropped in `dir.in` has been settled: its name (moved to archive/ or error/ with its claim's prefix). */
export function settled(dir: ReturnType<typeof drop>, name: string, timeoutMs = 15_000): Promise<string> {
  return waitFor(() => [...ls(dir.archive), ...ls(dir.error)].find((f) => f.endsWith(`-${name}`)), timeoutMs, `${name} settled`);
}

export function ls(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => !f.startsWith('.')).sort();
  } catch {
    return [];
  }
}

/** A minimal valid 850 from demo-retail with the given ISA13 and PO number. */
export function po850(isa13: number, po: string, opts: { sender?: string; qty?: string; ack?: '0' | '1'; receiver?: string; upc?: string } = {}): string {
  const sender = (opts.sender ?? 'RETAILCO').padEnd(15);
  const receiver = (opts.receiver ?? 'DISTRIBUTOR1').padEnd(15);
  const ctrl = String(isa13).padStart(9, '0');
  const segs = [
    `ISA*00*          *00*          *ZZ*${sender}*ZZ*${receiver}*261120*0930*U*00401*${ctrl}*${opts.ack ?? '0'}*P*>`,
    `GS*PO*${(opts.sender ?? 'RETAILCO').trim()}*DISTRIBUTOR1*20261120*0930*${isa13}*X*004010`,
    'ST*850*0001',
    `BEG*00*SA*${po}**20261120`,
    'N1*ST*STORE 17*92*0017',
    `PO1*1*${opts.qty ?? '10'}*EA*9.25*PE*UP*${opts.upc ?? '012345678905'}`,
    'CTT*1',
    'SE*6*0001',
    `GE*1*${isa13}`,
    `IEA*1*${ctrl}`,
  ];
  return segs.join('~\n') + '~\n';
}

/** Receive and process a document straight through the store (no folders), as the pipeline does. */
export async function processText(
  h: { db: import('../src/store/db.ts').Db; raw: import('../src/store/raw-store.ts').RawStore; dir: string; partners: PartnerDirectory; mappings: MappingRegistry; now?: () => Date },
  name: string,
  content: string | Buffer,
  partner: string,
) {
  const { documents } = await import('../src/store/document-repository.ts');
  const { processDocument } = await import('../src/pipeline/process-inbound.ts');
  const { silentLogger } = await import('../src/core/ports.ts');
  const src = path.join(h.dir, name);
  writeFileSync(src, content);
  const s = await h.raw.put(src);
  const now = h.now ?? (() => new Date(FIXED_TIME));
  const id = await documents.insertReceived(h.db, { partnerId: partner, channel: `folder:${partner}`, filename: name, sourcePath: null, sha256: s.sha256, size: s.size, rawPath: s.rel, format: 'unknown', correlationId: `c-${name}`, receivedAt: now().toISOString() });
  return processDocument({ db: h.db, raw: h.raw, partners: h.partners, mappings: h.mappings, clock: { now }, logger: silentLogger }, (await documents.get(h.db, id))!);
}

/** An 846 snapshot from demo-3pl: lines of [UPC, location, onHand]. */
export function snapshot846(isa13: number, lines: [string, string, string][], opts: { purpose?: string; date?: string } = {}): string {
  const ctrl = String(isa13).padStart(9, '0');
  const body = [`BIA*${opts.purpose ?? '00'}*DD*SNAP-${isa13}*${opts.date ?? '20261120'}`];
  for (const [i, [upc, loc, qty]] of lines.entries()) body.push(`LIN*${i + 1}*UP*${upc}`, `QTY*17*${qty}*EA`, `N1*WH*W*92*${loc}`);
  return [
    `ISA*00*          *00*          *ZZ*ACME3PL        *ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>`,
    `GS*IB*ACME3PL*DISTRIBUTOR1*20261120*0930*${isa13}*X*004010`,
    'ST*846*0001',
    ...body,
    `SE*${body.length + 2}*0001`,
    `GE*1*${isa13}`,
    `IEA*1*${ctrl}`,
  ].join('~\n') + '~\n';
}

/** A free TCP port on 127.0.0.1 (for servers the tests start: PostgreSQL, sshd). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Gateways started by a test file, all stopped by `stopAll` (in `after`), even when a test failed half-way. */
export function gatewayTracker<G extends { stop(): Promise<void> }>(): { track(p: Promise<G>): Promise<G>; stopAll(): Promise<void> } {
  const running: G[] = [];
  return {
    async track(p) {
      const g = await p;
      running.push(g);
      return g;
    },
    async stopAll() {
      for (const g of running.splice(0)) await g.stop();
    },
  };
}
