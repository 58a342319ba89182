import { openInterchange, type OutboundEnvelope } from './outbound-envelope.ts';

/** A warehouse shipping order: what of one PO a warehouse is told to ship from one location. */
export interface WarehouseOrder {
  /** W0501 (order status code 473): N original, R change (every line as it is to be now), F cancel. */
  status: 'N' | 'R' | 'F';
  /** W0502: the depositor order number (ours: the PO number, then PO-2... for later orders of it; the 945 gives it back). */
  depositorOrder: string;
  poNumber: string;
  shipTo: { qualifier: string; id: string; name?: string };
  shipFrom: { id: string; name?: string };
  shipDate?: string;
  payment: string;
  transport: string;
  carrier?: string;
  lines: { lineNumber: string; quantity: string; uom: string; upc?: string; qualifier: string; id: string }[];
}

/**
 * Outbound 940 for one PO at one warehouse: W05 (status N/R/F, our order number and the PO), N1 ship-to (as the PO gave it) and ship-from (the warehouse's own code), G62*10 the
 * requested ship date, W66 payment, transport and carrier, per line LX, W01 (quantity, unit, UPC,
 * the warehouse's own item id) and N9*LI (the PO line, which its 945 gives back), W76 the total.
 */
export function build940(o: WarehouseOrder, env: OutboundEnvelope): string {
  const { w } = openInterchange(env, 'OW');
  w.st('940', '0001');
  w.segment('W05', o.status, o.depositorOrder, o.poNumber);
  w.segment('N1', 'ST', o.shipTo.name, o.shipTo.qualifier, o.shipTo.id);
  w.segment('N1', 'SF', o.shipFrom.name, '92', o.shipFrom.id);
  if (o.shipDate) w.segment('G62', '10', o.shipDate.replace(/-/g, ''));
  w.segment('W66', o.payment, o.transport, undefined, undefined, undefined, undefined, undefined, undefined, undefined, o.carrier);
  let total = 0;
  for (const [i, l] of o.lines.entries()) {
    w.segment('LX', String(i + 1));
    w.segment('W01', l.quantity, l.uom, l.upc, l.qualifier, l.id);
    w.segment('N9', 'LI', l.lineNumber);
    total += Number(l.quantity);
  }
  w.segment('W76', String(Math.round(total * 10_000) / 10_000));
  w.se();
  w.ge();
  w.iea();
  return w.toString();
}
