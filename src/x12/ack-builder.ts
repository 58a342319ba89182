import { isError, type Rejection } from '../core/rejection.ts';
import type { GroupResult, InterchangeHeader, InterchangeResult, SetResult } from './envelope-types.ts';
import { X12Writer, type WriterDelimiters } from './x12-writer.ts';
import { versionNumber } from './x12-codes.ts';

/**
 * What the partner gets back for an interchange:
 * - a TA1 when ISA14=1, or when the interchange is rejected (envelope broken, unknown sender,
 *   wrong channel; a duplicate only when ISA14=1);
 * - a 997 per functional group received, never for FA groups, and none for a rejected interchange.
 */
export interface AckPlan {
  header: InterchangeHeader;
  ta1: { status: 'A' | 'E' | 'R'; note: string } | null;
  groups: GroupResult[];
  /** 999 for groups of 005010 and later (the partner's choice), else 997. */
  functionalAck?: '997' | '999';
}

export interface AckPolicy {
  send997: boolean;
  functionalAck?: '997' | '999';
  ta1: 'on-request' | 'on-error' | 'never';
}

export function planAcks(ic: InterchangeResult, policy: AckPolicy): AckPlan | null {
  const h = ic.header;
  if (!h) return null;
  const errors = ic.rejections.filter(isError);
  let ta1: AckPlan['ta1'] = null;
  if (ic.duplicate) {
    if (h.ackRequested && policy.ta1 !== 'never') ta1 = { status: 'R', note: '025' };
    return ta1 ? { header: h, ta1, groups: [] } : null;
  }
  if (errors.length) {
    if (policy.ta1 !== 'never') ta1 = { status: 'R', note: errors.find((r) => r.x12?.ta1)?.x12?.ta1 ?? '024' };
    return ta1 ? { header: h, ta1, groups: [] } : null;
  }
  if (h.ackRequested && policy.ta1 === 'on-request') ta1 = { status: 'A', note: '000' };
  const groups = policy.send997 ? ic.groups.filter((g) => g.header.functionalId !== 'FA') : [];
  if (!ta1 && !groups.length) return null;
  return { header: h, ta1, groups, functionalAck: policy.functionalAck ?? '997' };
}

export interface AckBuildInput {
  plan: AckPlan;
  delimiters: WriterDelimiters;
  isaControl: number;
  /** GS06 of the FA groups: one number each (faGroupsOf), or the first of consecutive ones. */
  gsControl: number | number[];
  /** Date and time of the acknowledgment. */
  now: Date;
  usage?: string;
}

