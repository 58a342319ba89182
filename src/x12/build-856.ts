import type { Asn } from '../domain/asn.ts';
import { openInterchange, type OutboundEnvelope } from './outbound-envelope.ts';

/**
 * Outbound 856 for one PO: BSN, DTM, HL S (TD1, TD5, REF BM/CN, N1 SF/ST), HL O (PRF), [HL T
 * (MAN GM)], HL P (MAN GM) per pack, HL I (LIN with the retailer's own item id, SN1) per item,
 * CTT with the number of HL segments. HL01 sequential, HL02 the parent's HL01.
 */
export type Build856Options = OutboundEnvelope;

export function build856(asn: Asn, o: Build856Options): string {
  const { w, ymd, hm } = openInterchange(o, 'SH');
  w.st('856', '0001');
  const shipDate = asn.shipDate.replace(/-/g, '');
  w.segment('BSN', '00', asn.shipmentId, shipDate, hm, '0001');
  w.segment('DTM', '011', shipDate);
  let hl = 0;
  const next = (parent: number | null, level: string) => {
    hl++;
    w.segment('HL', String(hl), parent === null ? '' : String(parent), level);
    return hl;
  };
  const s = next(null, 'S');
  w.segment('TD1', 'CTN25', String(asn.packs.length), undefined, undefined, undefined, asn.weight ? 'G' : undefined, asn.weight, asn.weight ? 'LB' : undefined);
  if (asn.carrier) w.segment('TD5', undefined, '2', asn.carrier);
  if (asn.billOfLading) w.segment('REF', 'BM', asn.billOfLading);
  if (asn.tracking) w.segment('REF', 'CN', asn.tracking);
  w.segment('N1', 'SF', asn.shipFrom.name, '92', asn.shipFrom.id);
  w.segment('N1', 'ST', asn.shipTo.name, asn.shipTo.qualifier, asn.shipTo.id);
  const order = next(s, 'O');
  w.segment('PRF', asn.poNumber, undefined, undefined, asn.poDate?.replace(/-/g, ''));
  let packParent = order;
  if (asn.structure === 'SOTPI') {
    packParent = next(order, 'T');
    if (asn.tareSscc) w.segment('MAN', 'GM', asn.tareSscc);
  }
  for (const p of asn.packs) {
    const pack = next(packParent, 'P');
    w.segment('MAN', 'GM', p.sscc);
    for (const it of p.items) {
      next(pack, 'I');
      w.segment('LIN', it.lineNumber, it.qualifier, it.id);
      w.segment('SN1', undefined, it.quantity, it.uom);
    }
  }
  w.segment('CTT', String(hl));
  w.se();
  w.ge();
  w.iea();
  return w.toString();
}
