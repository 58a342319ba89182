import { available, type Position } from './availability.ts';
import { floorUnits, QTY_SCALE } from './quantity.ts';

/**
 * What a partner is shown (design.md section 5): per item and location, available stock less the
 * partner's safety stock, times a percentage, under a cap, in whole units; kits as the minimum
 * over their components. Never more than on hand - committed - hold - damaged - safety stock.
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
  /** Kit SKU -> component SKU -> units of the component per kit. */
  kits: Record<string, Record<string, number>>;
  /** QTY01 codes sent: 33 available, 17 on hand. */
  quantities: ('33' | '17')[];
  debounceMs: number;
  minIntervalMs: number;
  fullEveryMinutes?: number;
}

export function partnerAvailable(policy: PublishPolicy, p: Position): number {
  let a = available(p) - policy.safetyStock;
  if (a <= 0) return 0;
  if (policy.percent < 100) a = Math.floor((a * policy.percent) / 100);
  if (policy.cap !== undefined) a = Math.min(a, policy.cap);
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
