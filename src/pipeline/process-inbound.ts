import { open } from 'node:fs/promises';
import type { Clock, Logger } from '../core/ports.ts';
import { isError, reject, type Rejection } from '../core/rejection.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import type { Db } from '../store/db.ts';
import { counters } from '../store/counter-repository.ts';
import { documents, type DocumentRow, type InboundStatus } from '../store/document-repository.ts';
import { events } from '../store/event-repository.ts';
import { interchanges } from '../store/interchange-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import type { RawStore } from '../store/raw-store.ts';
import { rejections as rejectionRepo } from '../store/rejection-repository.ts';
import { buildAck, faGroupsOf } from '../x12/ack-builder.ts';
import type { InterchangeResult } from '../x12/envelope-types.ts';
import { planFileAcks } from './acks-for.ts';
import { applyEvents, emptyApplyResult, type ApplyContext, type ApplyResult } from './apply-events.ts';
import type { Kpis } from '../core/kpis.ts';
import type { AsnOutcome } from './asn.ts';
import type { AllocationRule } from '../domain/availability.ts';
import { detectFormatOf } from './detect-format.ts';
import { gatedStatus } from './sequencing.ts';
import { translateX12 } from './translate-x12.ts';
import { translateXml } from './translate-xml.ts';
import { nonconformance } from './envelope-to.ts';

export interface InboundDeps {
  /** Where a partner's PO lines ship from (default: the location with the most available). */
  allocation?: (partnerId: string) => AllocationRule;
  db: Db;
  raw: RawStore;
  partners: PartnerDirectory;
  mappings: MappingRegistry;
  clock: Clock;
  logger: Logger;
  /** How long a document waits for what it refers to (a PO, an ASN); default 24 h. */
  waitMs?: number;
  /** The key figures, counted as documents come and go (GET /metrics). */
  kpis?: Kpis;
}

export interface ProcessOutcome {
  documentId: number;
  status: InboundStatus;
  eventCount: number;
  errorCode: string | null;
  errorMessage: string | null;
  /** Errors first, then warnings. */
  rejections: Rejection[];
  acks: number;
  /** Movements applied to the availability store. */
  movements: number;
  /** Outbound ASNs queued (or refused) because a retailer's PO shipped. */
  asns?: AsnOutcome[];
  /** PO lines short of what their partner was promised (oversells), and lines backordered, by partner. */
  oversells?: number;
  backordered?: number;
  /** The flows (orders' correlation ids) it belongs to, for its log line. */
  flows?: string[];
  /** Another instance (or an earlier attempt) had finished it already: nothing was done now. */
  already?: boolean;
}

/** The one id a document's acknowledgments carry: its order's flow when it belongs to exactly one, else its own. */
const flowIdOf = (flows: string[], own: string): string => (flows.length === 1 ? flows[0] : own);

const PARKING = new Set(['GW_PARTNER_UNKNOWN', 'GW_PARTNER_CHANNEL_MISMATCH', 'GW_PARTNER_RECEIVER_UNKNOWN']);

function interchangeStatus(ic: InterchangeResult): string {
  if (ic.duplicate) return 'DUPLICATE';
  if (!ic.accepted) return 'REJECTED';
  if (ic.groups.every((g) => g.accepted)) return 'ACCEPTED';
  const accepted = ic.groups.reduce((n, g) => n + g.sets.filter((s) => s.accepted).length, 0) + ic.ta1Events;
  return accepted > 0 ? 'PARTIAL' : 'REJECTED';
}

function documentStatus(ics: InterchangeResult[], fileErrors: Rejection[]): InboundStatus {
  if (!ics.length) return fileErrors.some((r) => r.code === 'GW_FORMAT_UNKNOWN') ? 'PARKED' : 'REJECTED';
  if (ics.some((ic) => ic.rejections.some((r) => isError(r) && PARKING.has(r.code)))) return 'PARKED';
  if (ics.every((ic) => ic.duplicate)) return 'DUPLICATE';
  const statuses = ics.map(interchangeStatus);
  if (statuses.every((s) => s === 'ACCEPTED' || s === 'DUPLICATE') && !fileErrors.some(isError)) return 'PROCESSED';
  return statuses.includes('ACCEPTED') || statuses.includes('PARTIAL') ? 'PARTIAL' : 'REJECTED';
}

/** How events are applied for a document (its id) in a transaction. */
export function applyContext(deps: InboundDeps, trx: Db, documentId: number, now: Date): ApplyContext {
  const { partners, mappings } = deps;
  return {
    db: trx,
    documentId,
    at: now.toISOString(),
    partners,
    allocation: deps.allocation ?? ((id) => partners.get(id)?.allocation ?? { rule: 'most-available' }),
    crosswalk: (id) => mappings.crosswalk(id),
    asn: { partners, now },
    waitMs: deps.waitMs,
  };
}

