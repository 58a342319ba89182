import type { Rejection } from '../core/rejection.ts';
import type { Partner } from '../domain/partner.ts';
import { fromUnits } from '../domain/quantity.ts';
import { orders, type OrderLineRow } from '../store/availability-repository.ts';
import { num } from '../store/db.ts';
import { events } from '../store/event-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { warehouseOrders } from '../store/warehouse-order-repository.ts';
import { build940, type WarehouseOrder } from '../x12/build-940.ts';
import { envelopeTo, writeOrKeepOut } from './envelope-to.ts';
import type { ApplyContext } from './apply-context.ts';

type Obj = Record<string, unknown>;

/** The warehouse that holds `location` and takes 940s for it (its `locations` map or default location). */
export function warehouseFor(ctx: ApplyContext, location: string): { partner: Partner; code: string } | undefined {
  for (const p of ctx.partners.all()) {
    if (!p.orders940 || p.orders940.send === 'never' || !p.receives.includes('940')) continue;
    const code = Object.entries(p.locations).find(([, ours]) => ours === location)?.[0] ?? (p.defaultLocation === location ? location : undefined);
    if (code) return { partner: p, code };
  }
  return undefined;
}

/** Our locations a warehouse partner holds (for its waves and its stated available). */
export function locationsOf(p: Partner): string[] {
  return [...new Set([...Object.values(p.locations), ...(p.defaultLocation ? [p.defaultLocation] : [])])];
}

/** One line of a warehouse order as it is to be now: `want` to ship, `told` what its 940s said and it has not shipped. */
interface Want {
  row: OrderLineRow;
  want: number;
  told: number;
}

/**
 * Keep each warehouse told what to ship of an order: one warehouse order (940 W0502) per PO and
 * warehouse location while it is open. Per location, each line's `want` is what is committed to
 * it there (not shipped yet) and `told` what the open warehouse order says and has not shipped:
 * - nothing open and something wanted: a new order (W0501 N), numbered the PO, or PO-2, PO-3...
 *   when the warehouse has that number already (an earlier order of the PO, another retailer's
 *   PO of the same number);
 * - open, and the want changed: a change (R) stating every line as it is now (0: no longer), or,
 *   when nothing is wanted any more (a cancel, every line changed to what shipped), a cancel (F).
 * Each line's `released` becomes what shipped plus what is wanted. `wave`: this is the partner's
 * wave (or its policy is at once); otherwise a waves partner gets only what takes units back (R
 * and F: a cancel does not wait for the next wave), new units wait for its wave. Returns the 940s
 * queued.
 */
export async function releaseToWarehouses(ctx: ApplyContext, orderId: number, problems: Rejection[] = [], opts: { wave?: string } = {}): Promise<number> {
  const { db } = ctx;
  if (db.client.config.client !== 'sqlite3') await db('orders').where({ id: orderId }).forUpdate().first('id');
  const order = await db('orders').where({ id: orderId }).first();
  if (!order) return 0;
  const cancelled = !!order.cancelled && order.cancelled !== 0;
  const lines = await orders.lines(db, orderId);
  const kitParents = new Set(lines.filter((l) => l.parent_line).map((l) => l.parent_line));
  const byLocation = new Map<string, Want[]>();
  for (const row of lines) {
    if (kitParents.has(row.line_number) || !row.location) continue;
    const want = cancelled || row.status === 'REJECTED' ? 0 : row.committed;
    const told = Math.max(0, (row.released ?? 0) - row.shipped);
    if (want === 0 && told === 0) continue;
    byLocation.set(row.location, [...(byLocation.get(row.location) ?? []), { row, want, told }]);
  }
  if (!byLocation.size) return 0;
  const known = await warehouseOrders.ofOrder(db, orderId);
  let po: Obj | null = null;
  let queued = 0;
  for (const [location, list] of byLocation) {
    const wh = warehouseFor(ctx, location);
    if (!wh) continue;
    if (list.every((w) => w.want === w.told)) continue;
    const open = known.find((k) => k.partnerId === wh.partner.id && k.location === location && k.status === 'OPEN');
    const recall = list.some((w) => w.want < w.told);
    const waves = wh.partner.orders940!.send === 'waves' && opts.wave !== wh.partner.id;
    if (waves && !(open && recall)) continue;
    const wanted = list.reduce((n, w) => n + w.want, 0);
    let status: WarehouseOrder['status'];
    let send: { row: OrderLineRow; qty: number }[];
    if (!open) {
      // What was told has shipped or closed with its order (a 945): only new units make a new order.
      if (wanted === 0) continue;
      status = 'N';
      send = list.filter((w) => w.want > 0).map((w) => ({ row: w.row, qty: w.want }));
    } else if (wanted === 0) {
      status = 'F';
      send = list.filter((w) => w.told > 0).map((w) => ({ row: w.row, qty: w.told }));
    } else {
      status = 'R';
      send = list.map((w) => ({ row: w.row, qty: w.want }));
    }
    const number = open?.number ?? (await freeNumber(ctx, wh.partner.id, String(order.po_number)));
    po ??= ((await events.bySeq(db, num(order.event_seq)))?.data ?? {}) as Obj;
    // A 940 that cannot be written is kept out with its reason: the warehouse has what it had.
    const content = await build(ctx, wh, { po, poNumber: String(order.po_number), number, status }, send, problems);
    if (content === null) continue;
    const target = open ?? (await warehouseOrders.create(db, { orderId, partnerId: wh.partner.id, location, number, at: ctx.at }));
    if (!open) known.push(target);
    const revision = target.revisions + 1;
    await outbox.enqueue(db, { partnerId: wh.partner.id, kind: '940', sourceDocumentId: null, sourceRef: `940:${orderId}:${number}:${revision}:${status}`, filename: `940_${content.isa13}.x12`, content: content.text, isa13: content.isa13, gs06: content.gs06, createdAt: ctx.at, correlationId: order.correlation_id ?? null });
    await warehouseOrders.update(db, target.id, { revisions: revision, ...(status === 'F' ? { status: 'CANCELLED' as const } : {}), at: ctx.at });
    for (const w of list) await db('order_lines').where({ order_id: orderId, line_number: w.row.line_number }).update({ released: w.row.shipped + w.want });
    queued++;
  }
  return queued;
}

