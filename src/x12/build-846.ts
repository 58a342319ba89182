import { fromUnits } from '../domain/quantity.ts';
import { openInterchange, type OutboundEnvelope } from './outbound-envelope.ts';

/**
 * Outbound 846, streamed: one ST per location (header N1*WH), at most 10,000 LIN loops per ST
 * (4010), each LIN with the partner's own item id and the quantities the partner wants.
 * Text is handed to `write` in pieces, so a million item/locations never sit in memory at once.
 */
export interface Line846 {
  location: string;
  qualifier: string;
  id: string;
  /** Integer units (1/10,000), in `uom`. */
  available: number;
  onHand: number;
  /** QTY03: the unit the quantities are in (default EA). */
  uom?: string;
}

export interface Build846Options extends OutboundEnvelope {
  reportId: string;
  quantities: ('33' | '17')[];
  maxLinPerSet?: number;
}

export async function build846(lines: AsyncIterable<Line846[]>, o: Build846Options, write: (text: string) => Promise<void>): Promise<{ sets: number; lines: number }> {
  const { w, ymd, hm } = openInterchange(o, 'IB');
  const max = o.maxLinPerSet ?? 10_000;
  let sets = 0;
  let total = 0;
  let inSet = 0;
  let location: string | null = null;
  const close = () => {
    if (location === null) return;
    w.segment('CTT', String(inSet));
    w.se();
  };
  for await (const page of lines) {
    for (const l of page) {
      if (l.location !== location || inSet >= max) {
        close();
        sets++;
        location = l.location;
        inSet = 0;
        w.st('846', String(sets).padStart(4, '0'));
        w.segment('BIA', '00', 'DD', `${o.reportId}-${sets}`, ymd, hm);
        w.segment('DTM', '007', ymd, hm);
        w.segment('N1', 'WH', undefined, '92', l.location);
      }
      inSet++;
      total++;
      w.segment('LIN', String(inSet), l.qualifier, l.id);
      for (const q of o.quantities) w.segment('QTY', q, fromUnits(q === '33' ? l.available : l.onHand), l.uom ?? 'EA');
    }
    await write(w.drain());
  }
  close();
  w.ge();
  w.iea();
  await write(w.drain());
  return { sets, lines: total };
}
