import { reject, type Rejection } from '../core/rejection.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { counters } from '../store/counter-repository.ts';
import type { Db } from '../store/db.ts';
import type { OutboundEnvelope } from '../x12/outbound-envelope.ts';
import { checkDocument, projectGrammars, type SetVerdict } from '../x12/grammar.ts';

/**
 * The envelope of a document we send a partner, with its next ISA and GS control numbers taken
 * from the store in the caller's transaction (an 855, 856 or 940).
 */
export async function envelopeTo(db: Db, partners: PartnerDirectory, partner: Partner, now: Date): Promise<OutboundEnvelope & { isa13: string }> {
  const isa = await counters.next(db, partner.id, 'isa');
  const gs = await counters.next(db, partner.id, 'gs');
  const us = partners.us;
  return {
    envelope: partner.x12,
    sender: { qualifier: us.qualifier, id: us.id, gsId: us.gsId },
    receiver: { qualifier: partner.interchange.qualifier, id: partner.interchange.id, gsId: partner.gsId },
    isaControl: isa,
    gsControl: gs,
    now,
    isa13: String(isa).padStart(9, '0'),
  };
}

/**
 * Write a document we send (an 855, a 940); a value holding one of the partner's delimiters (a
 * name, an id from another partner's file) keeps it out with GW_OUTBOUND_NOT_BUILT in `problems`
 * (null), never fails the document that caused it. Any other error is ours and thrown.
 */
export function writeOrKeepOut(write: () => string, what: string, problems: Rejection[]): string | null {
  let text: string;
  try {
    text = write();
  } catch (e) {
    if ((e as { code?: string }).code !== 'GW_VALUE_HAS_DELIMITER') throw e;
    problems.push(reject('GW_OUTBOUND_NOT_BUILT', `${what}: ${(e as Error).message}`));
    return null;
  }
  const bad = nonconformance(text, what);
  if (bad) {
    problems.push(bad);
    return null;
  }
  return text;
}

/**
 * What we wrote, checked by the same grammars as what we receive before it is released: a set a
 * strict translator would reject is our fault, kept out (GW_OUTBOUND_NONCONFORMANT) and never sent.
 */
export function nonconformance(text: string, what: string): Rejection | null {
  return nonconformanceOf(checkDocument(projectGrammars(), text), what);
}

/** The rejection for what a DocumentChecker found in a document we wrote (null: every set passes). */
export function nonconformanceOf(sets: SetVerdict[], what: string): Rejection | null {
  const found = sets.filter((v) => v.errors.length);
  if (!found.length) return null;
  const list = found.flatMap((f) => f.errors.slice(0, 5).map((e) => `${f.setId} ${f.control}: ${e.message} at ${e.position}`));
  return reject('GW_OUTBOUND_NONCONFORMANT', `${what}: ${list.join('; ')}`);
}
