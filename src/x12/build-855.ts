import type { PoAck } from '../domain/po-ack.ts';
import { openInterchange, type OutboundEnvelope } from './outbound-envelope.ts';

/**
 * Outbound 855 for one PO: BAK (purpose 00, or 05 for a revision; AD/AC/RD; the PO number and
 * date; our order id; the acknowledgment date), per line PO1 (the line as the PO asked, with the
 * PO's own ids) and its ACKs (status, quantity, unit; 068 and the date for a backorder whose stock
 * is in transit), CTT with the number of PO1 segments.
 */
export function build855(ack: PoAck, o: OutboundEnvelope): string {
  const { w } = openInterchange(o, 'PR');
  w.st('855', '0001');
  const ymd = (d?: string) => d?.replace(/-/g, '');
  w.segment('BAK', ack.purpose, ack.type, ack.poNumber, ymd(ack.poDate), undefined, undefined, undefined, ack.orderId, ymd(ack.ackDate));
  for (const l of ack.lines) {
    w.segment('PO1', l.lineNumber, l.quantity, l.uom, l.unitPrice, l.unitPrice ? l.priceBasis : undefined, ...l.ids.flat());
    for (const a of l.acks) w.segment('ACK', a.status, a.quantity, a.uom, a.date ? '068' : undefined, ymd(a.date));
  }
  w.segment('CTT', String(ack.lines.length));
  w.se();
  w.ge();
  w.iea();
  return w.toString();
}
