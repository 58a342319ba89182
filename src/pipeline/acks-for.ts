import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { buildAck, planAcks, type AckPlan, type BuiltAck } from '../x12/ack-builder.ts';
import type { InterchangeResult } from '../x12/envelope-types.ts';
import type { WriterDelimiters } from '../x12/x12-writer.ts';

/** The acknowledgment plans of a translated file, with the partner each goes to. */
export interface PlannedAck {
  plan: AckPlan;
  partner: Partner | null;
  delimiters: WriterDelimiters;
}

export function planFileAcks(interchanges: InterchangeResult[], partners: PartnerDirectory, channelPartnerId?: string): PlannedAck[] {
  const out: PlannedAck[] = [];
  for (const ic of interchanges) {
    if (!ic.header) continue;
    const partner = (ic.partnerId ? partners.get(ic.partnerId) : undefined) ?? (channelPartnerId ? partners.get(channelPartnerId) : undefined) ?? null;
    const policy = partner?.acks ?? { send997: true, ta1: 'on-request' as const };
    const plan = planAcks(ic, policy);
    if (!plan) continue;
    out.push({ plan, partner, delimiters: ackDelimiters(partner, ic) });
  }
  return out;
}

/** The partner's configured separators; for an unknown sender, those of its own interchange. */
export function ackDelimiters(partner: Partner | null, ic: InterchangeResult): WriterDelimiters {
  if (partner) {
    const s = partner.x12.separators;
    return { ...s, suffix: partner.x12.segmentSuffix };
  }
  const d = ic.header!.delimiters;
  const usable = (c: string, fallback: string) => (c.length === 1 && !/[A-Za-z0-9 \r\n]/.test(c) ? c : fallback);
  const element = usable(d.element, '*');
  const component = usable(d.component, '>');
  const segment = usable(d.segment, '~');
  const repetition = usable(d.repetition ?? '^', '^');
  const set = new Set([element, component, segment, repetition]);
  if (set.size !== 4) return { element: '*', component: '>', segment: '~', repetition: '^', suffix: '\n' };
  return { element, component, segment, repetition, suffix: '\n' };
}

/** Build acks with given control numbers (the CLI preview numbers from 1). */
export function buildPlannedAcks(planned: PlannedAck[], now: Date, control: (p: PlannedAck) => { isa: number; gs: number }): BuiltAck[] {
  return planned.map((p) => {
    const c = control(p);
    return buildAck({ plan: p.plan, delimiters: p.delimiters, isaControl: c.isa, gsControl: c.gs, now });
  });
}
