import { isError, reject, type Rejection } from '../core/rejection.ts';
import { buildEvent, type CanonicalEvent, type EventType } from '../domain/events.ts';
import { resolveEventLocations, unknownLocationDetail } from '../domain/locations.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { setMapper } from '../mapping/stream-inbound.ts';
import type { GroupHeader, InterchangeContext, InterchangeHeader, InterchangeResult, SetOutcome, TransactionSet } from '../x12/envelope-types.ts';
import { EnvelopeValidator, type SetSession } from '../x12/envelope-validator.ts';
import { X12SegmentReader, type Segment } from '../x12/segment-reader.ts';
import { isValidDate, isValidTime } from '../x12/x12-codes.ts';
import { checkerFor, finishCheck, projectGrammars, type SyntaxError } from '../x12/grammar.ts';
import type { ErrorCode } from '../core/errors.ts';

/**
 * Inbound X12: bytes -> segments -> envelope checks -> partner -> mapping -> canonical events.
 * Streaming: events of each accepted set are handed to the sink as soon as the set is complete;
 * `discard` withdraws those of a group or interchange that is rejected at its trailer.
 */
export interface TranslateSink {
  events(interchangeSeq: number, groupSeq: number, events: CanonicalEvent[]): Promise<void> | void;
  discard(interchangeSeq: number, groupSeq?: number): Promise<void> | void;
  /** The group (or, without groupSeq, the interchange) is settled; comes after any discard of it. */
  end?(interchangeSeq: number, groupSeq?: number): Promise<void> | void;
}

export interface TranslateOptions {
  partners: PartnerDirectory;
  mappings: MappingRegistry;
  /** The partner whose channel the file came on. undefined: no channel (CLI translate). */
  channelPartnerId?: string;
  documentId: string;
  correlationId: string;
  receivedAt: string;
  /** Has (partner, ISA13) been accepted before? */
  isDuplicate?: (partnerId: string, isa13: string) => Promise<boolean> | boolean;
  sink: TranslateSink;
}

export interface TranslateResult {
  interchanges: InterchangeResult[];
  /** File-level problems and reader notes. */
  fileRejections: Rejection[];
  eventCount: number;
  segmentCount: number;
  bytes: number;
  /** The partner the file belongs to (first interchange's, or the channel's). */
  partnerId: string | null;
}

/** Every rejection of a translation: the file's, then each interchange's, group's and set's. */
export function allRejections(r: TranslateResult): Rejection[] {
  return [...r.fileRejections, ...r.interchanges.flatMap((ic) => [...ic.rejections, ...ic.groups.flatMap((g) => [...g.rejections, ...g.sets.flatMap((s) => s.rejections)])])];
}

const SEGMENT_CODES: Record<string, ErrorCode> = { '1': 'GW_X12_SEGMENT_UNRECOGNIZED', '2': 'GW_X12_SEGMENT_UNEXPECTED', '3': 'GW_X12_SEGMENT_MISSING', '4': 'GW_X12_LOOP_OVER_MAX', '5': 'GW_X12_SEGMENT_OVER_MAX', '6': 'GW_X12_SEGMENT_UNEXPECTED', '7': 'GW_X12_SEGMENT_OUT_OF_SEQUENCE' };
const ELEMENT_CODES: Record<string, ErrorCode> = { '1': 'GW_X12_ELEMENT_MISSING', '2': 'GW_X12_ELEMENT_CONDITIONAL', '3': 'GW_X12_ELEMENT_TOO_MANY', '4': 'GW_X12_ELEMENT_TOO_SHORT', '5': 'GW_X12_ELEMENT_TOO_LONG', '6': 'GW_X12_ELEMENT_INVALID_CHARACTER', '7': 'GW_X12_ELEMENT_INVALID_CODE', '8': 'GW_X12_ELEMENT_INVALID_DATE', '9': 'GW_X12_ELEMENT_INVALID_TIME', '10': 'GW_X12_ELEMENT_EXCLUSION' };

/** A grammar error as a coded rejection at its segment (and element): the AK3/AK4 the 997 carries. */
function syntaxRejection(e: SyntaxError, at: { isa13: string; gs06: string; st02: string; segmentIndex: number }): Rejection {
  const code = e.element ? ELEMENT_CODES[e.element.code] : SEGMENT_CODES[e.segmentCode];
  return reject(code, e.message, { ...at, setPosition: e.position, segmentTag: e.segmentId, ...(e.element ? { element: e.element.position, ...(e.element.component ? { component: e.element.component } : {}), ...(e.element.value !== undefined ? { value: e.element.value } : {}) } : {}) });
}

