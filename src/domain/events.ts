import { createHash } from 'node:crypto';

/** Canonical events, version 1 (design.md section 4). */
export const EVENT_VERSION = 1;

export type EventType =
  | 'inventory.snapshot'
  | 'inventory.adjusted'
  | 'order.received'
  | 'shipment.noticed'
  | 'shipment.confirmed'
  | 'ack.received'
  /** A PO change (860): line changes by change type, in change-sequence order. */
  | 'order.changed'
  /** A warehouse stock receipt (944): stock that arrived, against a ship notice when it names one. */
  | 'stock.received';

export interface EventSource {
  documentId: string;
  isa13?: string;
  gs06?: string;
  st02?: string;
  setId?: string;
  /** Segment ordinal (in the file) of the ST the event comes from. */
  segmentIndex?: number;
}

export interface CanonicalEvent {
  type: EventType;
  version: number;
  id: string;
  idempotencyKey: string;
  occurredAt: string;
  partner: string;
  source: EventSource;
  correlationId: string;
  data: Record<string, unknown>;
}

/** A stable id derived from the idempotency key: the same input gives the same event id. */
export function eventId(idempotencyKey: string): string {
  const h = createHash('sha256').update(idempotencyKey).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface EventContext {
  partner: string;
  documentId: string;
  correlationId: string;
  occurredAt: string;
  /** Where inventory lines that name no location are (a warehouse partner's default); absent: left open. */
  defaultLocation?: string;
  /** The idempotency key when the source has no control numbers (XML: its sha256). */
  idempotencyKey?: string;
}

/**
 * Build the canonical event for one mapped transaction set, with the per-type normalisation that
 * mapping configs cannot express: default line numbers and locations, loose 856 items as a pack.
 */
export function buildEvent(
  type: EventType,
  data: Record<string, unknown>,
  source: EventSource,
  ctx: EventContext,
): CanonicalEvent {
  const idempotencyKey = ctx.idempotencyKey ?? `${ctx.partner}:${source.isa13}:${source.gs06}:${source.st02}`;
  return {
    type,
    version: EVENT_VERSION,
    id: eventId(idempotencyKey),
    idempotencyKey,
    occurredAt: ctx.occurredAt,
    partner: ctx.partner,
    source,
    correlationId: ctx.correlationId,
    data: normalise(type, data, ctx),
  };
}

type Obj = Record<string, unknown>;

function normalise(type: EventType, data: Obj, ctx: EventContext): Obj {
  switch (type) {
    case 'order.received': {
      const lines = (data.lines as Obj[] | undefined) ?? [];
      lines.forEach((l, i) => {
        if (l.lineNumber === undefined) l.lineNumber = String(i + 1);
      });
      return data;
    }
    case 'inventory.snapshot':
    case 'inventory.adjusted':
    case 'stock.received': {
      const lines = (data.lines as Obj[] | undefined) ?? [];
      if (ctx.defaultLocation) for (const l of lines) if (l.location === undefined) l.location = ctx.defaultLocation;
      return data;
    }
    case 'shipment.noticed': {
      for (const o of (data.orders as Obj[] | undefined) ?? []) {
        const loose = (o.looseItems as Obj[] | undefined) ?? [];
        const packs = ((o.packs as Obj[] | undefined) ?? []).slice();
        if (loose.length) packs.push({ items: loose });
        o.packs = packs;
        delete o.looseItems;
      }
      return data;
    }
    default:
      return data;
  }
}