/** Named savepoints, opened lazily and closed once (nested names go with their parent). */
class Savepoints {
  private open_ = new Set<string>();
  constructor(private readonly trx: Db) {}

  async open(name: string): Promise<void> {
    if (this.open_.has(name)) return;
    await this.trx.raw(`savepoint sp_${name}`);
    this.open_.add(name);
  }

  private forget(name: string): void {
    const nested = name.startsWith('ic_') ? `g_${name.slice(3)}_` : null;
    for (const n of [...this.open_]) if (n === name || (nested && n.startsWith(nested))) this.open_.delete(n);
  }

  async release(name: string): Promise<void> {
    if (!this.open_.has(name)) return;
    await this.trx.raw(`release savepoint sp_${name}`);
    this.forget(name);
  }

  async rollback(name: string): Promise<void> {
    if (!this.open_.has(name)) return;
    await this.trx.raw(`rollback to savepoint sp_${name}`);
    await this.trx.raw(`release savepoint sp_${name}`);
    this.forget(name);
  }
}

async function head(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(512);
    const { bytesRead } = await fh.read(b, 0, 512, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Process one received document in one database transaction: events appended (idempotently),
 * interchanges recorded for duplicate detection, rejections kept, acknowledgments queued with
 * control numbers from the store, and the document's status set. A crash anywhere inside leaves
 * the document RECEIVED, and it is processed again from its stored bytes.
 */
/** PO numbers anywhere in an event's data (orders, shipments, acknowledgments). */
function poNumbers(data: unknown, out: Set<string>): void {
  if (Array.isArray(data)) for (const d of data) poNumbers(d, out);
  else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) {
      if (k === 'poNumber' && typeof v === 'string' && v) out.add(v);
      else if (typeof v === 'object') poNumbers(v, out);
    }
  }
}

function refsOf(list: CanonicalEvent[], pos: Set<string>, gs06s: Set<string>): void {
  for (const e of list) {
    poNumbers(e.data, pos);
    if (e.source.gs06) gs06s.add(e.source.gs06);
  }
}

/**
 * `replay`: the document is a replay of a stored one (after a mapping fix). Interchanges already
 * seen are not duplicates then; what was applied before is recognised by the events' idempotency
 * keys and not applied again, and no acknowledgment goes to the partner (it has had one).
 */
