import { QTY_SCALE } from './quantity.ts';

/**
 * Units of measure (design.md section 5): every item is kept in one base unit; a quantity in
 * another unit is converted exactly (integer arithmetic on units of 1/10,000: 6.5 CA x 12 = 78 EA)
 * from a pack stated on the document line (PO4) or the item master. A unit that cannot be
 * converted is a problem to report, never a 1:1 guess.
 */
export interface ItemUnits {
  baseUnit: string;
  /** Unit code -> how many base units one of it holds (integer units of 1/10,000). */
  units: Record<string, number>;
}

export interface ItemMaster {
  /** The base unit of an item that the master does not list (provisional items, partner ids). */
  defaultBaseUnit: string;
  items: Map<string, ItemUnits>;
  /** Kit SKU -> component SKU -> component units per kit (integer units of 1/10,000). */
  kits: Record<string, Record<string, number>>;
}

export const emptyItemMaster = (defaultBaseUnit = 'EA'): ItemMaster => ({ defaultBaseUnit, items: new Map(), kits: {} });

/** A pack stated on the line (850/846/856 PO4): PO401 inner units per outer unit, PO402 size, PO403 size unit. */
export interface LinePack {
  pack?: string;
  size?: string;
  sizeUnit?: string;
}

export type Conversion = { ok: true; base: number; factor: number; baseUnit: string } | { ok: false; reason: string };

const BIG_SCALE = BigInt(QTY_SCALE);

/** a x b / SCALE exactly, or null when the product has more than 4 decimals or is too large. */
export function mulUnits(a: number, b: number): number | null {
  const p = BigInt(a) * BigInt(b);
  if (p % BIG_SCALE !== 0n) return null;
  const r = p / BIG_SCALE;
  if (r > BigInt(Number.MAX_SAFE_INTEGER) || r < -BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(r);
}

function decimalUnits(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  const m = /^(\d*)(?:\.(\d{0,4}))?$/.exec(text.trim());
  if (!m || (m[1] === '' && !m[2])) return null;
  return Number(m[1] || '0') * QTY_SCALE + Number((m[2] ?? '').padEnd(4, '0') || '0');
}

/** How many base units one `uom` of the item holds, from the line's pack first, then the master. */
export function unitFactor(master: ItemMaster, item: string, uom: string | undefined, pack?: LinePack): { factor: number; baseUnit: string } | { reason: string } {
  const entry = master.items.get(item);
  const baseUnit = entry?.baseUnit ?? master.defaultBaseUnit;
  const u = (uom ?? '').trim().toUpperCase();
  if (!u || u === baseUnit) return { factor: QTY_SCALE, baseUnit };
  const packs = decimalUnits(pack?.pack);
  if (packs && packs > 0) {
    const sizeUnit = (pack?.sizeUnit ?? '').trim().toUpperCase();
    const size = decimalUnits(pack?.size);
    if (!sizeUnit || !size) return { factor: packs, baseUnit };
    if (sizeUnit === baseUnit) {
      const f = mulUnits(packs, size);
      if (f !== null && f > 0) return { factor: f, baseUnit };
    }
    // A size in another unit (ounces, grams) says nothing about the count: fall back to the master.
  }
  const f = entry?.units[u];
  if (f !== undefined) return { factor: f, baseUnit };
  return { reason: `${u} cannot be converted to ${baseUnit} for ${item} (no pack on the line, no ${u} in the item master)` };
}

/** A quantity in `uom` -> base units of the item, exactly. */
export function toBase(master: ItemMaster, item: string, qty: number, uom: string | undefined, pack?: LinePack): Conversion {
  const f = unitFactor(master, item, uom, pack);
  if ('reason' in f) return { ok: false, reason: f.reason };
  const base = mulUnits(qty, f.factor);
  if (base === null) return { ok: false, reason: `${qty / QTY_SCALE} ${uom} x ${f.factor / QTY_SCALE} is not exact to 4 decimals` };
  return { ok: true, base, factor: f.factor, baseUnit: f.baseUnit };
}

/** Base units -> whole `uom` units, rounded down (what an 846 may promise in cases). */
export function fromBaseFloor(base: number, factor: number): number {
  if (factor <= 0) return 0;
  const whole = Math.floor((base * 1) / factor);
  return Math.max(0, whole) * QTY_SCALE;
}

/** Base units -> `uom` units exactly, or null when it is not a whole number of 1/10,000. */
export function fromBaseExact(base: number, factor: number): number | null {
  if (factor <= 0) return null;
  const p = BigInt(base) * BIG_SCALE;
  if (p % BigInt(factor) !== 0n) return null;
  return Number(p / BigInt(factor));
}
