import { isError, reject, type Rejection } from '../core/rejection.ts';
import type {
  GroupHeader,
  GroupResult,
  InterchangeContext,
  InterchangeHeader,
  InterchangeResult,
  SetOutcome,
  SetResult,
  TransactionSet,
} from './envelope-types.ts';
import type { Segment } from './segment-reader.ts';
import { FUNCTIONAL_ID_BY_SET, ID_QUALIFIERS, ISA_VERSIONS, isValidDate, isValidTime, versionNumber } from './x12-codes.ts';

/**
 * Envelope validation as a strict translator does it, one segment at a time:
 * ISA/IEA, GS/GE, ST/SE nesting, control numbers, counts, uniqueness, GS01 against ST01.
 *
 * Complete transaction sets are handed to `mapSet` as soon as their SE is read (so memory stays
 * bounded by one set), and the events it returns are handed out through `takeActions()`. When a
 * group or interchange turns out to be broken at its trailer, a `discard` action withdraws what
 * was handed out for it.
 */
export type Action<E> =
  | { type: 'events'; interchangeSeq: number; groupSeq: number; set: TransactionSet | null; events: E[] }
  | { type: 'discard'; interchangeSeq: number; groupSeq?: number }
  /** A group or interchange is settled: what was handed out for it stands (unless discarded just before). */
  | { type: 'end'; interchangeSeq: number; groupSeq?: number };

/** One transaction set mapped as it streams: fed ST to SE, then asked for its outcome. */
export interface SetSession<E> {
  feed(seg: Segment): void;
  end(): SetOutcome<E>;
}

export interface ValidatorOptions<E> {
  /** Map a complete, envelope-valid transaction set (its segments held whole). */
  mapSet?: (set: TransactionSet, partnerId: string | null) => SetOutcome<E>;
  /**
   * Or: open a session at ST that is fed each segment as it is read, so no set is held whole
   * (`set.segments` then holds the ST only). Its outcome is asked for only if the envelope is valid.
   */
  openSet?: (set: TransactionSet, partnerId: string | null) => SetSession<E>;
  /** Map a partner's TA1 (interchange acknowledgment) found between ISA and GS. */
  mapTa1?: (seg: Segment, interchange: InterchangeHeader, partnerId: string | null, n: number) => SetOutcome<E>;
  /** Extra checks of a GS against the partner (application sender/receiver codes). */
  checkGroup?: (group: GroupHeader, interchange: InterchangeHeader, partnerId: string | null) => Rejection[];
  /** Largest set held in memory; larger sets are rejected. */
  maxSetSegments?: number;
}

const SEG_TAG = /^[A-Z][A-Z0-9]{1,2}$/;
const CONTROL_9 = /^\d{9}$/;

interface OpenGroup {
  seq: number;
  result: GroupResult;
  controls: Set<string>;
  setCount: number;
}

interface OpenSet<E> {
  set: TransactionSet;
  session: SetSession<E> | null;
  result: SetResult;
  count: number;
  tooLarge: boolean;
}

interface OpenInterchange {
  result: InterchangeResult;
  header: InterchangeHeader;
  groupControls: Set<string>;
  groupCount: number;
  groupSeq: number;
  ta1Count: number;
  /** Mapping runs only while the interchange is usable. */
  usable: boolean;
}

export class EnvelopeValidator<E> {
  readonly interchanges: InterchangeResult[] = [];
  /** File-level notes (data outside any interchange). */
  readonly fileRejections: Rejection[] = [];
  private actions: Action<E>[] = [];
  private ic: OpenInterchange | null = null;
  private group: OpenGroup | null = null;
  private set: OpenSet<E> | null = null;
  private seq = 0;
  private readonly maxSetSegments: number;

  constructor(private readonly opts: ValidatorOptions<E>) {
    this.maxSetSegments = opts.maxSetSegments ?? 250_000;
  }

