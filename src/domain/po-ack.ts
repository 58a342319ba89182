/**
 * A PO acknowledgment (855) as the promise engine answers a purchase order: per line, what is
 * accepted (IA: committed or already shipped), backordered (IB, with the date stock in transit is
 * expected where it covers the rest), changed (IQ: the line's quantity is no longer what the PO
 * first asked) or rejected (IR: an item or unit we cannot take); for the whole PO, accepted
 * without change (AD), with changes (AC) or rejected (RD). Quantities in the PO line's unit.
 */
export type LineAckStatus = 'IA' | 'IB' | 'IQ' | 'IR';

export interface PoAckLineInput {
  lineNumber: string;
  /** The PO's own ids for the line (qualifier -> id), echoed in PO1. */
  ids: Record<string, string>;
  /** As the PO first asked, in its unit. */
  asked: string;
  uom: string;
  unitPrice?: string;
  priceBasis?: string;
  /** The line now (null quantities: the line could not be taken: rejected). */
  rejected: boolean;
  ordered: string | null;
  accepted: string | null;
  backordered: string | null;
  /** When the backordered quantity is expected (stock in transit covers it), YYYY-MM-DD. */
  expected?: string | null;
}

export interface PoAckLine {
  lineNumber: string;
  ids: [string, string][];
  quantity: string;
  uom: string;
  unitPrice?: string;
  priceBasis?: string;
  acks: { status: LineAckStatus; quantity: string; uom: string; date?: string }[];
}

export interface PoAck {
  purpose: '00' | '05';
  type: 'AD' | 'AC' | 'RD';
  poNumber: string;
  poDate?: string;
  orderId: string;
  ackDate: string;
  lines: PoAckLine[];
}

const positive = (q: string | null | undefined): q is string => !!q && Number(q) > 0;

export function planPoAckLine(l: PoAckLineInput): PoAckLine {
  const base = { lineNumber: l.lineNumber, ids: Object.entries(l.ids), quantity: l.asked, uom: l.uom, unitPrice: l.unitPrice, priceBasis: l.priceBasis };
  if (l.rejected || l.ordered === null) return { ...base, acks: [{ status: 'IR', quantity: l.asked, uom: l.uom }] };
  const acks: PoAckLine['acks'] = [];
  const changed = Number(l.ordered) !== Number(l.asked);
  if (positive(l.accepted)) acks.push({ status: changed ? 'IQ' : 'IA', quantity: l.accepted, uom: l.uom });
  if (positive(l.backordered)) acks.push({ status: 'IB', quantity: l.backordered, uom: l.uom, ...(l.expected ? { date: l.expected } : {}) });
  // Nothing accepted nor backordered: the line's quantity went to zero (cancelled or changed away).
  if (!acks.length) acks.push({ status: 'IQ', quantity: l.ordered, uom: l.uom });
  return { ...base, acks };
}

export function planPoAck(o: { purpose: '00' | '05'; poNumber: string; poDate?: string; orderId: string; ackDate: string; lines: PoAckLineInput[] }): PoAck {
  const lines = o.lines.map(planPoAckLine);
  const statuses = lines.flatMap((l) => l.acks.map((a) => a.status));
  const type = statuses.length && statuses.every((s) => s === 'IR') ? 'RD' : statuses.every((s) => s === 'IA') ? 'AD' : 'AC';
  return { purpose: o.purpose, type, poNumber: o.poNumber, poDate: o.poDate, orderId: o.orderId, ackDate: o.ackDate, lines };
}
