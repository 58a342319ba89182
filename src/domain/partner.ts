import type { AllocationRule } from './availability.ts';
import type { PublishPolicy } from './publication.ts';
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
  acks: { send997: boolean; ta1: 'on-request' | 'on-error' | 'never'; expect997WithinMinutes: number };
  defaultLocation: string;
  /** A feed not heard from for this long is stale. */
  expectFeedWithinMinutes?: number;
  allocation?: AllocationRule;
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
  all(): Partner[];
  get(id: string): Partner | undefined;
  byInterchange(qualifier: string, id: string): Partner | undefined;
}

export function partnerDirectory(us: Us, partners: Partner[]): PartnerDirectory {
  const byId = new Map(partners.map((p) => [p.id, p]));
  const byIsa = new Map(partners.map((p) => [`${p.interchange.qualifier}/${p.interchange.id}`, p]));
  return {
    us,
    all: () => [...partners],
    get: (id) => byId.get(id),
    byInterchange: (q, id) => byIsa.get(`${q.trim()}/${id.trim()}`),
  };
}