  takeActions(): Action<E>[] {
    const a = this.actions;
    this.actions = [];
    return a;
  }

  /** Parse the ISA header without deciding anything (the pipeline resolves the partner from it). */
  static header(seg: Segment, seq: number): InterchangeHeader {
    const e = seg.elements;
    const t = (i: number) => (e[i] ?? '').trim();
    return {
      seq,
      elements: e,
      delimiters: seg.isa!.delimiters,
      senderQualifier: t(5),
      senderId: t(6),
      receiverQualifier: t(7),
      receiverId: t(8),
      date: t(9),
      time: t(10),
      version: t(12),
      control: t(13),
      ackRequested: t(14) === '1',
      usage: t(15),
      segmentIndex: seg.index,
    };
  }

  /** Feed one segment. For an ISA, `ctx` carries the pipeline's decision about the interchange. */
  feed(seg: Segment, ctx?: InterchangeContext): void {
    switch (seg.tag) {
      case 'ISA':
        // An ISA the reader could not read as one (a bare "ISA" where the file ends or breaks).
        if (!seg.isa) return this.onBrokenIsa(seg);
        return this.onIsa(seg, ctx ?? { partnerId: null, rejections: [], duplicate: false });
      case 'IEA':
        return this.onIea(seg);
      case 'GS':
        return this.onGs(seg);
      case 'GE':
        return this.onGe(seg);
      case 'ST':
        return this.onSt(seg);
      case 'SE':
        return this.onSe(seg);
      default:
        return this.onOther(seg);
    }
  }

  finish(): InterchangeResult[] {
    if (this.ic) {
      this.closeSetMissing();
      this.closeGroupMissing();
      this.icError(reject('GW_X12_IEA_MISSING', 'the file ends before IEA', { segmentTag: 'IEA' }));
      this.closeInterchange();
    }
    return this.interchanges;
  }

  private where(seg: Segment) {
    return {
      isa13: this.ic?.header.control,
      gs06: this.group?.result.header.control,
      st02: this.set?.set.control,
      segmentIndex: seg.index,
      segmentTag: seg.tag,
    };
  }

  private icError(r: Rejection): void {
    if (!this.ic) return;
    r.isa13 ??= this.ic.header.control;
    this.ic.result.rejections.push(r);
    if (isError(r)) this.ic.usable = false;
  }

  private onBrokenIsa(seg: Segment): void {
    const r = reject('GW_X12_ISA_MALFORMED', 'an ISA without its 16 elements (the file ends or breaks there): ignored', { segmentIndex: seg.index, segmentTag: 'ISA' });
    if (this.ic) this.icError(r);
    else this.fileRejections.push(r);
  }

  private onIsa(seg: Segment, ctx: InterchangeContext): void {
    if (this.ic) {
      this.closeSetMissing();
      this.closeGroupMissing();
      this.icError(reject('GW_X12_IEA_MISSING', 'a new ISA starts before the IEA', { segmentIndex: seg.index, segmentTag: 'ISA' }));
      this.closeInterchange();
    }
    const header = EnvelopeValidator.header(seg, ++this.seq);
    const result: InterchangeResult = {
      header,
      groups: [],
      rejections: [],
      accepted: false,
      duplicate: ctx.duplicate,
      partnerId: ctx.partnerId,
      ta1Events: 0,
    };
    this.ic = { result, header, groupControls: new Set(), groupCount: 0, groupSeq: 0, ta1Count: 0, usable: true };
    for (const p of seg.isa!.problems) this.icError({ ...p, isa13: header.control });
    for (const p of validateIsaElements(seg, header)) this.icError(p);
    for (const p of ctx.rejections) this.icError({ ...p, isa13: header.control });
    if (ctx.duplicate) this.ic.usable = false;
  }

