import type { Rejection } from '../core/rejection.ts';
import type { Partner } from '../domain/partner.ts';
import { fromUnits } from '../domain/quantity.ts';
import { orders } from '../store/availability-repository.ts';
import { num } from '../store/db.ts';
import { events } from '../store/event-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { build940, type WarehouseOrder } from '../x12/build-940.ts';
import { envelopeTo, writeOrKeepOut } from './envelope-to.ts';
import type { ApplyContext } from './apply-context.ts';

type Obj = Record<string, unknown>;

/** The warehouse that holds `location` and takes 940s for it (its `locations` map or default location). */
export function warehouseFor(ctx: ApplyContext, location: string): { partner: Partner; code: string } | undefined {
  for (const p of ctx.partners.all()) {
    if (p.orders940?.send !== 'at-once' || !p.receives.includes('940')) continue;
    const code = Object.entries(p.locations).find(([, ours]) => ours === location)?.[0] ?? (p.defaultLocation === location ? location : undefined);
    if (code) return { partner: p, code };
  }
  return undefined;
}

/**
 * What of an order is committed and not yet released to its warehouse goes to it as a 940, one per
 * warehouse location, in the transaction that committed it (at once: the warehouse's policy);
 * each line's `released` grows by what was sent, so a later commit (a backorder filled) releases
 * only the rest. Kit lines release their components. Returns the 940s queued.
 */
export async function releaseToWarehouses(ctx: ApplyContext, orderId: number, problems: Rejection[] = []): Promise<number> {
  const { db } = ctx;
  const order = await db('orders').where({ id: orderId }).first();
  if (!order || order.cancelled) return 0;
  const lines = await orders.lines(db, orderId);
  const kitParents = new Set(lines.filter((l) => l.parent_line).map((l) => l.parent_line));
  const byLocation = new Map<string, { row: (typeof lines)[number]; qty: number }[]>();
  for (const row of lines) {
    if (kitParents.has(row.line_number) || row.status === 'REJECTED' || !row.location) continue;
    const qty = row.committed + row.shipped - (row.released ?? 0);
    if (qty <= 0) continue;
    byLocation.set(row.location, [...(byLocation.get(row.location) ?? []), { row, qty }]);
  }
  if (!byLocation.size) return 0;
  const po = ((await events.bySeq(db, num(order.event_seq)))?.data ?? {}) as Obj;
  const shipTo = (po.shipTo as Obj | undefined) ?? {};
  let queued = 0;
  for (const [location, list] of byLocation) {
    const wh = warehouseFor(ctx, location);
    if (!wh) continue;
    const cfg = wh.partner.orders940!;
    const cw = ctx.crosswalk(wh.partner.id);
    const ref = `940:${wh.partner.id}:${order.po_number}:`;
    const release = (await outbox.countByRef(db, wh.partner.id, '940', ref)) + 1;
    const wo: WarehouseOrder = {
      status: 'N',
      depositorOrder: String(order.po_number),
      poNumber: String(order.po_number),
      release,
      shipTo: { qualifier: String(shipTo.qualifier ?? '92'), id: String(shipTo.id ?? ''), name: shipTo.name as string | undefined },
      shipFrom: { id: wh.code, name: wh.partner.name },
      shipDate: ((po.dates as Obj | undefined)?.shipRequested as string | undefined) ?? undefined,
      payment: cfg.payment,
      transport: cfg.transport,
      carrier: cfg.carrier,
      lines: list.map(({ row, qty }) => {
        const q = cfg.idQualifiers.find((x) => cw?.partnerId(row.item, x));
        return {
          // A kit's components ship under the kit's PO line.
          lineNumber: row.parent_line ?? row.line_number,
          quantity: fromUnits(qty),
          uom: ctx.partners.items.items.get(row.item)?.baseUnit ?? ctx.partners.items.defaultBaseUnit,
          upc: cw?.partnerId(row.item, 'UP'),
          qualifier: q ?? 'SK',
          id: q ? cw!.partnerId(row.item, q)! : row.item,
        };
      }),
    };
    const env = await envelopeTo(db, ctx.partners, wh.partner, new Date(ctx.at));
    const { isa13, gsControl: gs } = env;
    const content = writeOrKeepOut(() => build940(wo, env), `940 for PO ${order.po_number} to ${wh.partner.id}`, problems);
    if (content === null) continue;
    await outbox.enqueue(db, { partnerId: wh.partner.id, kind: '940', sourceDocumentId: null, sourceRef: `${ref}${release}`, filename: `940_${isa13}.x12`, content, isa13, gs06: String(gs), createdAt: ctx.at });
    for (const { row, qty } of list) await db('order_lines').where({ order_id: orderId, line_number: row.line_number }).update({ released: (row.released ?? 0) + qty });
    queued++;
  }
  return queued;
}
