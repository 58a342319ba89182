import { available, type Position } from '../domain/availability.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import { kitAvailable, partnerAvailable } from '../domain/publication.ts';
import { fromUnits } from '../domain/quantity.ts';
import { positions } from '../store/availability-repository.ts';
import type { Db } from '../store/db.ts';

/** An item's positions (decimal text), and what a partner is shown of it: the CLI and the API. */
export function showPosition(p: Position) {
  return {
    item: p.item,
    location: p.location,
    onHand: fromUnits(p.onHand),
    committed: fromUnits(p.committed),
    inTransit: fromUnits(p.inTransit),
    hold: fromUnits(p.hold),
    damaged: fromUnits(p.damaged),
    safetyStock: fromUnits(p.safetyStock),
    available: fromUnits(available(p)),
    ...(p.expectedDate ? { expectedDate: p.expectedDate } : {}),
  };
}

export async function availabilityView(db: Db, partners: PartnerDirectory, q: { item: string; location?: string; partner?: string }): Promise<Record<string, unknown>> {
  const partner = q.partner ? partners.get(q.partner) : undefined;
  const policy = partner?.publish846;
  const kit = policy?.kits[q.item];
  let ps = await positions.forItem(db, q.item);
  if (q.location) ps = ps.filter((p) => p.location === q.location);
  const result: Record<string, unknown> = { item: q.item, positions: ps.map(showPosition) };
  if (!partner) return result;
  if (!policy) {
    result.partnerView = { partner: partner.id, published: false, reason: 'no publish846 policy' };
    return result;
  }
  const view: Record<string, string> = {};
  if (kit) {
    const locations = q.location ? [q.location] : await positions.locations(db);
    for (const loc of locations.filter((l) => !policy.locations || policy.locations.includes(l))) {
      const comps = await positions.getMany(db, Object.keys(kit).map((item) => ({ item, location: loc })));
      view[loc] = fromUnits(kitAvailable(kit, (sku) => partnerAvailable(policy, comps.get(`${sku}\u0000${loc}`)!)));
    }
    result.partnerView = { partner: partner.id, kit: Object.fromEntries(Object.entries(kit).map(([k, v]) => [k, fromUnits(v)])), available: view };
    return result;
  }
  for (const p of ps) if (!policy.locations || policy.locations.includes(p.location)) view[p.location] = fromUnits(partnerAvailable(policy, p));
  result.partnerView = { partner: partner.id, available: view, safetyStock: fromUnits(policy.safetyStock), percent: policy.percent, ...(policy.cap !== undefined ? { cap: fromUnits(policy.cap) } : {}) };
  return result;
}

/** Divergence lines with decimal text. */
export function showDivergence(r: Record<string, unknown>) {
  return {
    partner: r.partner_id,
    documentId: Number(r.document_id),
    item: r.item,
    location: r.location,
    before: fromUnits(Number(r.before)),
    snapshot: fromUnits(Number(r.after)),
    difference: fromUnits(Number(r.diff)),
    at: r.created_at,
  };
}