  private onIea(seg: Segment): void {
    if (!this.ic) {
      this.fileRejections.push(reject('GW_X12_SEGMENT_OUTSIDE_GROUP', 'IEA without ISA', { segmentIndex: seg.index, segmentTag: 'IEA' }));
      return;
    }
    this.closeSetMissing();
    this.closeGroupMissing();
    const w = this.where(seg);
    const count = seg.elements[1] ?? '';
    const control = seg.elements[2] ?? '';
    if (control !== this.ic.header.control) {
      this.icError(reject('GW_X12_IEA_CONTROL_MISMATCH', `IEA02 ${JSON.stringify(control)} != ISA13 ${JSON.stringify(this.ic.header.control)}`, { ...w, element: 2, value: control }));
    }
    if (!/^\d{1,5}$/.test(count) || +count !== this.ic.groupCount) {
      this.icError(reject('GW_X12_IEA_COUNT_MISMATCH', `IEA01 ${JSON.stringify(count)} but ${this.ic.groupCount} group(s)`, { ...w, element: 1, value: count }));
    }
    this.closeInterchange();
  }

  private onGs(seg: Segment): void {
    if (!this.ic) return this.outside(seg);
    this.closeSetMissing();
    this.closeGroupMissing();
    const e = seg.elements;
    const header: GroupHeader = {
      functionalId: e[1] ?? '',
      sender: e[2] ?? '',
      receiver: e[3] ?? '',
      date: e[4] ?? '',
      time: e[5] ?? '',
      control: e[6] ?? '',
      agency: e[7] ?? '',
      version: e[8] ?? '',
      segmentIndex: seg.index,
    };
    this.ic.groupCount++;
    const result: GroupResult = { header, sets: [], rejections: [], accepted: false };
    this.group = { seq: ++this.ic.groupSeq, result, controls: new Set(), setCount: 0 };
    this.ic.result.groups.push(result);
    const w = { ...this.where(seg), gs06: header.control };
    const bad = (element: number, why: string) =>
      result.rejections.push(reject('GW_X12_GS_INVALID', why, { ...w, element, value: e[element] ?? '' }));
    if (e.length < 9) bad(e.length, `GS has ${e.length - 1} elements, 8 expected`);
    if (!/^[A-Z]{2}$/.test(header.functionalId)) bad(1, 'GS01 is not a functional identifier code');
    if (header.sender.length < 2 || header.sender.length > 15) bad(2, 'GS02 must be 2-15 characters');
    if (header.receiver.length < 2 || header.receiver.length > 15) bad(3, 'GS03 must be 2-15 characters');
    if (!isValidDate(header.date)) bad(4, 'GS04 is not a valid date');
    else if (versionNumber(header.version) >= 4010 && header.date.length !== 8) bad(4, 'GS04 must be CCYYMMDD from version 004010 on');
    if (!isValidTime(header.time)) bad(5, 'GS05 is not a valid time');
    if (!/^\d{1,9}$/.test(header.control)) bad(6, 'GS06 must be 1-9 digits');
    if (!/^(X|T)$/.test(header.agency)) bad(7, 'GS07 must be X or T');
    if (!/^\d{6}[A-Z0-9]{0,6}$/.test(header.version)) bad(8, 'GS08 is not an X12 version/release code');
    if (this.opts.checkGroup && this.ic.usable) {
      for (const r of this.opts.checkGroup(header, this.ic.header, this.ic.result.partnerId)) result.rejections.push({ ...w, ...r });
    }
    if (this.ic.groupControls.has(header.control)) {
      result.rejections.push(reject('GW_X12_GS_CONTROL_DUPLICATE', `GS06 ${header.control}`, { ...w, element: 6 }));
    }
    this.ic.groupControls.add(header.control);
  }

