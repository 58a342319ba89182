/**
 * Item identity (design.md section 5): every id on a line (all qualifiers) names the same item.
 * Ids our crosswalk knows give the SKU; ids that give two SKUs are a conflict. An item no crosswalk
 * knows gets one provisional identity holding every id seen with it on a line, so that a document
 * naming any of them finds the same item, until a crosswalk entry makes it a SKU.
 */

/** Qualifiers whose values are the partner's own numbering (buyer item, buyer part, catalog). */
export const PARTNER_SCOPED = new Set(['IN', 'BP', 'CB', 'PD', 'PL']);

export const PROVISIONAL_PREFIX = 'PRV:';

export const isProvisional = (item: string): boolean => item.startsWith(PROVISIONAL_PREFIX);

/** The scope an id lives in: '' for global ids (UPC, GTIN, vendor part), else the partner. */
export function idScope(partnerId: string, qualifier: string): string {
  return PARTNER_SCOPED.has(qualifier) ? partnerId : '';
}

export interface IdKey {
  scope: string;
  qualifier: string;
  value: string;
}

export const idKeyString = (k: IdKey): string => `${k.scope}\u0000${k.qualifier}\u0000${k.value}`;

/** A line's ids as keys, in the order given (the first global one names a new provisional item). */
export function idKeys(partnerId: string, ids: Record<string, string>): IdKey[] {
  const out: IdKey[] = [];
  for (const [q, v] of Object.entries(ids)) {
    const qualifier = q.trim().toUpperCase();
    const value = String(v).trim();
    if (qualifier && value) out.push({ scope: idScope(partnerId, qualifier), qualifier, value });
  }
  return out;
}

/** The key of a new provisional item: its first global id (or the partner's own), readable. */
export function provisionalKey(keys: IdKey[]): string {
  const k = keys.find((x) => x.scope === '') ?? keys[0];
  return `${PROVISIONAL_PREFIX}${k.scope ? `${k.scope}/` : ''}${k.qualifier}:${k.value}`.slice(0, 128);
}