export async function processDocument(deps: InboundDeps, doc: DocumentRow, opts: { replay?: boolean } = {}): Promise<ProcessOutcome> {
  const { db, raw, partners, mappings, clock } = deps;
  const channelPartnerId = doc.partner_id ?? undefined;
  const now = clock.now();
  const nowIso = now.toISOString();
  const format = detectFormatOf(await head(raw.path(doc.raw_path)));

  return db.transaction(async (trx) => {
    // Whoever processes a document holds its row until it commits: a second instance waits here,
    // then finds it finished and does nothing.
    const current = await documents.lockForWork(trx, doc.id);
    if (!current || current.status !== 'RECEIVED') {
      return { documentId: doc.id, status: (current?.status ?? 'FAILED') as InboundStatus, eventCount: current?.event_count ?? 0, errorCode: current?.error_code ?? null, errorMessage: current?.error_message ?? null, rejections: [], acks: 0, movements: 0, already: true };
    }
    const applyCtx = applyContext(deps, trx, doc.id, now);
    const applied: ApplyResult = emptyApplyResult();

    if (format === 'xml') {
      // Read from the stored file in pieces, never whole (stream-xml.ts).
      const x = translateXml({ path: raw.path(doc.raw_path) }, {
        partners,
        mappings,
        channelPartnerId,
        documentId: String(doc.id),
        sha256: doc.sha256,
        correlationId: doc.correlation_id,
        receivedAt: doc.received_at,
      });
      const inserted = x.events.length ? await events.append(trx, doc.id, 0, 0, x.events, nowIso) : new Map<string, number>();
      const pos = new Set<string>();
      refsOf(x.events, pos, new Set());
      await documents.addRefs(trx, doc.id, [...pos].map((value) => ({ kind: 'po' as const, value })));
      const flows = await documents.flowsOf(trx, doc.id);
      await applyEvents(applyCtx, x.events.filter((e) => inserted.has(e.id)).map((e) => ({ event: e, seq: inserted.get(e.id)! })), applied);
      x.rejections.push(...applied.rejections);
      const errors = x.rejections.filter(isError);
      let status: InboundStatus = errors.length ? (errors.some((r) => r.code === 'GW_XML_NO_MAPPING') ? 'PARKED' : 'REJECTED') : x.events.length && !inserted.size ? 'DUPLICATE' : 'PROCESSED';
      // Lines refused while applying (the rest was applied): partly processed, shown in dead letters.
      if (errors.length && errors.every((r) => applied.rejections.includes(r))) status = 'PARTIAL';
      status = await gatedStatus(trx, doc.id, status, applied, inserted.size);
      await rejectionRepo.insert(trx, doc.id, x.rejections);
      const first = errors[0];
      await documents.finish(trx, doc.id, { status, format, partnerId: doc.partner_id, errorCode: first?.code ?? null, errorMessage: first?.message ?? null, setIds: x.mappingId ? `xml:${x.mappingId}` : 'xml', isa13s: '', eventCount: inserted.size, processedAt: nowIso });
      return { documentId: doc.id, status, eventCount: inserted.size, errorCode: first?.code ?? null, errorMessage: first?.message ?? null, rejections: x.rejections, acks: 0, movements: applied.movements + applied.releasedMovements, asns: applied.asns, oversells: applied.oversells, backordered: applied.backordered, flows };
    }

    if (format !== 'x12') {
      const r = format === 'empty' ? reject('GW_FILE_EMPTY') : reject('GW_FORMAT_UNKNOWN');
      await rejectionRepo.insert(trx, doc.id, [r]);
      const status: InboundStatus = format === 'empty' ? 'REJECTED' : 'PARKED';
      await documents.finish(trx, doc.id, { status, format, partnerId: doc.partner_id, errorCode: r.code, errorMessage: r.message, setIds: '', isa13s: '', eventCount: 0, processedAt: nowIso });
      return { documentId: doc.id, status, eventCount: 0, errorCode: r.code, errorMessage: r.message, rejections: [r], acks: 0, movements: 0 };
    }

    const savepoints = new Savepoints(trx);
    const pos = new Set<string>();
    const gs06s = new Set<string>();
    let produced = 0;
    const result = await translateX12(raw.read(doc.raw_path), {
      partners,
      mappings,
      channelPartnerId,
      documentId: String(doc.id),
      correlationId: doc.correlation_id,
      receivedAt: doc.received_at,
      isDuplicate: opts.replay ? undefined : (p, isa13) => interchanges.wasAccepted(trx, p, isa13),
      sink: {
        // Events are appended and applied to the availability store as each set completes; a
        // savepoint per interchange and group lets a trailer error withdraw exactly that part.
        events: async (ic, group, list) => {
          await savepoints.open(`ic_${ic}`);
          if (group) await savepoints.open(`g_${ic}_${group}`);
          const inserted = await events.append(trx, doc.id, ic, group, list, nowIso);
          refsOf(list, pos, gs06s);
          produced += list.length;
          await applyEvents(applyCtx, list.filter((e) => inserted.has(e.id)).map((e) => ({ event: e, seq: inserted.get(e.id)! })), applied);
        },
        discard: (ic, group) => savepoints.rollback(group === undefined ? `ic_${ic}` : `g_${ic}_${group}`),
        end: (ic, group) => savepoints.release(group === undefined ? `ic_${ic}` : `g_${ic}_${group}`),
      },
    });

    const all: Rejection[] = [...result.fileRejections, ...applied.rejections];
    for (const ic of result.interchanges) {
      all.push(...ic.rejections);
      for (const g of ic.groups) {
        all.push(...g.rejections);
        for (const s of g.sets) all.push(...s.rejections);
      }
      if (ic.header) {
        await interchanges.record(trx, {
          documentId: doc.id,
          seq: ic.header.seq,
          partnerId: ic.partnerId,
          sender: `${ic.header.senderQualifier}/${ic.header.senderId}`,
          receiver: `${ic.header.receiverQualifier}/${ic.header.receiverId}`,
          isa13: ic.header.control,
          status: interchangeStatus(ic),
          createdAt: nowIso,
          replay: !!opts.replay,
        });
      }
    }
    all.sort((a, b) => (isError(a) === isError(b) ? 0 : isError(a) ? -1 : 1));
    await rejectionRepo.insert(trx, doc.id, all);

    for (const r of all) if (r.gs06) gs06s.add(r.gs06);
    await documents.addRefs(trx, doc.id, [
      ...[...pos].map((value) => ({ kind: 'po' as const, value })),
      ...result.interchanges.flatMap((ic) => (ic.header ? [{ kind: 'isa13' as const, value: ic.header.control }] : [])),
      ...[...gs06s].filter((g) => /^\d+$/.test(g)).map((value) => ({ kind: 'gs06' as const, value })),
    ]);

    const flows = await documents.flowsOf(trx, doc.id);
    const ackProblems: Rejection[] = [];
    const acks = opts.replay ? 0 : await enqueueAcks(trx, result.interchanges, partners, channelPartnerId, doc.id, flowIdOf(flows, doc.correlation_id), now, ackProblems);
    if (ackProblems.length) await rejectionRepo.insert(trx, doc.id, ackProblems);

    // What survived: events appended for this document (idempotent duplicates are not counted twice).
    const eventCount = await events.count(trx, { document_id: doc.id });
    const movementCount = await trx('movements').where({ document_id: doc.id }).count({ n: '*' }).first();
    applied.movements = Number(movementCount?.n ?? 0) + applied.releasedMovements;
    let status = documentStatus(result.interchanges, result.fileRejections);
    // Lines refused while applying (unconvertible units, id conflicts): the rest was applied.
    if (status === 'PROCESSED' && applied.rejections.some(isError)) status = 'PARTIAL';
    // A replay whose events were all applied before: nothing new, a duplicate.
    if (opts.replay && status === 'PROCESSED' && produced > 0 && eventCount === 0) status = 'DUPLICATE';
    status = await gatedStatus(trx, doc.id, status, applied, eventCount);
    const firstError = all.find(isError);
    const setIds = [...new Set(result.interchanges.flatMap((ic) => ic.groups.flatMap((g) => g.sets.map((s) => s.setId))))].join(',');
    const isa13s = result.interchanges.map((ic) => ic.header?.control ?? '').filter(Boolean).join(',');
    await documents.finish(trx, doc.id, {
      status,
      format,
      partnerId: result.partnerId ?? doc.partner_id,
      errorCode: firstError?.code ?? null,
      errorMessage: firstError?.message ?? null,
      setIds,
      isa13s,
      eventCount,
      processedAt: nowIso,
    });
    return { documentId: doc.id, status, eventCount, errorCode: firstError?.code ?? null, errorMessage: firstError?.message ?? null, rejections: all, acks, movements: applied.movements, asns: applied.asns, oversells: applied.oversells, backordered: applied.backordered, flows };
  });
}