  private onGe(seg: Segment): void {
    if (!this.ic) return this.outside(seg);
    this.closeSetMissing();
    const g = this.group;
    if (!g) {
      this.icError(reject('GW_X12_SEGMENT_OUTSIDE_GROUP', 'GE without GS', this.where(seg)));
      return;
    }
    const w = this.where(seg);
    const count = seg.elements[1] ?? '';
    const control = seg.elements[2] ?? '';
    if (/^\d{1,6}$/.test(count)) g.result.declaredCount = +count;
    if (control !== g.result.header.control) {
      g.result.rejections.push(reject('GW_X12_GE_CONTROL_MISMATCH', `GE02 ${JSON.stringify(control)} != GS06 ${JSON.stringify(g.result.header.control)}`, { ...w, element: 2, value: control }));
    }
    if (g.result.declaredCount !== g.setCount) {
      g.result.rejections.push(reject('GW_X12_GE_COUNT_MISMATCH', `GE01 ${JSON.stringify(count)} but ${g.setCount} set(s)`, { ...w, element: 1, value: count }));
    }
    this.closeGroup();
  }

  private onSt(seg: Segment): void {
    if (!this.ic) return this.outside(seg);
    this.closeSetMissing();
    const g = this.group;
    if (!g) {
      this.icError(reject('GW_X12_SEGMENT_OUTSIDE_GROUP', 'ST outside a functional group', this.where(seg)));
      return;
    }
    const e = seg.elements;
    const setId = e[1] ?? '';
    const control = e[2] ?? '';
    g.setCount++;
    const result: SetResult = {
      setId,
      control,
      implementation: e[3] || undefined,
      segmentIndex: seg.index,
      accepted: false,
      rejections: [],
      eventCount: 0,
    };
    const set: TransactionSet = {
      interchange: this.ic.header,
      group: g.result.header,
      setId,
      control,
      implementation: e[3] || undefined,
      segments: [seg],
    };
    const session = this.opts.openSet && this.ic.usable ? this.opts.openSet(set, this.ic.result.partnerId) : null;
    session?.feed(seg);
    this.set = { set, session, result, count: 1, tooLarge: false };
    g.result.sets.push(result);
    const w = { ...this.where(seg), st02: control, setPosition: 1 };
    if (!/^\d{3}$/.test(setId)) result.rejections.push(reject('GW_X12_ST_INVALID', 'ST01 must be a 3-digit transaction set identifier', { ...w, element: 1, value: setId }));
    if (!/^[A-Za-z0-9]{4,9}$/.test(control)) result.rejections.push(reject('GW_X12_ST_INVALID', 'ST02 must be 4-9 characters', { ...w, element: 2, value: control }));
    if (g.controls.has(control)) result.rejections.push(reject('GW_X12_ST_CONTROL_DUPLICATE', `ST02 ${control}`, { ...w, element: 2 }));
    g.controls.add(control);
    const expected = FUNCTIONAL_ID_BY_SET[setId];
    if (expected && expected !== g.result.header.functionalId) {
      result.rejections.push(
        reject('GW_X12_SET_GROUP_MISMATCH', `set ${setId} belongs in a ${expected} group, GS01 is ${g.result.header.functionalId}`, { ...w, element: 1, value: setId }),
      );
    }
  }

  private onSe(seg: Segment): void {
    if (!this.ic) return this.outside(seg);
    const s = this.set;
    if (!s) {
      this.icError(reject('GW_X12_SEGMENT_OUTSIDE_GROUP', 'SE without ST', this.where(seg)));
      return;
    }
    s.count++;
    if (!s.tooLarge) this.hold(s, seg);
    const w = { ...this.where(seg), setPosition: s.count };
    const count = seg.elements[1] ?? '';
    const control = seg.elements[2] ?? '';
    if (control !== s.set.control) {
      s.result.rejections.push(reject('GW_X12_SE_CONTROL_MISMATCH', `SE02 ${JSON.stringify(control)} != ST02 ${JSON.stringify(s.set.control)}`, { ...w, element: 2, value: control }));
    }
    if (!/^\d{1,10}$/.test(count) || +count !== s.count) {
      s.result.rejections.push(reject('GW_X12_SE_COUNT_MISMATCH', `SE01 ${JSON.stringify(count)} but ${s.count} segments`, { ...w, element: 1, value: count }));
    }
    this.closeSet();
  }