/**
 * A 945 reports what a warehouse shipped of the lines it names, and is final for them: what it did
 * not ship of them it will not (short: backordered or cancelled by policy), so each was told only
 * what shipped. The warehouse order is closed once none of its lines is told more than shipped (a
 * line it has not reported yet keeps it open). What is still committed to a reported line (a
 * backorder filled meanwhile) then goes by the partner's policy: a change of the open order, or a
 * new one.
 */
export async function closeWarehouseOrders(ctx: ApplyContext, orderId: number, partnerId: string, location: string | undefined, reported: string[], problems: Rejection[]): Promise<void> {
  const { db } = ctx;
  const open = (await warehouseOrders.ofOrder(db, orderId)).filter((w) => w.partnerId === partnerId && w.status === 'OPEN' && (!location || w.location === location));
  if (!open.length) return;
  for (const w of open) {
    if (reported.length) await db('order_lines').where({ order_id: orderId, location: w.location }).whereIn('line_number', reported).update({ released: db.ref('shipped') });
    const [r] = await db('order_lines').where({ order_id: orderId, location: w.location }).andWhereRaw('released > shipped').count({ n: '*' });
    if (num(r.n) === 0) await warehouseOrders.update(db, w.id, { status: 'CLOSED', at: ctx.at });
  }
  await releaseToWarehouses(ctx, orderId, problems);
}

/**
 * Our order number at a warehouse: the PO number, else the first of PO-2, PO-3... it does not have
 * (W0502 is AN 1/22: a long PO number gives way to the suffix).
 */
async function freeNumber(ctx: ApplyContext, partnerId: string, po: string): Promise<string> {
  for (let k = 1; ; k++) {
    const n = k === 1 ? po.slice(0, 22) : `${po.slice(0, 22 - String(k).length - 1)}-${k}`;
    if (!(await warehouseOrders.byNumber(ctx.db, partnerId, n))) return n;
  }
}

async function build(
  ctx: ApplyContext,
  wh: { partner: Partner; code: string },
  o: { po: Obj; poNumber: string; number: string; status: WarehouseOrder['status'] },
  send: { row: OrderLineRow; qty: number }[],
  problems: Rejection[],
): Promise<{ text: string; isa13: string; gs06: string } | null> {
  const cfg = wh.partner.orders940!;
  const cw = ctx.crosswalk(wh.partner.id);
  const shipTo = (o.po.shipTo as Obj | undefined) ?? {};
  const wo: WarehouseOrder = {
    status: o.status,
    depositorOrder: o.number,
    poNumber: o.poNumber,
    shipTo: { qualifier: String(shipTo.qualifier ?? '92'), id: String(shipTo.id ?? ''), name: shipTo.name as string | undefined },
    shipFrom: { id: wh.code, name: wh.partner.name },
    shipDate: ((o.po.dates as Obj | undefined)?.shipRequested as string | undefined) ?? undefined,
    payment: cfg.payment,
    transport: cfg.transport,
    carrier: cfg.carrier,
    lines: send.map(({ row, qty }) => {
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
  const env = await envelopeTo(ctx.db, ctx.partners, wh.partner, new Date(ctx.at));
  const text = writeOrKeepOut(() => build940(wo, env), `940 (${o.status}) for PO ${o.poNumber} to ${wh.partner.id}`, problems);
  return text === null ? null : { text, isa13: env.isa13, gs06: String(env.gsControl) };
}

/**
 * A warehouse's wave (its policy `send: waves`): every order with units at its locations that its
 * 940s do not say yet is released now (new orders, and changes that add units). Returns the 940s
 * queued; what could not be written is in `problems`.
 */
export async function releaseWave(ctx: ApplyContext, partner: Partner, problems: Rejection[]): Promise<number> {
  let queued = 0;
  for (const orderId of await warehouseOrders.unreleased(ctx.db, locationsOf(partner))) queued += await releaseToWarehouses(ctx, orderId, problems, { wave: partner.id });
  return queued;
}
