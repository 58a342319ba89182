/** GS1 mod-10 check digit of the digits given (without their check digit). */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  // Weights 3,1,3,1... from the rightmost digit.
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += (digits.charCodeAt(i) - 48) * w;
  return (10 - (sum % 10)) % 10;
}

/**
 * Normalise an SSCC as found in MAN02: 18 digits, or 20 with the GS1 application identifier
 * "00" in front. Returns the 18-digit SSCC, or null when it is not a valid SSCC-18.
 */
export function normaliseSscc(value: string): string | null {
  const v = value.trim();
  const d = /^00\d{18}$/.test(v) ? v.slice(2) : v;
  if (!/^\d{18}$/.test(d)) return null;
  return gs1CheckDigit(d.slice(0, 17)) === d.charCodeAt(17) - 48 ? d : null;
}