export async function translateX12(chunks: AsyncIterable<Buffer> | Iterable<Buffer>, opts: TranslateOptions): Promise<TranslateResult> {
  const reader = new X12SegmentReader();
  const partnersBySeq = new Map<number, Partner | null>();
  let eventCount = 0;
  let segmentCount = 0;
  let seq = 0;

  /**
   * A set as it streams: the strict grammar check and the mapping are fed each segment in one pass,
   * and neither holds the set (the mapping keeps its header and current loop; an 856's HL tree is
   * held until SE). At SE the grammar's verdict comes first: the mapping's result only counts for
   * a set that is valid X12.
   */
  const openSet = (set: TransactionSet, partnerId: string | null): SetSession<CanonicalEvent> => {
    const partner = partnersBySeq.get(set.interchange.seq) ?? null;
    const st = set.segments[0];
    const where = { isa13: set.interchange.control, gs06: set.group.control, st02: set.control, segmentIndex: st?.index, setPosition: 1, segmentTag: 'ST', element: 1 };
    if (partner && !partner.sends.includes(set.setId)) {
      return { feed: () => undefined, end: () => ({ events: [], rejections: [reject('GW_X12_SET_UNSUPPORTED', `${partner.id} is not configured to send ${set.setId}`, where)] }) };
    }
    const version = set.group.version;
    const component = set.interchange.delimiters.component;
    const check = checkerFor(projectGrammars(), set.setId, version, component);
    const mapping = opts.mappings.get(partnerId, set.setId);
    const mapper = mapping ? setMapper(mapping, opts.mappings.crosswalk(partnerId), component) : null;
    // The first N1 naming each code: where an unknown warehouse code is pointed at.
    const n1s = new Map<string, number>();
    return {
      feed(seg) {
        if (check) {
          check.checker.feed(seg.tag, seg.elements);
          // A set the grammar rejects is not mapped: stop feeding the mapping at its first error.
          if (check.checker.errors.length) return;
        }
        if (seg.tag === 'N1') {
          const code = seg.elements[4]?.trim();
          if (code && !n1s.has(code)) n1s.set(code, seg.index);
        }
        mapper?.feed(seg);
      },
      end() {
        const rejections: Rejection[] = [];
        if (check) {
          if (check.nearest) rejections.push(reject('GW_X12_GRAMMAR_NEAREST', `no ${set.setId} grammar for ${version || 'this version'}: checked with ${check.grammarVersion}`, where));
          const start = st?.index ?? 0;
          for (const e of finishCheck(check.checker)) rejections.push(syntaxRejection(e, { isa13: set.interchange.control, gs06: set.group.control, st02: set.control, segmentIndex: start + e.position - 1 }));
          if (rejections.some(isError)) return { events: [], rejections };
        }
        if (!mapping || !mapper) {
          rejections.push(reject('GW_MAPPING_MISSING', `no mapping for ${set.setId}${partnerId ? ` (partner ${partnerId})` : ''}`, where));
          return { events: [], rejections };
        }
        const mapped = mapper.end();
        // A mapping's field that it calls missing on an element that is there (another qualifier than
        // it asks for, say) is our rejection of the set, never an AK4 "missing" on a present element.
        // Where the grammar checked the set, what a mapping requires beyond the standard (a ship-to N1)
        // is a business rule: the set is rejected with its code, but no AK3/AK4 claims a syntax error.
        const business = (r: Rejection) => (check && (r.code === 'GW_MAP_SEGMENT_MISSING' || r.code === 'GW_MAP_ELEMENT_MISSING')) || (r.x12?.ak4 === '1' && mapped.present.has(r));
        rejections.push(...mapped.rejections.map((r) => (business(r) ? { ...r, x12: { ak5: r.x12?.ak5 } } : r)));
        if (rejections.some(isError) || !mapped.data || !mapped.eventType) return { events: [], rejections };
        const partnerKey = partnerId ?? `${set.interchange.senderQualifier}/${set.interchange.senderId}`;
        const event = buildEvent(
          mapped.eventType as EventType,
          mapped.data,
          {
            documentId: opts.documentId,
            isa13: set.interchange.control,
            gs06: set.group.control,
            st02: set.control,
            setId: set.setId,
            segmentIndex: mapped.segmentIndex,
          },
          {
            partner: partnerKey,
            documentId: opts.documentId,
            correlationId: opts.correlationId,
            occurredAt: opts.receivedAt,
            defaultLocation: partner?.defaultLocation,
          },
        );
        if (partner) {
          // The partner's warehouse codes become ours; an unknown one rejects the set (never a new location).
          for (const u of resolveEventLocations(event.type, event.data, partner, opts.partners)) {
            const index = n1s.get(u.code);
            const at = index !== undefined ? { segmentIndex: index, setPosition: index - (st?.index ?? 0) + 1, segmentTag: 'N1', element: 4 } : { segmentIndex: st?.index, setPosition: 1, segmentTag: 'ST' };
            rejections.push(reject('GW_LOCATION_UNKNOWN', unknownLocationDetail(u, partner), { isa13: set.interchange.control, gs06: set.group.control, st02: set.control, ...at, value: u.code }));
          }
          if (rejections.some(isError)) return { events: [], rejections };
        }
        return { events: [event], rejections };
      },
    };
  };

  const mapTa1 = (seg: Segment, ic: InterchangeHeader, partnerId: string | null, n: number): SetOutcome<CanonicalEvent> => {
    const e = seg.elements;
    const where = { isa13: ic.control, segmentIndex: seg.index, segmentTag: 'TA1' };
    const rejections: Rejection[] = [];
    const bad = (element: number, why: string) => rejections.push(reject('GW_X12_TA1_INVALID', `TA1${String(element).padStart(2, '0')} ${why}`, { ...where, element, value: e[element] ?? '' }));
    if (!/^\d{9}$/.test(e[1] ?? '')) bad(1, 'must be the 9-digit ISA13 acknowledged');
    if (!/^\d{6}$/.test(e[2] ?? '') || !isValidDate(e[2])) bad(2, 'must be the YYMMDD interchange date');
    if (!/^\d{4}$/.test(e[3] ?? '') || !isValidTime(e[3])) bad(3, 'must be the HHMM interchange time');
    if (!/^[AER]$/.test(e[4] ?? '')) bad(4, 'must be A, E or R');
    if (!/^\d{3}$/.test(e[5] ?? '')) bad(5, 'must be a 3-digit note code');
    if (rejections.length) return { events: [], rejections };
    const partnerKey = partnerId ?? `${ic.senderQualifier}/${ic.senderId}`;
    const event = buildEvent(
      'ack.received',
      { kind: 'TA1', interchangeControl: e[1], interchangeDate: e[2], interchangeTime: e[3], status: { A: 'accepted', E: 'accepted-with-errors', R: 'rejected' }[e[4]], noteCode: e[5] },
      { documentId: opts.documentId, isa13: ic.control, gs06: 'TA1', st02: String(n), segmentIndex: seg.index },
      { partner: partnerKey, documentId: opts.documentId, correlationId: opts.correlationId, occurredAt: opts.receivedAt },
    );
    return { events: [event], rejections };
  };

  const checkGroup = (g: GroupHeader, _ic: InterchangeHeader, partnerId: string | null): Rejection[] => {
    const partner = partnerId ? opts.partners.get(partnerId) : undefined;
    if (!partner) return [];
    const out: Rejection[] = [];
    const us = opts.partners.us;
    if (g.sender !== partner.gsId) out.push(reject('GW_PARTNER_GS_MISMATCH', `GS02 ${JSON.stringify(g.sender)}, ${partner.id} sends as ${JSON.stringify(partner.gsId)}`, { element: 2, value: g.sender }));
    if (g.receiver !== us.gsId) out.push(reject('GW_PARTNER_GS_MISMATCH', `GS03 ${JSON.stringify(g.receiver)}, we are ${JSON.stringify(us.gsId)}`, { element: 3, value: g.receiver }));
    return out;
  };

  const validator = new EnvelopeValidator<CanonicalEvent>({ openSet, mapTa1, checkGroup });

  const context = async (header: InterchangeHeader): Promise<InterchangeContext> => {
    const rejections: Rejection[] = [];
    const where = { isa13: header.control, segmentIndex: header.segmentIndex, segmentTag: 'ISA' };
    const partner = opts.partners.byInterchange(header.senderQualifier, header.senderId) ?? null;
    partnersBySeq.set(header.seq, partner);
    const onChannel = opts.channelPartnerId !== undefined;
    const us = opts.partners.us;
    if (!partner) {
      const r = reject('GW_PARTNER_UNKNOWN', `${header.senderQualifier}/${header.senderId}`, { ...where, element: 6 });
      if (!onChannel) r.severity = 'warning';
      rejections.push(r);
    } else if (onChannel && partner.id !== opts.channelPartnerId) {
      rejections.push(
        reject('GW_PARTNER_CHANNEL_MISMATCH', `the envelope says ${partner.id} (${header.senderQualifier}/${header.senderId}) but the file came on ${opts.channelPartnerId}'s channel`, { ...where, element: 6 }),
      );
    }
    if (header.receiverQualifier !== us.qualifier || header.receiverId !== us.id) {
      const r = reject('GW_PARTNER_RECEIVER_UNKNOWN', `${header.receiverQualifier}/${header.receiverId} (we are ${us.qualifier}/${us.id})`, { ...where, element: 8 });
      if (!onChannel && !partner) r.severity = 'warning';
      rejections.push(r);
    }
    const partnerId = partner?.id ?? null;
    const earlierInFile = validator.interchanges.some((ic) => ic.accepted && ic.partnerId === partnerId && ic.header?.control === header.control);
    const duplicate = !!(partnerId && (earlierInFile || (opts.isDuplicate && (await opts.isDuplicate(partnerId, header.control)))));
    if (duplicate) rejections.push(reject('GW_X12_INTERCHANGE_DUPLICATE', `${partnerId} ISA13 ${header.control}`, where));
    return { partnerId, rejections: rejections.filter((r) => r.code !== 'GW_X12_INTERCHANGE_DUPLICATE'), duplicate };
  };

  // Sink work (database writes) runs behind the reading and mapping: in order, at most a few sets
  // behind, so the next set is being parsed while the last one is being stored.
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  const sinkState: { failed: { error: unknown } | null } = { failed: null };
  const rethrow = () => {
    if (sinkState.failed) throw sinkState.failed.error;
  };
  const enqueue = async (fn: () => Promise<void> | void) => {
    rethrow();
    pending++;
    chain = chain
      .then(async () => {
        if (!sinkState.failed) await fn();
      })
      .catch((error) => {
        sinkState.failed ??= { error };
      })
      .finally(() => {
        pending--;
      });
    if (pending > 2) await chain;
    rethrow();
  };

  const flush = async () => {
    for (const a of validator.takeActions()) {
      if (a.type === 'events') {
        eventCount += a.events.length;
        await enqueue(() => opts.sink.events(a.interchangeSeq, a.groupSeq, a.events));
      } else if (a.type === 'discard') {
        await enqueue(() => opts.sink.discard(a.interchangeSeq, a.groupSeq));
      } else {
        await enqueue(() => opts.sink.end?.(a.interchangeSeq, a.groupSeq));
      }
    }
  };

  const feed = async (segs: ReturnType<X12SegmentReader['push']>) => {
    for (const seg of segs) {
      segmentCount++;
      if (seg.tag === 'ISA' && seg.isa) {
        const ctx = await context(EnvelopeValidator.header(seg, ++seq));
        validator.feed(seg, ctx);
      } else {
        validator.feed(seg);
      }
    }
    await flush();
  };

  for await (const chunk of chunks) await feed(reader.push(chunk));
  await feed(reader.end());
  const interchanges = validator.finish();
  await flush();
  await chain;
  rethrow();
  // Discards counted events again: recount what survived.
  eventCount = 0;
  for (const ic of interchanges) {
    eventCount += ic.ta1Events;
    for (const g of ic.groups) for (const s of g.sets) eventCount += s.accepted ? s.eventCount : 0;
  }
  // A duplicate is an outcome of its own, reported on the interchange.
  for (const ic of interchanges) {
    if (ic.duplicate && ic.header) {
      ic.rejections.push(reject('GW_X12_INTERCHANGE_DUPLICATE', `${ic.partnerId} ISA13 ${ic.header.control}`, { isa13: ic.header.control, segmentIndex: ic.header.segmentIndex, segmentTag: 'ISA' }));
    }
  }
  const fileRejections = [...reader.notes, ...validator.fileRejections];
  if (interchanges.length === 0 && !fileRejections.some(isError)) {
    fileRejections.push(reject(reader.bytes === 0 ? 'GW_FILE_EMPTY' : 'GW_X12_ISA_MISSING', undefined, {}));
  }
  return {
    interchanges,
    fileRejections,
    eventCount,
    segmentCount,
    bytes: reader.bytes,
    partnerId: interchanges.find((i) => i.partnerId)?.partnerId ?? opts.channelPartnerId ?? null,
  };
}
