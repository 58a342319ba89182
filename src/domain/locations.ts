import { resolveLocation, type Partner, type PartnerDirectory } from './partner.ts';

/**
 * Partner warehouse codes -> our locations, in a mapped event (design.md section 5): inventory
 * lines' `location`, a 3PL shipment's ship-from, a supplier ASN's ship-to. The partner's code is
 * kept beside ours (`locationCode`) when they differ. An unknown code is returned, never created.
 */
type Obj = Record<string, unknown>;

export interface UnknownLocation {
  code: string;
  /** Where it was: "lines[3].location", "from.id". */
  field: string;
}

export function resolveEventLocations(type: string, data: Obj, partner: Partner, dir: PartnerDirectory): UnknownLocation[] {
  const unknown: UnknownLocation[] = [];
  const map = (code: unknown, field: string): string | undefined => {
    if (typeof code !== 'string' || !code.trim()) return undefined;
    const ours = resolveLocation(dir, partner, code);
    if (!ours) unknown.push({ code: code.trim(), field });
    return ours ?? undefined;
  };
  if (type === 'inventory.snapshot' || type === 'inventory.adjusted' || type === 'stock.received') {
    ((data.lines as Obj[] | undefined) ?? []).forEach((l, i) => {
      if (l.location === undefined) return;
      const ours = map(l.location, `lines[${i}].location`);
      if (ours && ours !== l.location) {
        l.locationCode = l.location;
        l.location = ours;
      }
    });
  } else if (type === 'shipment.confirmed' || type === 'shipment.noticed') {
    // A 3PL ships from its warehouse; a supplier ships to ours.
    const side = (type === 'shipment.confirmed' ? data.from : data.to) as Obj | undefined;
    if (side && side.id !== undefined) {
      const ours = map(side.id, `${type === 'shipment.confirmed' ? 'from' : 'to'}.id`);
      if (ours) side.location = ours;
    }
  }
  return unknown;
}

/** The detail of a GW_LOCATION_UNKNOWN rejection. */
export function unknownLocationDetail(u: UnknownLocation, partner: Partner): string {
  return `${JSON.stringify(u.code)} (${u.field}) is not in ${partner.id}'s location map nor one of our locations`;
}
