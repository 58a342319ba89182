import { isError, reject, type Rejection } from '../core/rejection.ts';
import { buildEvent, type CanonicalEvent, type EventType } from '../domain/events.ts';
import { resolveEventLocations, unknownLocationDetail } from '../domain/locations.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import { HasMatcher, runXmlMapping, streamPlan, XmlStreamMapper, type CompiledXmlMapping } from '../mapping/xml-mapping.ts';
import { DEFAULT_XML_LIMITS, type XmlLimits } from '../xml/read-xml.ts';
import { streamXml, type XmlSource } from '../xml/stream-xml.ts';

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

export function translateXml(data: XmlSource, o: XmlTranslateOptions): XmlTranslateResult {
  const repeats = o.mappings.xmlRepeats();
  const repeat = (name: string) => repeats.has(name);
  const limits = o.limits ?? DEFAULT_XML_LIMITS;
  const partnerId = o.channelPartnerId ?? null;
  const noMapping = (root: string | null): XmlTranslateResult => ({ events: [], rejections: [reject('GW_XML_NO_MAPPING', `root element <${root ?? '?'}>${partnerId ? ` on ${partnerId}'s channel` : ''}`)], mappingId: null });

  // 1. Which mapping takes it (as getXml decides: the first whose root and `has` path match), read
  //    as it streams, up to where that is known (for most documents: the root element).
  let root: string | null = null;
  let candidates: CompiledXmlMapping[] = [];
  let matchers: (HasMatcher | null)[] = [];
  let wholeTree = false;
  const chosen = (final: boolean): CompiledXmlMapping | null | undefined => {
    for (let i = 0; i < candidates.length; i++) {
      if (!matchers[i] || matchers[i]!.found) return candidates[i];
      if (!final) return undefined;
    }
    return null;
  };
  const probe = streamXml(data, limits, repeat, {
    open(path, attrs) {
      if (path.length === 1) {
        root = path[0];
        candidates = o.mappings.xmlCandidates(partnerId, root);
        matchers = candidates.map((c) => (c.has ? new HasMatcher(c.has) : null));
        // A `has` path with a condition on a child's text is only known from the whole tree.
        wholeTree = candidates.some((c) => c.has?.steps.some((s) => s.cond?.child));
        if (!candidates.length || wholeTree) return 'stop';
      }
      for (const m of matchers) m?.open(path, attrs);
      return chosen(false) !== undefined ? 'stop' : undefined;
    },
  });
  if (probe.rejections.length) return { events: [], rejections: probe.rejections, mappingId: null };
  let mapping: CompiledXmlMapping | null | undefined;
  let mapped: { data: Record<string, unknown>; rejections: Rejection[] };
  if (wholeTree) {
    const { doc, rejections } = streamXml(data, limits, repeat);
    if (!doc) return { events: [], rejections, mappingId: null };
    mapping = o.mappings.getXml(partnerId, doc);
    if (!mapping) return noMapping(root);
    mapped = runXmlMapping(mapping, doc, o.mappings.crosswalk(partnerId));
  } else {
    mapping = chosen(true);
    if (!mapping) return noMapping(root);
    // 2. Mapped as it streams where the mapping allows (records mapped and dropped as each
    //    closes: bounded memory whatever the length); otherwise from the whole tree.
    const plan = streamPlan(mapping);
    const mapper = plan ? new XmlStreamMapper(mapping, plan, o.mappings.crosswalk(partnerId)) : null;
    const { doc, rejections } = streamXml(data, limits, repeat, mapper ?? {});
    if (!doc) return { events: [], rejections, mappingId: null };
    mapped = mapper ? mapper.finish(doc) : runXmlMapping(mapping, doc, o.mappings.crosswalk(partnerId));
  }
  if (mapped.rejections.some(isError)) return { events: [], rejections: mapped.rejections, mappingId: mapping.id };
  const partner = partnerId ? o.partners.get(partnerId) : undefined;
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
