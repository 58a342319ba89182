/**
 * Quantities kept exactly: decimal text in events, integer units of 1/10,000 in the store (no
 * floats that round). 4 decimals cover every unit of measure we have met; more is refused.
 */
export const QTY_SCALE = 10_000;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

export function toUnits(text: string): number | null {
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > 4) return null;
  const units = Number(m[2] || '0') * QTY_SCALE + Number(frac.padEnd(4, '0') || '0');
  if (!Number.isSafeInteger(units)) return null;
  return m[1] === '-' ? -units : units;
}

export function fromUnits(units: number): string {
  const neg = units < 0;
  const a = Math.abs(units);
  const int = Math.floor(a / QTY_SCALE);
  const frac = String(a % QTY_SCALE).padStart(4, '0').replace(/0+$/, '');
  const s = frac ? `${int}.${frac}` : String(int);
  return neg && a !== 0 ? `-${s}` : s;
}

/** Whole units only (what an 846 QTY carries for each-based items), rounding down. */
export function floorUnits(units: number): number {
  return Math.floor(units / QTY_SCALE) * QTY_SCALE;
}

/** Whole units of a non-negative quantity (negative: none). */
export function wholeUnits(units: number): number {
  return Math.max(0, floorUnits(units));
}
