import type { CanonicalEvent } from './events.ts';

/**
 * When a stock document says things were so: an 846's DTM*405 date and time, else its BIA04/BIA05;
 * an XML feed's timestamp; a shipment's ship date and time; a receipt's date. As text that sorts in
 * time, `YYYY-MM-DDTHH:MM:SS`, in the partner's clock (X12 times carry no zone; a zone in an XML
 * timestamp is dropped, not converted: one partner's documents compare with each other). A date
 * without a time is the end of that day. A snapshot counts the dated movements before its time;
 * one at the same time is after it (a same-day adjustment to a date-only snapshot applies).
 * null: the document says nothing about its time.
 */
export function asOfOf(e: CanonicalEvent): string | null {
  const d = e.data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const stamp = text(d.asOf);
  if (stamp && /^\d{4}-\d{2}-\d{2}/.test(stamp)) return stamp.length >= 19 ? stamp.slice(0, 19) : `${stamp.slice(0, 10)}T${time(stamp.slice(11))}`;
  const pairs: [unknown, unknown][] = [
    [d.asOfDate, d.asOfTime],
    [d.reportDate, d.reportTime],
    [d.shipDate, d.shipTime],
    [d.receiptDate, d.receiptTime],
  ];
  for (const [date, t] of pairs) {
    const day = text(date);
    if (day && /^\d{4}-\d{2}-\d{2}$/.test(day)) return `${day}T${time(text(t))}`;
  }
  return null;
}

function time(t: string | undefined): string {
  if (!t || !/^\d{2}:\d{2}/.test(t)) return '23:59:59';
  return t.length >= 8 ? t.slice(0, 8) : `${t.slice(0, 5)}:00`;
}
