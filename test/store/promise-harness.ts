import path from 'node:path';
import knexFactory from 'knex';
import { silentLogger } from '../../src/core/ports.ts';
import { available } from '../../src/domain/availability.ts';
import { partnerDirectory, type Partner, type PartnerDirectory } from '../../src/domain/partner.ts';
import { Publisher } from '../../src/pipeline/publisher.ts';
import { positions } from '../../src/store/availability-repository.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { promises } from '../../src/store/promise-repository.ts';
import { RawStore } from '../../src/store/raw-store.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { readFileSync } from 'node:fs';
import { demo, FIXED_TIME, processText, tempDir } from '../helpers.ts';
import type { TestPostgres } from './postgres.ts';

/**
 * A store with the demo partners (or given ones) that documents go through as the pipeline takes
 * them (processDocument), and a publisher for their 846s: the promise engine end to end without
 * folders, on SQLite or on a fresh PostgreSQL database.
 */
export type Backend = 'sqlite' | 'pg';

let dbCounter = 0;

export async function freshDb(backend: Backend, pg: TestPostgres | null): Promise<Db> {
  if (backend === 'sqlite') return openDb({ client: 'sqlite3', filename: path.join(tempDir('gw-prom-'), 'gw.sqlite') });
  const name = `gw_${process.pid}_${++dbCounter}`;
  const admin = knexFactory({ client: 'pg', connection: pg!.url, pool: { min: 0, max: 1 } });
  await admin.raw(`create database ${name}`);
  await admin.destroy();
  return openDb({ client: 'pg', connection: pg!.url.replace(/\/postgres$/, `/${name}`) });
}

export interface Harness {
  db: Db;
  partners: PartnerDirectory;
  mappings: ReturnType<typeof demo>['mappings'];
  send(name: string, text: string, partner: string): ReturnType<typeof processText>;
  /** Publish a full 846 to the partner; returns its lines: location -> item id -> QTY33 (and QTY03). */
  publish(partner: string, full?: boolean): Promise<Map<string, Map<string, { qty: string; uom: string }>>>;
  close(): Promise<void>;
}

export async function harness(backend: Backend, pg: TestPostgres | null, opts: { partners?: (p: Partner[]) => Partner[] } = {}): Promise<Harness> {
  const base = demo();
  const list = opts.partners ? opts.partners(base.partners.all()) : base.partners.all();
  const partners = partnerDirectory(base.partners.us, list, base.partners);
  const db = await freshDb(backend, pg);
  const dir = tempDir('gw-prom-h-');
  let tick = 0;
  // A clock that moves, so that documents and publications are ordered in time.
  const now = () => new Date(Date.parse(FIXED_TIME) + ++tick * 1000);
  const h = { db, raw: new RawStore(path.join(dir, 'raw')), dir, partners, mappings: base.mappings, now };
  const publisher = new Publisher({ db, partners, mappings: base.mappings, clock: { now }, logger: silentLogger, outboundDir: path.join(dir, 'out'), exclusive: (fn) => fn(), queued: () => undefined });
  return {
    db,
    partners,
    mappings: base.mappings,
    send: (name, text, partner) => processText(h, name, text, partner),
    async publish(partner, full = true) {
      const r = await publisher.emit(partner, full);
      const out = new Map<string, Map<string, { qty: string; uom: string }>>();
      if (!r.outboxId) return out;
      const row = await db('outbox').where({ id: r.outboxId }).first();
      let loc = '';
      let id = '';
      for (const s of readAllSegments(readFileSync(row.content_path)).segments) {
        if (s.tag === 'N1') loc = s.elements[4];
        if (s.tag === 'LIN') id = s.elements[3];
        if (s.tag === 'QTY' && s.elements[1] === '33') {
          if (!out.has(loc)) out.set(loc, new Map());
          out.get(loc)!.set(id, { qty: s.elements[2], uom: s.elements[3] });
        }
      }
      return out;
    },
    async close() {
      publisher.stop();
      await db.destroy();
    },
  };
}

const H = 'ISA*00*          *00*          *ZZ*';

/** An interchange from a partner (ISA/GS ids) with one set of the given body segments. */
export function x12(from: string, isa13: number, gs01: string, st01: string, body: string[]): string {
  const ctrl = String(isa13).padStart(9, '0');
  return [`${H}${from.padEnd(15)}*ZZ*DISTRIBUTOR1   *261120*0930*U*00401*${ctrl}*0*P*>`, `GS*${gs01}*${from}*DISTRIBUTOR1*20261120*0930*${isa13}*X*004010`, `ST*${st01}*0001`, ...body, `SE*${body.length + 2}*0001`, `GE*1*${isa13}`, `IEA*1*${ctrl}`].join('~\n') + '~\n';
}

/** An 850 from a retailer (RETAILCO or BIGBOX): lines are PO1 (and PO4) segments after BEG/N1. */
export function po(from: string, isa13: number, poNumber: string, lines: string[], purpose = '00'): string {
  const n = lines.filter((l) => l.startsWith('PO1')).length;
  return x12(from, isa13, 'PO', '850', [`BEG*${purpose}*SA*${poNumber}**20261120`, 'N1*ST*STORE 17*92*0017', ...lines, `CTT*${n}`]);
}

/** A 3PL 846 snapshot: LIN loops given as segment lists. */
export function inv(isa13: number, lins: string[][], purpose = '00'): string {
  return x12('ACME3PL', isa13, 'IB', '846', [`BIA*${purpose}*DD*SNAP-${isa13}*20261120`, ...lins.flat()]);
}

/** For every item and location: the promises of all partners together never exceed what can be promised. */
export async function promiseExcess(db: Db): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const rows = await promises.list(db);
  const sums = new Map<string, number>();
  for (const r of rows) sums.set(`${r.item}\u0000${r.location}`, (sums.get(`${r.item}\u0000${r.location}`) ?? 0) + r.promised);
  for (const [k, total] of sums) {
    const [item, location] = k.split('\u0000');
    const p = await positions.get(db, item, location);
    out.set(k, Math.max(0, total - available(p)));
  }
  return out;
}