  private onOther(seg: Segment): void {
    const s = this.set;
    if (s) {
      s.count++;
      if (!SEG_TAG.test(seg.tag)) {
        s.result.rejections.push(
          reject('GW_X12_SEGMENT_TAG_INVALID', JSON.stringify(seg.tag.slice(0, 20)), { ...this.where(seg), setPosition: s.count }),
        );
      }
      if (s.count > this.maxSetSegments) {
        if (!s.tooLarge) {
          s.tooLarge = true;
          s.set.segments = [];
          s.session = null;
          s.result.rejections.push(
            reject('GW_X12_SE_COUNT_MISMATCH', `the set has more than ${this.maxSetSegments} segments; split it`, { ...this.where(seg), setPosition: s.count }),
          );
        }
        return;
      }
      this.hold(s, seg);
      return;
    }
    if (this.ic && !this.group && (seg.tag === 'TA1' || seg.tag === 'ISB' || seg.tag === 'ISE')) {
      // Allowed between ISA and GS. A TA1 is the partner's interchange acknowledgment: noted.
      if (seg.tag === 'TA1' && this.opts.mapTa1 && this.ic.usable) {
        const out = this.opts.mapTa1(seg, this.ic.header, this.ic.result.partnerId, ++this.ic.ta1Count);
        for (const r of out.rejections) this.icError({ ...this.where(seg), ...r });
        if (!out.rejections.some(isError) && out.events.length) {
          this.ic.result.ta1Events += out.events.length;
          this.actions.push({ type: 'events', interchangeSeq: this.ic.header.seq, groupSeq: 0, set: null, events: out.events });
        }
      }
      return;
    }
    this.outside(seg);
  }

  private outside(seg: Segment): void {
    if (this.ic) {
      this.icError(reject('GW_X12_SEGMENT_OUTSIDE_GROUP', `${seg.tag.slice(0, 10)} outside ${this.group ? 'a transaction set' : 'a functional group'}`, this.where(seg)));
    } else {
      this.fileRejections.push(reject('GW_X12_TRAILING_DATA', `${seg.tag.slice(0, 10)} after the last IEA`, { segmentIndex: seg.index, segmentTag: seg.tag }));
    }
  }

  private closeSetMissing(): void {
    if (!this.set) return;
    this.set.result.rejections.push(reject('GW_X12_SE_MISSING', undefined, { ...this.where(this.set.set.segments[0] ?? { index: 0, tag: 'ST' } as Segment), segmentTag: 'SE' }));
    this.closeSet();
  }

  private closeGroupMissing(): void {
    if (!this.group) return;
    this.group.result.rejections.push(reject('GW_X12_GE_MISSING', undefined, { isa13: this.ic?.header.control, gs06: this.group.result.header.control, segmentTag: 'GE' }));
    this.closeGroup();
  }

  /** A segment of the open set: to its session, or held with the set for mapSet. */
  private hold(s: OpenSet<E>, seg: Segment): void {
    if (s.session) s.session.feed(seg);
    else if (!this.opts.openSet) s.set.segments.push(seg);
  }

  private closeSet(): void {
    const s = this.set!;
    this.set = null;
    const ic = this.ic!;
    const g = this.group!;
    const envelopeOk = !s.result.rejections.some(isError) && g.result.rejections.filter(isError).length === 0;
    if (envelopeOk && ic.usable) {
      const out = s.session ? s.session.end() : this.opts.mapSet ? this.opts.mapSet(s.set, ic.result.partnerId) : { events: [], rejections: [] };
      for (const r of out.rejections) s.result.rejections.push({ isa13: ic.header.control, gs06: g.result.header.control, st02: s.set.control, ...r });
      if (!out.rejections.some(isError)) {
        s.result.accepted = true;
        s.result.eventCount = out.events.length;
        if (out.events.length) this.actions.push({ type: 'events', interchangeSeq: ic.header.seq, groupSeq: g.seq, set: s.set, events: out.events });
      }
    }
    s.set.segments = [];
  }

