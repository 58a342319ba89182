import type { Crosswalk } from './schema.ts';

/** Item identity: (qualifier, value) pairs from partner documents to our SKU. */
export interface CrosswalkIndex {
  lookup(ids: Record<string, string>): string | undefined;
  /** The SKUs each of the ids names on its own (more than one: the ids conflict). */
  skusOf(ids: Record<string, string>): string[];
  /** The partner's id of our SKU for a qualifier (outbound). */
  partnerId(sku: string, qualifier: string): string | undefined;
  size: number;
}

const DEFAULT_PRECEDENCE = ['SK', 'VN', 'VP', 'UP', 'UK', 'EN', 'IN', 'BP', 'CB', 'MG'];

export function buildCrosswalk(...walks: Crosswalk[]): CrosswalkIndex {
  // qualifier -> value -> SKU (no key string built per lookup).
  const byId = new Map<string, Map<string, string>>();
  const bySku = new Map<string, Record<string, string>>();
  let precedence = DEFAULT_PRECEDENCE;
  for (const w of walks) {
    if (w.precedence) precedence = w.precedence;
    for (const item of w.items) {
      const ids = { ...(bySku.get(item.sku) ?? {}), ...item.ids };
      bySku.set(item.sku, ids);
      for (const [q, v] of Object.entries(item.ids)) {
        let m = byId.get(q);
        if (!m) byId.set(q, (m = new Map()));
        m.set(v, item.sku);
      }
    }
  }
  return {
    size: bySku.size,
    lookup(ids) {
      for (const q of precedence) {
        const v = ids[q];
        if (v !== undefined) {
          const sku = byId.get(q)?.get(v);
          if (sku) return sku;
        }
      }
      for (const q in ids) {
        const sku = byId.get(q)?.get(ids[q]);
        if (sku) return sku;
      }
      return undefined;
    },
    skusOf(ids) {
      let first: string | undefined;
      let more: Set<string> | undefined;
      for (const q in ids) {
        const sku = byId.get(q)?.get(ids[q]);
        if (!sku || sku === first) continue;
        if (first === undefined) first = sku;
        else (more ??= new Set([first])).add(sku);
      }
      return more ? [...more].sort() : first === undefined ? [] : [first];
    },
    partnerId(sku, qualifier) {
      return bySku.get(sku)?.[qualifier];
    },
  };
}

/** One partner's crosswalk (shared entries and its own): the SKUs a line's ids name, or null when there is none. */
export function crosswalkLookup<P extends string | null>(registry: { crosswalk(partnerId: P): CrosswalkIndex | null }, partnerId: P): ((ids: Record<string, string>) => string[]) | null {
  const cw = registry.crosswalk(partnerId);
  return cw ? (ids) => cw.skusOf(ids) : null;
}
