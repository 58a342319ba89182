import { isError, reject, type Rejection } from '../core/rejection.ts';
import { buildEvent, type CanonicalEvent, type EventType } from '../domain/events.ts';
import { resolveEventLocations, unknownLocationDetail } from '../domain/locations.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { runXmlMapping } from '../mapping/xml-mapping.ts';
import { readXml, type XmlLimits } from '../xml/read-xml.ts';

/**
 * An XML feed (3PL shipment confirmations, WMS inventory snapshots, cXML): safe reading, the first
 * XML mapping config that matches (the partner's, then shared), one canonical event. XML carries
 * no envelope, so the partner is the channel's; the idempotency key is the document's sha256.
 */
export interface XmlTranslateOptions {
  partners: PartnerDirectory;
  mappings: MappingRegistry;
  channelPartnerId?: string;
  documentId: string;
  sha256: string;
  correlationId: string;
  receivedAt: string;
  limits?: XmlLimits;
}

export interface XmlTranslateResult {
  events: CanonicalEvent[];
  rejections: Rejection[];
  mappingId: string | null;
}

export function translateXml(data: Buffer, o: XmlTranslateOptions): XmlTranslateResult {
  const repeats = o.mappings.xmlRepeats();
  const { doc, rejections } = readXml(data, o.limits, (name) => repeats.has(name));
  if (!doc) return { events: [], rejections, mappingId: null };
  const partnerId = o.channelPartnerId ?? null;
  const mapping = o.mappings.getXml(partnerId, doc);
  if (!mapping) {
    const root = Object.keys(doc).find((k) => !k.startsWith('?'));
    return { events: [], rejections: [reject('GW_XML_NO_MAPPING', `root element <${root ?? '?'}>${partnerId ? ` on ${partnerId}'s channel` : ''}`)], mappingId: null };
  }
  const partner = partnerId ? o.partners.get(partnerId) : undefined;
  const mapped = runXmlMapping(mapping, doc, o.mappings.crosswalk(partnerId));
  if (mapped.rejections.some(isError)) return { events: [], rejections: mapped.rejections, mappingId: mapping.id };
  const partnerKey = partnerId ?? 'unknown';
  const event = buildEvent(
    mapping.event as EventType,
    mapped.data,
    { documentId: o.documentId, setId: `xml:${mapping.id}` },
    {
      partner: partnerKey,
      documentId: o.documentId,
      correlationId: o.correlationId,
      occurredAt: o.receivedAt,
      defaultLocation: partner?.defaultLocation,
      // XML has no control numbers: the document's content is its identity.
      idempotencyKey: `${partnerKey}:xml:${o.sha256}`,
    },
  );
  if (partner) {
    const unknown = resolveEventLocations(event.type, event.data, partner, o.partners);
    if (unknown.length) {
      const r = unknown.map((u) => reject('GW_LOCATION_UNKNOWN', unknownLocationDetail(u, partner), { value: u.code }));
      return { events: [], rejections: [...mapped.rejections, ...r], mappingId: mapping.id };
    }
  }
  return { events: [event], rejections: mapped.rejections, mappingId: mapping.id };
}
