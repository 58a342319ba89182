import type { CanonicalEvent } from '../domain/events.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { MappingRegistry } from '../mapping/registry.ts';
import type { DocumentRow } from '../store/document-repository.ts';
import type { RawStore } from '../store/raw-store.ts';
import { isError } from '../core/rejection.ts';
import { detectFormatOf } from './detect-format.ts';
import { MemorySink } from './memory-sink.ts';
import { allRejections, translateX12 } from './translate-x12.ts';
import { translateXml } from './translate-xml.ts';

/**
 * A mapping dry run: stored documents translated with the active mappings and with a draft, in
 * memory (nothing is stored or sent), and the difference in canonical events: events only one side
 * produces, and for the others every changed field with its value before and after.
 */
export interface EventDiff {
  documentId: number;
  filename: string;
  active: { events: number; errors: string[] };
  draft: { events: number; errors: string[] };
  added: { key: string; type: string }[];
  removed: { key: string; type: string }[];
  changed: { key: string; type: string; fields: { path: string; active: unknown; draft: unknown }[] }[];
}

async function translate(doc: DocumentRow, raw: RawStore, partners: PartnerDirectory, mappings: MappingRegistry): Promise<{ events: CanonicalEvent[]; errors: string[] }> {
  const bytes = await raw.readAll(doc.raw_path);
  const common = { partners, mappings, channelPartnerId: doc.partner_id ?? undefined, documentId: String(doc.id), correlationId: doc.correlation_id, receivedAt: doc.received_at };
  if (detectFormatOf(bytes.subarray(0, 512)) === 'xml') {
    const x = translateXml(bytes, { ...common, sha256: doc.sha256 });
    return { events: x.events, errors: x.rejections.filter(isError).map((r) => r.code) };
  }
  const sink = new MemorySink();
  const r = await translateX12([bytes], { ...common, sink });
  return { events: sink.all(), errors: allRejections(r).filter(isError).map((e) => e.code) };
}

/** Events keyed by idempotency key and type (a set may give several events: numbered). */
function keyed(list: CanonicalEvent[]): Map<string, CanonicalEvent> {
  const out = new Map<string, CanonicalEvent>();
  const n = new Map<string, number>();
  for (const e of list) {
    const base = `${e.idempotencyKey}|${e.type}`;
    const i = n.get(base) ?? 0;
    n.set(base, i + 1);
    out.set(i ? `${base}|${i}` : base, e);
  }
  return out;
}

function diffValues(a: unknown, b: unknown, at: string, out: { path: string; active: unknown; draft: unknown }[]): void {
  if (out.length >= 200) return;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) diffValues((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: at, active: a ?? null, draft: b ?? null });
}

export async function dryRun(docs: DocumentRow[], raw: RawStore, partners: PartnerDirectory, active: MappingRegistry, draft: MappingRegistry): Promise<EventDiff[]> {
  const out: EventDiff[] = [];
  for (const doc of docs) {
    if (!doc.raw_path) continue;
    const a = await translate(doc, raw, partners, active);
    const d = await translate(doc, raw, partners, draft);
    const ka = keyed(a.events);
    const kd = keyed(d.events);
    const diff: EventDiff = { documentId: doc.id, filename: doc.filename, active: { events: a.events.length, errors: a.errors }, draft: { events: d.events.length, errors: d.errors }, added: [], removed: [], changed: [] };
    for (const [k, e] of kd) if (!ka.has(k)) diff.added.push({ key: k, type: e.type });
    for (const [k, e] of ka) {
      const other = kd.get(k);
      if (!other) {
        diff.removed.push({ key: k, type: e.type });
        continue;
      }
      const fields: EventDiff['changed'][number]['fields'] = [];
      diffValues(e.data, other.data, 'data', fields);
      if (fields.length) diff.changed.push({ key: k, type: e.type, fields });
    }
    out.push(diff);
  }
  return out;
}
