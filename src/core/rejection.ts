import { ERRORS, type ErrorCode, type Severity } from './errors.ts';

/**
 * A problem found in partner data. The same object drives the 997/TA1, the API, the logs and
 * the `<file>.error.json` next to a parked file.
 */
export interface Rejection {
  code: ErrorCode;
  severity: Severity;
  message: string;
  /** Where: interchange/group/set control numbers and the segment/element position. */
  isa13?: string;
  gs06?: string;
  st02?: string;
  /** 1-based ordinal of the segment in the file. */
  segmentIndex?: number;
  /** 1-based position of the segment inside its transaction set (ST = 1), for AK302. */
  setPosition?: number;
  segmentTag?: string;
  /** 1-based element position (AK401) and component position. */
  element?: number;
  component?: number;
  /** The offending value, when it helps (never a secret). */
  value?: string;
  /** The X12 codes this rejection maps to (from the registry). */
  x12?: { ta1?: string; ak9?: string; ak5?: string; ak3?: string; ak4?: string };
}

export type RejectionWhere = Omit<Rejection, 'code' | 'severity' | 'message' | 'x12'>;

export function reject(code: ErrorCode, detail?: string, where: RejectionWhere = {}): Rejection {
  const def = ERRORS[code];
  const message = detail ? `${def.message}: ${detail}` : def.message;
  const r: Rejection = { code, severity: def.severity, message, ...where };
  if (def.x12) r.x12 = def.x12;
  return r;
}

export const isError = (r: Rejection): boolean => r.severity === 'error';