/** The 997s/TA1s a file's interchanges are due, queued in the outbox with control numbers from the store. */
async function enqueueAcks(trx: Db, interchangesOf: InterchangeResult[], partners: PartnerDirectory, channelPartnerId: string | undefined, documentId: number, correlationId: string, now: Date, problems: Rejection[] = []): Promise<number> {
  let acks = 0;
  for (const p of planFileAcks(interchangesOf, partners, channelPartnerId)) {
    const to = p.partner;
    if (!to) continue; // nobody to address it to (CLI-only case)
    const isa = await counters.next(trx, to.id, 'isa');
    const gs: number[] = [];
    for (let i = 0; i < faGroupsOf(p.plan.groups).length; i++) gs.push(await counters.next(trx, to.id, 'gs'));
    const built = buildAck({ plan: p.plan, delimiters: p.delimiters, isaControl: isa, gsControl: gs, now, usage: to.x12.usage });
    const isa13 = String(isa).padStart(9, '0');
    // Our 997 checked by the 997 grammar before it is released: one we got wrong is held, with its reason.
    const bad = nonconformance(built.content, `${built.kinds.join('+')} ${isa13} to ${to.id}`);
    if (bad) {
      problems.push(bad);
      continue;
    }
    await outbox.enqueue(trx, {
      partnerId: to.id,
      kind: built.kinds.join('+'),
      sourceDocumentId: documentId,
      sourceRef: `ack:${documentId}:${p.plan.header.seq}`,
      filename: `${built.kinds.join('-')}_${isa13}.x12`,
      content: built.content,
      isa13,
      gs06: built.gsControl === null ? null : String(built.gsControl),
      createdAt: now.toISOString(),
      correlationId,
    });
    acks++;
  }
  return acks;
}

/**
 * A document our own code failed on for good (FAILED) still gets the acknowledgment its partner
 * is due, where its translation (the syntax, the envelope, the mapping) works and only applying
 * it failed: the file was received and is functionally sound; the fault is ours, in the dead
 * letters. The translation runs again without applying anything; if it is what fails, no
 * acknowledgment is sent (and the caller logs it). Not for a replay (the partner had its ack).
 */
export async function ackAfterFailure(deps: InboundDeps, doc: DocumentRow): Promise<number> {
  const { db, raw, partners, mappings, clock } = deps;
  if (doc.replay_of !== null || detectFormatOf(await head(raw.path(doc.raw_path))) !== 'x12') return 0;
  const now = clock.now();
  return db.transaction(async (trx) => {
    const result = await translateX12(raw.read(doc.raw_path), {
      partners,
      mappings,
      channelPartnerId: doc.partner_id ?? undefined,
      documentId: String(doc.id),
      correlationId: doc.correlation_id,
      receivedAt: doc.received_at,
      isDuplicate: (p, isa13) => interchanges.wasAccepted(trx, p, isa13),
      sink: { events: async () => undefined, discard: async () => undefined, end: async () => undefined },
    });
    return enqueueAcks(trx, result.interchanges, partners, doc.partner_id ?? undefined, doc.id, flowIdOf(await documents.flowsOf(trx, doc.id), doc.correlation_id), now);
  });
}
