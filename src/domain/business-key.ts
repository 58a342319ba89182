import { createHash } from 'node:crypto';
import type { CanonicalEvent } from './events.ts';

/**
 * Business keys: beside (partner, ISA13), a document has a key of its own that a resend under new
 * control numbers keeps: an 846 its report id (BIA03), a shipment its shipment id and purpose, a
 * PO its number and purpose, a PO change its number and change sequence. The same key again with
 * the same content is a duplicate; with other content a conflict. XML feeds have no control
 * numbers at all, so this is what keeps a resent feed from being applied twice.
 */
export function businessKey(e: CanonicalEvent): string | null {
  const d = e.data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
  switch (e.type) {
    case 'inventory.snapshot':
    case 'inventory.adjusted': {
      const id = text(d.reportId);
      return id ? `inventory:${id}` : null;
    }
    case 'shipment.confirmed':
    case 'shipment.noticed': {
      const id = text(d.shipmentId);
      return id ? `${e.type}:${id}:${text(d.purpose) ?? 'original'}` : null;
    }
    case 'order.received': {
      const po = text(d.poNumber);
      if (!po) return null;
      const purpose = text(d.purpose) ?? 'original';
      // Changes of one PO are many and each differs: only the very same change again is a duplicate.
      if (purpose === 'change') return `order:${po}:change:${text(d.changeSequence) ?? contentHash(e).slice(0, 16)}`;
      return `order:${po}:${purpose}`;
    }
    case 'order.changed': {
      const po = text(d.poNumber);
      return po ? `order:${po}:change:${text(d.changeSequence) ?? contentHash(e).slice(0, 16)}` : null;
    }
    case 'stock.received': {
      const id = text(d.receiptId);
      return id ? `receipt:${id}` : null;
    }
    default:
      return null;
  }
}

/**
 * The content of an event independent of its envelope: a hash of its data as JSON. Keys are in
 * the order the mapping wrote them, which the same mapping always does: sorting them first cost
 * three times as much on a 500,000-line snapshot (0.7 s against 0.2 s). After a mapping edit that
 * reorders fields, a resend under an old key is held as a conflict for an admin: never applied twice.
 */
export function contentHash(e: CanonicalEvent): string {
  return createHash('sha256').update(JSON.stringify(e.data)).digest('hex');
}

/** What the key names, for messages: "shipment ACME-SHP-7001", "PO 1001 (original)". */
export function describeKey(key: string): string {
  const [kind, id, purpose] = key.split(':');
  if (kind === 'inventory') return `stock report ${id}`;
  if (kind === 'order') return `PO ${id} (${purpose === 'change' ? 'change' : purpose})`;
  if (kind === 'receipt') return `receipt ${id}`;
  return `${kind.startsWith('shipment.noticed') ? 'ship notice' : 'shipment'} ${id}${purpose && purpose !== 'original' ? ` (${purpose})` : ''}`;
}
