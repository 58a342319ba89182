import { floorUnits, QTY_SCALE } from './quantity.ts';
import type { Share } from './promise.ts';
import { fromBaseFloor } from './units.ts';

/**
 * What a partner is shown (design.md section 5): per item and location, the room the promise
 * engine gives it (its share, within what other partners' promises leave), less the partner's
 * safety stock, times a percentage, under a cap, rounded down to whole units of the unit its
 * 846 is sent in; kits as the minimum over their components.
 */
export interface PublishPolicy {
  enabled: boolean;
  mode: 'delta' | 'full';
  /** Locations published (all when absent). */
  locations?: string[];
  /** Items published (all when absent); kits are always published when defined. */
  items?: string[];
  /** Partner id qualifiers to send, in order of preference (from the crosswalk). */
  idQualifiers: string[];
  /** Units withheld per item/location, on top of the store's safety stock. */
  safetyStock: number;
  percent: number;
  cap?: number;
  /** Kit SKU -> component SKU -> units of the component per kit (the item master's kits). */
  kits: Record<string, Record<string, number>>;
  /** Served first when stock is short (higher first). */
  rank: number;
  /** Exclusive reservation: a fixed quantity (base units) or a percentage of what can be promised. */
  share?: Share;
  /** The unit quantities are sent in (whole units, rounded down); absent: each item's base unit. */
  unit?: string;
  /** QTY01 codes sent: 33 available, 17 on hand. */
  quantities: ('33' | '17')[];
  debounceMs: number;
  minIntervalMs: number;
  fullEveryMinutes?: number;
}

/**
 * What the partner is shown of `room` base units: less its safety stock, times its percentage,
 * under its cap, rounded down to whole base units, or to whole `factor`s (base units per unit of
 * the 846) when it is sent in another unit. Base units.
 */
export function partnerView(policy: PublishPolicy, room: number, factor: number = QTY_SCALE): number {
  let a = room - policy.safetyStock;
  if (a <= 0) return 0;
  if (policy.percent < 100) a = Math.floor((a * policy.percent) / 100);
  if (policy.cap !== undefined) a = Math.min(a, policy.cap);
  if (factor !== QTY_SCALE) return (fromBaseFloor(a, factor) / QTY_SCALE) * factor;
  return floorUnits(a);
}

/** A kit's availability at one location from its components' partner views. */
export function kitAvailable(components: Record<string, number>, viewOf: (sku: string) => number): number {
  let kits = Infinity;
  for (const [sku, per] of Object.entries(components)) {
    if (per <= 0) continue;
    kits = Math.min(kits, Math.floor(viewOf(sku) / per));
  }
  return kits === Infinity ? 0 : kits * QTY_SCALE;
}

export function inScope(policy: PublishPolicy, item: string, location: string): boolean {
  if (policy.locations && !policy.locations.includes(location)) return false;
  if (policy.items && !policy.items.includes(item)) return false;
  return true;
}

/** Does the policy publish this item at this location (itself, or as a component of a kit it shows)? */
export function covers(policy: PublishPolicy, item: string, location: string): boolean {
  if (policy.locations && !policy.locations.includes(location)) return false;
  if (!policy.items || policy.items.includes(item)) return true;
  return Object.values(policy.kits).some((c) => c[item] !== undefined);
}
