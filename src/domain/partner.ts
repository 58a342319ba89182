import type { AllocationRule } from './availability.ts';
import type { PublishPolicy } from './publication.ts';
import { emptyItemMaster, type ItemMaster } from './units.ts';
/** A trading partner as the pure layers see it (loaded and validated by config). */
export interface X12Envelope {
  isaVersion: string;
  gsVersion: string;
  usage: 'P' | 'T' | 'I';
  separators: { element: string; component: string; segment: string; repetition: string };
  /** Written after each segment terminator (e.g. "\n"); "" for none. */
  segmentSuffix: string;
}

export interface Partner {
  id: string;
  name: string;
  interchange: { qualifier: string; id: string };
  /** GS02 when they send to us, GS03 when we send to them. */
  gsId: string;
  sends: string[];
  receives: string[];
  x12: X12Envelope;
  acks: { send997: boolean; functionalAck?: '997' | '999'; ta1: 'on-request' | 'on-error' | 'never'; expect997WithinMinutes: number };
  /** Where its inventory lines are when they name no location (a warehouse partner). */
  defaultLocation?: string;
  /** A 3PL's shipments that name no customer ship this partner's POs. */
  shipmentCustomer?: string;
  /** Its warehouse codes -> our locations (our own location codes are accepted as they are). */
  locations: Record<string, string>;
  /** A PO line for an item nobody knows: backordered with its reason, or rejected. */
  unknownItems: 'backorder' | 'reject';
  /** What a warehouse could not ship of this partner's PO lines: backordered (default) or cancelled on the line. */
  shortShipments?: 'backorder' | 'cancel';
  /** A feed not heard from for this long is stale. */
  expectFeedWithinMinutes?: number;
  allocation?: AllocationRule;
  /** A warehouse: 940 shipping orders we send it for lines committed at its locations. */
  orders940?: { send: 'never' | 'at-once' | 'waves'; waveEveryMinutes: number; availableNetOfReleased: boolean; idQualifiers: string[]; payment: string; transport: string; carrier?: string };
  /** 855 PO acknowledgments we send it. */
  ack855?: { send: 'never' | 'always' | 'on-change'; withinMinutes: number };
  asn856?: { structure: 'SOPI' | 'SOTPI'; gs1CompanyPrefix: string; allowOverShipment: boolean; idQualifiers: string[] };
  publish846?: PublishPolicy;
}

export interface Us {
  qualifier: string;
  id: string;
  gsId: string;
}

export interface PartnerDirectory {
  us: Us;
  /** Our locations (warehouses): nothing else ever holds stock. */
  locations: ReadonlySet<string>;
  /** Base units, conversions and kits per item. */
  items: ItemMaster;
  all(): Partner[];
  get(id: string): Partner | undefined;
  byInterchange(qualifier: string, id: string): Partner | undefined;
}

export function partnerDirectory(us: Us, partners: Partner[], setup: { locations?: Iterable<string>; items?: ItemMaster } = {}): PartnerDirectory {
  const byId = new Map(partners.map((p) => [p.id, p]));
  const byIsa = new Map(partners.map((p) => [`${p.interchange.qualifier}/${p.interchange.id}`, p]));
  const locations = new Set(setup.locations ?? []);
  for (const p of partners) {
    for (const l of Object.values(p.locations)) locations.add(l);
    if (p.defaultLocation) locations.add(p.defaultLocation);
  }
  return {
    us,
    locations,
    items: setup.items ?? emptyItemMaster(),
    all: () => [...partners],
    get: (id) => byId.get(id),
    byInterchange: (q, id) => byIsa.get(`${q.trim()}/${id.trim()}`),
  };
}

/**
 * A partner's location code -> our location: its map first, then our own codes as they are.
 * null: unknown (a coded rejection, never a new location).
 */
export function resolveLocation(dir: PartnerDirectory, partner: Partner, code: string): string | null {
  const c = code.trim();
  const mapped = partner.locations[c];
  if (mapped) return mapped;
  return dir.locations.has(c) ? c : null;
}
