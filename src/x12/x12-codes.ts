/** Functional identifier code (GS01) expected for each transaction set (ST01). */
export const FUNCTIONAL_ID_BY_SET: Readonly<Record<string, string>> = {
  '204': 'SM',
  '210': 'IM',
  '214': 'QM',
  '810': 'IN',
  '816': 'OR',
  '820': 'RA',
  '824': 'AG',
  '830': 'PS',
  '832': 'SC',
  '846': 'IB',
  '850': 'PO',
  '852': 'PD',
  '855': 'PR',
  '856': 'SH',
  '860': 'PC',
  '864': 'TX',
  '865': 'CA',
  '940': 'OW',
  '943': 'AR',
  '944': 'RE',
  '945': 'SW',
  '947': 'AW',
  '997': 'FA',
  '999': 'FA',
};

export const ISA_VERSIONS = new Set([
  '00200', '00201', '00204', '00300', '00301', '00302', '00303', '00304', '00305', '00306', '00307',
  '00400', '00401', '00402', '00403', '00404', '00405', '00406', '00500', '00501', '00502', '00503',
  '00504', '00505', '00600', '00601', '00602', '00603', '00604', '00605', '00700', '00701', '00702',
  '00703', '00704', '00705', '00706', '00800', '00801',
]);

export const ID_QUALIFIERS = new Set([
  '01', '02', '03', '04', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19',
  '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36',
  '37', '38', 'AM', 'NR', 'SA', 'SN', 'ZZ',
]);

export function isValidDate(v: string): boolean {
  let y: number, m: number, d: number;
  if (/^\d{8}$/.test(v)) {
    y = +v.slice(0, 4);
    m = +v.slice(4, 6);
    d = +v.slice(6, 8);
  } else if (/^\d{6}$/.test(v)) {
    y = 2000 + +v.slice(0, 2);
    m = +v.slice(2, 4);
    d = +v.slice(4, 6);
  } else return false;
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

/** HHMM, HHMMSS, HHMMSSD, HHMMSSDD. */
export function isValidTime(v: string): boolean {
  if (!/^\d{4}(\d{2}(\d{1,2})?)?$/.test(v)) return false;
  const h = +v.slice(0, 2);
  const mi = +v.slice(2, 4);
  const s = v.length >= 6 ? +v.slice(4, 6) : 0;
  return h <= 23 && mi <= 59 && s <= 59;
}

/** CCYYMMDD (or YYMMDD) to YYYY-MM-DD. */
export function isoDate(v: string): string {
  if (v.length === 6) return `20${v.slice(0, 2)}-${v.slice(2, 4)}-${v.slice(4, 6)}`;
  return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
}

/** A GS08 version as a number (004010 -> 4010), NaN when it is not one (so every comparison is false). */
export function versionNumber(v: string): number {
  return /^\d{6}/.test(v) ? Number(v.slice(0, 6)) : NaN;
}
