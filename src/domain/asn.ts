import { gs1CheckDigit, normaliseSscc } from '../x12/sscc.ts';
import { fromUnits, toUnits } from './quantity.ts';

/**
 * An outbound ASN (856) for one retailer PO, and the pre-flight checks that keep a wrong one out
 * of the outbox: items on the PO, no over-shipment unless allowed, every pack with a valid and
 * unique SSCC-18 and at least one item, quantities positive.
 */
export interface AsnItem {
  lineNumber: string;
  qualifier: string;
  id: string;
  /** Decimal text. */
  quantity: string;
  uom: string;
}

export interface AsnPack {
  sscc: string;
  items: AsnItem[];
}

export interface Asn {
  shipmentId: string;
  shipDate: string; // YYYY-MM-DD
  carrier?: string;
  tracking?: string;
  billOfLading?: string;
  weight?: string;
  shipFrom: { id: string; name?: string };
  shipTo: { id: string; qualifier: string; name?: string };
  poNumber: string;
  poDate?: string;
  structure: 'SOPI' | 'SOTPI';
  /** SOTPI: the pallet's SSCC above the packs. */
  tareSscc?: string;
  packs: AsnPack[];
}

export interface PoLine {
  lineNumber: string;
  ids: Record<string, string>;
  ordered: string;
  shippedBefore: string;
  uom: string;
}

export interface AsnProblem {
  code: 'GW_ASN_ITEM_NOT_ON_PO' | 'GW_ASN_OVER_SHIPMENT' | 'GW_ASN_SSCC_INVALID' | 'GW_ASN_SSCC_REUSED' | 'GW_ASN_EMPTY_PACK' | 'GW_ASN_QUANTITY_INVALID' | 'GW_ASN_VALUE_HAS_DELIMITER';
  message: string;
}

/** An SSCC-18: extension digit, GS1 company prefix, serial, check digit. */
export function makeSscc(companyPrefix: string, serial: number, extension = '0'): string {
  const body = `${extension}${companyPrefix}${String(serial).padStart(16 - companyPrefix.length, '0')}`;
  if (!/^\d{17}$/.test(body)) throw new Error(`company prefix ${companyPrefix} and serial ${serial} do not make an SSCC-18`);
  return body + gs1CheckDigit(body);
}

/**
 * Values of the ASN that contain one of the delimiters of the envelope it goes out in (a 3PL's
 * tracking number with a "*"): the 856 cannot carry them as they are.
 */
export function delimiterProblems(asn: Asn, delimiters: string[]): AsnProblem[] {
  const values: [string, string | undefined][] = [
    ['shipment id', asn.shipmentId],
    ['carrier', asn.carrier],
    ['tracking', asn.tracking],
    ['bill of lading', asn.billOfLading],
    ['weight', asn.weight],
    ['ship-from', asn.shipFrom.id],
    ['ship-from name', asn.shipFrom.name],
    ['ship-to', asn.shipTo.id],
    ['ship-to name', asn.shipTo.name],
    ['PO number', asn.poNumber],
    ...asn.packs.flatMap((p) => [['SSCC', p.sscc] as [string, string | undefined], ...p.items.flatMap((it) => [[`line ${it.lineNumber} item id`, it.id], [`line ${it.lineNumber} unit`, it.uom]] as [string, string | undefined][])]),
  ];
  const problems: AsnProblem[] = [];
  for (const [what, v] of values) {
    const c = v === undefined ? undefined : delimiters.find((d) => d && v.includes(d));
    if (c) problems.push({ code: 'GW_ASN_VALUE_HAS_DELIMITER', message: `${what} ${JSON.stringify(v)} contains ${JSON.stringify(c)}, a delimiter of the partner's envelope` });
  }
  return problems;
}

export function checkAsn(asn: Asn, po: PoLine[], opts: { allowOverShipment: boolean; usedSsccs: Set<string> }): AsnProblem[] {
  const problems: AsnProblem[] = [];
  const seen = new Set<string>();
  const shipped = new Map<string, number>();
  for (const sscc of [asn.tareSscc, ...asn.packs.map((p) => p.sscc)].filter((s): s is string => !!s)) {
    if (!normaliseSscc(sscc)) problems.push({ code: 'GW_ASN_SSCC_INVALID', message: `SSCC ${sscc} is not 18 digits with a correct check digit` });
    else if (seen.has(sscc) || opts.usedSsccs.has(sscc)) problems.push({ code: 'GW_ASN_SSCC_REUSED', message: `SSCC ${sscc} was already used` });
    seen.add(sscc);
  }
  for (const pack of asn.packs) {
    if (!pack.items.length) problems.push({ code: 'GW_ASN_EMPTY_PACK', message: `pack ${pack.sscc} has no items` });
    for (const it of pack.items) {
      const q = toUnits(it.quantity);
      if (q === null || q <= 0) problems.push({ code: 'GW_ASN_QUANTITY_INVALID', message: `line ${it.lineNumber}: quantity ${it.quantity}` });
      const line = po.find((l) => l.lineNumber === it.lineNumber);
      if (!line) {
        problems.push({ code: 'GW_ASN_ITEM_NOT_ON_PO', message: `line ${it.lineNumber} (${it.qualifier} ${it.id}) is not on PO ${asn.poNumber}` });
        continue;
      }
      shipped.set(line.lineNumber, (shipped.get(line.lineNumber) ?? 0) + (q ?? 0));
    }
  }
  if (!opts.allowOverShipment) {
    for (const l of po) {
      const now = shipped.get(l.lineNumber) ?? 0;
      const total = now + (toUnits(l.shippedBefore) ?? 0);
      if (now && total > (toUnits(l.ordered) ?? 0)) {
        problems.push({ code: 'GW_ASN_OVER_SHIPMENT', message: `PO ${asn.poNumber} line ${l.lineNumber}: ${fromUnits(total)} shipped of ${l.ordered} ordered` });
      }
    }
  }
  return problems;
}