  private closeGroup(): void {
    const g = this.group!;
    this.group = null;
    const errs = g.result.rejections.some(isError);
    if (errs) {
      for (const s of g.result.sets) {
        if (s.accepted) {
          s.accepted = false;
          s.eventCount = 0;
        }
      }
      this.actions.push({ type: 'discard', interchangeSeq: this.ic!.header.seq, groupSeq: g.seq });
    }
    this.actions.push({ type: 'end', interchangeSeq: this.ic!.header.seq, groupSeq: g.seq });
    g.result.accepted = !errs && g.result.sets.length > 0 && g.result.sets.every((s) => s.accepted);
  }

  private closeInterchange(): void {
    const ic = this.ic!;
    this.ic = null;
    ic.result.accepted = ic.usable && !ic.result.rejections.some(isError);
    if (!ic.result.accepted) {
      ic.result.ta1Events = 0;
      for (const g of ic.result.groups) for (const s of g.sets) if (s.accepted) { s.accepted = false; s.eventCount = 0; }
      this.actions.push({ type: 'discard', interchangeSeq: ic.header.seq });
    }
    this.actions.push({ type: 'end', interchangeSeq: ic.header.seq });
    this.interchanges.push(ic.result);
  }
}

function validateIsaElements(seg: Segment, h: InterchangeHeader): Rejection[] {
  const out: Rejection[] = [];
  const e = seg.elements;
  const base = { isa13: h.control, segmentIndex: seg.index, segmentTag: 'ISA' };
  const bad = (element: number, why: string, ta1: string) => {
    const r = reject('GW_X12_ISA_ELEMENT_INVALID', `ISA${String(element).padStart(2, '0')}: ${why}`, { ...base, element, value: (e[element] ?? '').trim() });
    r.x12 = { ta1 };
    out.push(r);
  };
  if (e.length !== 17) {
    out.push(reject('GW_X12_ISA_MALFORMED', `${e.length - 1} elements`, base));
    return out;
  }
  const len = seg.isa!.length;
  if (len !== 106) out.push(reject('GW_X12_ISA_LENGTH', `${len} characters`, base));
  if (!/^(00|01|02|03|04|05|06)$/.test(e[1])) bad(1, 'authorization qualifier', '010');
  if (!/^(00|01)$/.test(e[3])) bad(3, 'security qualifier', '012');
  if (!ID_QUALIFIERS.has(e[5])) bad(5, 'sender id qualifier', '005');
  if (e[6].trim() === '') bad(6, 'sender id is empty', '006');
  if (!ID_QUALIFIERS.has(e[7])) bad(7, 'receiver id qualifier', '007');
  if (e[8].trim() === '') bad(8, 'receiver id is empty', '008');
  if (!/^\d{6}$/.test(e[9]) || !isValidDate(e[9])) bad(9, 'interchange date', '014');
  if (!/^\d{4}$/.test(e[10]) || !isValidTime(e[10])) bad(10, 'interchange time', '015');
  if (!ISA_VERSIONS.has(e[12])) bad(12, 'interchange control version number', '017');
  else if (e[12] < '00402' && e[11] !== 'U') bad(11, 'interchange control standards identifier must be U', '016');
  else if (e[12] >= '00402' && e[11] !== 'U' && /[A-Za-z0-9 ]/.test(e[11])) bad(11, 'repetition separator', '016');
  if (!CONTROL_9.test(e[13])) bad(13, 'interchange control number must be 9 digits', '018');
  if (!/^[01]$/.test(e[14])) bad(14, 'acknowledgment requested must be 0 or 1', '019');
  if (!/^[PTI]$/.test(e[15])) bad(15, 'usage indicator must be P, T or I', '020');
  return out;
}