export interface BuiltAck {
  content: string;
  isaControl: number;
  gsControl: number | null;
  /** e.g. ['TA1', '997'] */
  kinds: string[];
  /** The inbound groups acknowledged: GS01/GS06 with the AK9 code. */
  acknowledged: { functionalId: string; control: string; status: string }[];
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The version an FA group answers in: the inbound group's, or 004010 when its GS08 is not a version. */
function ackVersion(v: string): string {
  const n = versionNumber(v);
  return n >= 2001 && n <= 9999 ? v.slice(0, 6) : '004010';
}

/** The FA groups an acknowledgment needs: one per inbound group version and application ids, in order. */
export function faGroupsOf(groups: GroupResult[]): GroupResult[][] {
  const by = new Map<string, GroupResult[]>();
  for (const g of groups) {
    const k = `${ackVersion(g.header.version)}|${g.header.sender}|${g.header.receiver}`;
    by.set(k, [...(by.get(k) ?? []), g]);
  }
  return [...by.values()];
}

export function buildAck(input: AckBuildInput): BuiltAck {
  const { plan, delimiters, now } = input;
  const h = plan.header;
  const w = new X12Writer(delimiters);
  const yymmdd = `${pad2(now.getUTCFullYear() % 100)}${pad2(now.getUTCMonth() + 1)}${pad2(now.getUTCDate())}`;
  const hhmm = `${pad2(now.getUTCHours())}${pad2(now.getUTCMinutes())}`;
  const version = /^\d{5}$/.test(h.version) ? h.version : '00401';
  // The envelope's ids are echoed back (sender and receiver swapped); a character that is one of
  // our delimiters (the partner's file may use others) is left out, a qualifier that is not one is ZZ.
  const forbidden = [delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition].filter(Boolean);
  const strip = (v: string) => [...v].filter((c) => !forbidden.includes(c)).join('');
  const qualifier = (v: string) => (/^[A-Z0-9]{2}$/.test(v) ? v : 'ZZ');
  w.isa({
    senderQualifier: qualifier(h.receiverQualifier),
    senderId: strip(h.receiverId),
    receiverQualifier: qualifier(h.senderQualifier),
    receiverId: strip(h.senderId),
    date: yymmdd,
    time: hhmm,
    version,
    control: input.isaControl,
    ackRequested: false,
    usage: input.usage ?? (/^[PTI]$/.test(h.usage) ? h.usage : 'P'),
  });
  const kinds: string[] = [];
  if (plan.ta1) {
    // The interchange's own control, date and time, echoed; where they are not what the standard
    // allows (a TA1 for an unreadable ISA), ours stand in (the note code says what was wrong).
    w.segment('TA1', /^\d{9}$/.test(h.control) ? h.control : '000000000', /^\d{6}$/.test(h.date) ? h.date : yymmdd, /^\d{4}$/.test(h.time) ? h.time : hhmm, plan.ta1.status, plan.ta1.note);
    kinds.push('TA1');
  }
  const acknowledged: BuiltAck['acknowledged'] = [];
  // One FA group per inbound group's version and application ids (each answered in its own terms).
  const faGroups = faGroupsOf(plan.groups);
  const controls = Array.isArray(input.gsControl) ? input.gsControl : faGroups.map((_, i) => (input.gsControl as number) + i);
  faGroups.forEach((groups, gi) => {
    const first = groups[0].header;
    const version = ackVersion(first.version);
    const set = plan.functionalAck === '999' && versionNumber(version) >= 5010 ? '999' : '997';
    if (!kinds.includes(set)) kinds.push(set);
    w.gs({
      functionalId: 'FA',
      sender: strip(first.receiver || h.receiverId) || strip(h.receiverId) || 'UNKNOWN',
      receiver: strip(first.sender || h.senderId) || strip(h.senderId) || 'UNKNOWN',
      // GS04 is YYMMDD before 004010, CCYYMMDD from it on.
      date: versionNumber(version) < 4010 ? yymmdd : `${now.getUTCFullYear()}${pad2(now.getUTCMonth() + 1)}${pad2(now.getUTCDate())}`,
      time: hhmm,
      control: controls[gi] ?? controls[controls.length - 1] + gi,
      version,
    });
    groups.forEach((g, i) => {
      const status = write997(w, g, String(i + 1).padStart(4, '0'), delimiters, set);
      acknowledged.push({ functionalId: g.header.functionalId, control: g.header.control, status });
    });
    w.ge();
  });
  w.iea();
  return { content: w.toString(), isaControl: input.isaControl, gsControl: faGroups.length ? controls[0] : null, kinds, acknowledged };
}

const safe = (v: string | undefined, d: WriterDelimiters): string | undefined => {
  if (v === undefined) return undefined;
  const chars = [d.element, d.component, d.segment, d.repetition].filter(Boolean);
  // Nor control characters, which no AN element may carry.
  return chars.some((c) => v.includes(c)) || /[\u0000-\u001f\u007f]/.test(v) ? undefined : v.slice(0, 99);
};

function setErrors(s: SetResult): Rejection[] {
  return s.rejections.filter(isError);
}

/**
 * One 997, or one 999 (005010: the same loops with IK3/IK4/IK5 for AK3/AK4/AK5, ST03 naming the
 * 999 implementation guide, 005010X231).
 */
function write997(w: X12Writer, g: GroupResult, control: string, d: WriterDelimiters, set: '997' | '999' = '997'): string {
  const v5010 = versionNumber(ackVersion(g.header.version)) >= 5010;
  const is999 = set === '999';
  w.st(set, control, is999 ? '005010X231' : undefined);
  // Values echoed from the partner's envelope never carry our delimiters (its file may use others)
  // and fit the element they are echoed into (AK102 N0 1/9, AK201 ID 3/3, AK202 AN 4/9).
  const echo = (v: string, fallback: string) => safe(v, d) ?? fallback;
  const gs06 = /^\d{1,9}$/.test(g.header.control) ? g.header.control : /^\d+$/.test(g.header.control) ? g.header.control.slice(-9) : '0';
  w.segment('AK1', echo(g.header.functionalId, 'FA').slice(0, 2), gs06, v5010 ? safe(g.header.version, d)?.slice(0, 12) : undefined);
  const groupErrors = g.rejections.filter(isError);
  let accepted = 0;
  // A group rejected as a whole (its GE, its control numbers) rejects every set in it: the AK9 says
  // so and why, with no AK2 loops that would call its sets accepted.
  for (const s of groupErrors.length ? [] : g.sets) {
    const st02 = echo(s.control, '0000').slice(0, 9).padStart(4, '0');
    w.segment('AK2', echo(s.setId, '000').slice(0, 3), st02, v5010 ? safe(s.implementation, d)?.slice(0, 35) : undefined);
    const errs = setErrors(s);
    // AK3/AK4: one AK3 per segment in error, its AK4s beneath.
    // One AK3 per segment and position (a missing segment is reported at the position where it
    // was due, which another segment's own error may share).
    const bySegment = new Map<string, { pos: number; rs: Rejection[] }>();
    for (const r of errs) {
      if (r.x12?.ak3 && r.setPosition) {
        const k = `${r.setPosition}:${r.segmentTag ?? ''}:${r.x12.ak4 ? '8' : r.x12.ak3}`;
        const e = bySegment.get(k) ?? { pos: r.setPosition, rs: [] };
        e.rs.push(r);
        bySegment.set(k, e);
      }
    }
    for (const { pos, rs } of [...bySegment.values()].sort((a, b) => a.pos - b.pos)) {
      const withAk4 = rs.filter((r) => r.x12?.ak4 && r.element);
      const ak3 = withAk4.length ? '8' : rs[0].x12!.ak3!;
      // AK301 is the segment id as it came, without padding (ZZZ where nothing of it is an id).
      const tag = (rs[0].segmentTag ?? '').replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 3);
      w.segment(is999 ? 'IK3' : 'AK3', tag.length >= 2 ? tag : 'ZZZ', String(pos), undefined, ak3);
      for (const r of withAk4.slice(0, 99)) {
        w.segment(is999 ? 'IK4' : 'AK4', r.component ? [String(r.element), String(r.component)] : String(r.element), undefined, r.x12!.ak4!, safe(r.value, d));
      }
    }
    const ok = errs.length === 0;
    if (ok && !groupErrors.length) accepted++;
    if (ok) w.segment(is999 ? 'IK5' : 'AK5', 'A');
    else {
      const codes = [...new Set(errs.map((r) => r.x12?.ak5 ?? '5'))].slice(0, 5);
      w.segment(is999 ? 'IK5' : 'AK5', 'R', ...codes);
    }
  }
  const received = g.sets.length;
  let status: string;
  if (groupErrors.length) status = 'R';
  else if (received === 0 || accepted === 0) status = 'R';
  else if (accepted < received) status = 'P';
  else status = 'A';
  const ak9codes = [...new Set(groupErrors.map((r) => r.x12?.ak9).filter((c): c is string => !!c))].slice(0, 5);
  w.segment('AK9', status, String(g.declaredCount ?? received), String(received), String(accepted), ...ak9codes);
  w.se();
  return status;
}
