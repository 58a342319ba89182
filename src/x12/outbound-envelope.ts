import type { X12Envelope } from '../domain/partner.ts';
import { X12Writer } from './x12-writer.ts';

/** What every document we send starts with: the partner's envelope, our ids, its ids, control numbers. */
export interface OutboundEnvelope {
  envelope: X12Envelope;
  sender: { qualifier: string; id: string; gsId: string };
  receiver: { qualifier: string; id: string; gsId: string };
  isaControl: number;
  gsControl: number;
  now: Date;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A writer with ISA and GS written; returns it with the CCYYMMDD date and HHMM time used. */
export function openInterchange(o: OutboundEnvelope, functionalId: string): { w: X12Writer; ymd: string; hm: string } {
  const w = new X12Writer({ ...o.envelope.separators, suffix: o.envelope.segmentSuffix });
  const ymd = `${o.now.getUTCFullYear()}${pad2(o.now.getUTCMonth() + 1)}${pad2(o.now.getUTCDate())}`;
  const hm = `${pad2(o.now.getUTCHours())}${pad2(o.now.getUTCMinutes())}`;
  w.isa({
    senderQualifier: o.sender.qualifier,
    senderId: o.sender.id,
    receiverQualifier: o.receiver.qualifier,
    receiverId: o.receiver.id,
    date: ymd.slice(2),
    time: hm,
    version: o.envelope.isaVersion,
    control: o.isaControl,
    ackRequested: false,
    usage: o.envelope.usage,
  });
  w.gs({ functionalId, sender: o.sender.gsId, receiver: o.receiver.gsId, date: ymd, time: hm, control: o.gsControl, version: o.envelope.gsVersion });
  return { w, ymd, hm };
}
