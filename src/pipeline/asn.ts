import { checkAsn, delimiterProblems, makeSscc, type Asn, type AsnPack, type PoLine } from '../domain/asn.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { Partner, PartnerDirectory } from '../domain/partner.ts';
import { fromUnits, QTY_SCALE } from '../domain/quantity.ts';
import { fromBaseExact } from '../domain/units.ts';
import { orders } from '../store/availability-repository.ts';
import { counters } from '../store/counter-repository.ts';
import type { Db } from '../store/db.ts';
import { num } from '../store/db.ts';
import { events } from '../store/event-repository.ts';
import { outbox } from '../store/outbox-repository.ts';
import { build856 } from '../x12/build-856.ts';
import { envelopeTo, nonconformance } from './envelope-to.ts';
import { normaliseSscc } from '../x12/sscc.ts';

/**
 * A shipment confirmed for a retailer's PO -> the retailer's 856, in the same transaction: built
 * from the shipment (packs, quantities) and the PO (ship-to, PO date, the retailer's own item ids),
 * SSCCs checked or assigned from the GS1 company prefix and a counter, pre-flight checked, queued
 * in the outbox, or kept out with the reason (asns.status REFUSED).
 */
type Obj = Record<string, unknown>;

export interface AsnContext {
  db: Db;
  partners: PartnerDirectory;
  now: Date;
}

export interface AsnOutcome {
  poNumber: string;
  partnerId: string;
  status: 'QUEUED' | 'REFUSED';
  problems: string[];
  isa13?: string;
}

/** A shipped item as the store resolved it: our item, base units, the PO line it ships. */
export interface ShippedItem {
  item: string;
  base: number;
  lineNumber?: string;
}

/** `orderOf`: the order each shipped PO was applied to (its partner gets the ASN), as the store resolved it. */
export async function queueAsns(ctx: AsnContext, e: CanonicalEvent, eventSeq: number, shippedNow: Map<string, number>, resolvedOf: (it: Obj) => ShippedItem | undefined, orderOf: (o: Obj) => { id: number; partnerId: string } | undefined): Promise<AsnOutcome[]> {
  const out: AsnOutcome[] = [];
  const data = e.data as Obj;
  for (const o of (data.orders as Obj[] | undefined) ?? []) {
    const order = orderOf(o);
    if (!order) continue;
    const partner = ctx.partners.get(order.partnerId);
    if (!partner?.asn856 || !partner.receives.includes('856')) continue;
    out.push(await queueOne(ctx, partner, e, eventSeq, o, order.id, shippedNow, resolvedOf));
  }
  return out;
}

async function queueOne(ctx: AsnContext, partner: Partner, e: CanonicalEvent, eventSeq: number, o: Obj, orderId: number, shippedNow: Map<string, number>, resolvedOf: (it: Obj) => ShippedItem | undefined): Promise<AsnOutcome> {
  const { db } = ctx;
  const cfg = partner.asn856!;
  const data = e.data as Obj;
  const poNumber = String(o.poNumber);
  const orderRow = await db('orders').where({ id: orderId }).first();
  const po = ((await events.bySeq(db, num(orderRow.event_seq)))?.data ?? {}) as Obj;
  const lineRows = (await orders.lines(db, orderId)).filter((r) => !r.parent_line);
  // Quantities go back in the PO line's unit (SN1 as the retailer ordered), exactly.
  const inLineUnit = (base: number, factor: number | null | undefined) => fromBaseExact(base, factor ?? QTY_SCALE);
  const poLines: PoLine[] = ((po.lines as Obj[] | undefined) ?? []).map((l) => {
    const row = lineRows.find((r) => r.line_number === String(l.lineNumber));
    const before = (row?.shipped ?? 0) - (shippedNow.get(`${orderId}:${row?.line_number}`) ?? 0);
    return { lineNumber: String(l.lineNumber), ids: ((l.item as Obj)?.ids as Record<string, string>) ?? {}, ordered: String(l.quantity), shippedBefore: fromUnits(inLineUnit(before, row?.uom_factor) ?? before), uom: String(l.uom ?? 'EA') };
  });
  const lineOfItem = new Map(lineRows.map((r) => [r.item, r]));

  const packs: AsnPack[] = [];
  const packList = (o.packs as Obj[] | undefined) ?? [];
  // Serials for the packs the 3PL gave no SSCC (and the pallet in S-O-T-P-I), allocated at once
  // from the GS1 company prefix's counter: partners that share our prefix share its serials.
  const maxSerial = 10 ** (16 - cfg.gs1CompanyPrefix.length) - 1;
  const needed = packList.filter((p) => typeof p.sscc !== 'string' || !p.sscc).length + (cfg.structure === 'SOTPI' ? 1 : 0);
  let serial = needed ? await counters.ssccBlock(db, cfg.gs1CompanyPrefix, needed, maxSerial) : 0;
  for (const p of packList) {
    let sscc = typeof p.sscc === 'string' ? (normaliseSscc(p.sscc) ?? p.sscc) : '';
    if (!sscc) sscc = makeSscc(cfg.gs1CompanyPrefix, serial++);
    const items = ((p.items as Obj[] | undefined) ?? []).map((it) => {
      const r = resolvedOf(it);
      const row = (r?.lineNumber ? lineRows.find((x) => x.line_number === r.lineNumber) : undefined) ?? (r ? lineOfItem.get(r.item) : undefined);
      const lineNumber = row?.line_number ?? String(it.lineNumber ?? '?');
      const ids = poLines.find((l) => l.lineNumber === lineNumber)?.ids ?? ((it.item as Obj)?.ids as Record<string, string>) ?? {};
      const q = cfg.idQualifiers.find((x) => ids[x]) ?? Object.keys(ids)[0] ?? 'SK';
      const exact = r && row ? inLineUnit(r.base, row.uom_factor) : null;
      const quantity = exact !== null ? fromUnits(exact) : String(it.quantity);
      const uom = exact !== null ? String(row?.uom ?? 'EA') : String(it.uom ?? 'EA');
      return { lineNumber, qualifier: q, id: ids[q] ?? String(r?.item ?? '?'), quantity, uom };
    });
    packs.push({ sscc, items });
  }
  const shipTo = (po.shipTo as Obj | undefined) ?? {};
  const from = (data.from as Obj | undefined) ?? {};
  const asn: Asn = {
    shipmentId: String(data.shipmentId),
    shipDate: String(data.shipDate),
    carrier: data.carrier as string | undefined,
    tracking: data.tracking as string | undefined,
    billOfLading: data.billOfLading as string | undefined,
    weight: data.weight as string | undefined,
    shipFrom: { id: String(from.location ?? from.id ?? lineRows.find((r) => r.location)?.location ?? ''), name: from.name as string | undefined },
    shipTo: { id: String(shipTo.id ?? ''), qualifier: String(shipTo.qualifier ?? '92'), name: shipTo.name as string | undefined },
    poNumber,
    poDate: po.poDate as string | undefined,
    structure: cfg.structure,
    packs,
  };
  if (cfg.structure === 'SOTPI') asn.tareSscc = makeSscc(cfg.gs1CompanyPrefix, serial++);
  const ssccs = [asn.tareSscc, ...packs.map((p) => p.sscc)].filter((s): s is string => !!s);
  const used = new Set((await db('ssccs').whereIn('sscc', ssccs).select('sscc')).map((r) => String(r.sscc)));
  const sep = partner.x12.separators;
  const problems = [...checkAsn(asn, poLines, { allowOverShipment: cfg.allowOverShipment, usedSsccs: used }), ...delimiterProblems(asn, [sep.element, sep.component, sep.segment, sep.repetition])];
  if (!asn.shipTo.id) problems.push({ code: 'GW_ASN_ITEM_NOT_ON_PO', message: `PO ${poNumber} has no ship-to` });
  const now = ctx.now.toISOString();
  const refuse = async (why: { code: string; message: string }[]): Promise<AsnOutcome> => {
    await db('asns').insert({ partner_id: partner.id, po_number: poNumber, shipment_id: asn.shipmentId, event_seq: eventSeq, status: 'REFUSED', reason: JSON.stringify(why), created_at: now }).onConflict(['partner_id', 'shipment_id', 'po_number']).ignore();
    return { poNumber, partnerId: partner.id, status: 'REFUSED', problems: why.map((p) => `${p.code}: ${p.message}`) };
  };
  if (problems.length) return refuse(problems);
  const env = await envelopeTo(db, ctx.partners, partner, ctx.now);
  const content = build856(asn, env);
  // Checked by the 856 grammar (where we have one) before it is released: ours to fix, never sent.
  const bad = nonconformance(content, `856 for PO ${poNumber} to ${partner.id}`);
  if (bad) return refuse([{ code: bad.code, message: bad.message }]);
  const { isa13, gsControl: gs } = env;
  const [row] = await db('asns').insert({ partner_id: partner.id, po_number: poNumber, shipment_id: asn.shipmentId, event_seq: eventSeq, status: 'QUEUED', isa13, created_at: now }).returning('id');
  const asnId = num(typeof row === 'object' ? (row as { id: unknown }).id : row);
  for (let i = 0; i < ssccs.length; i += 500) await db('ssccs').insert(ssccs.slice(i, i + 500).map((sscc) => ({ sscc, partner_id: partner.id, asn_id: asnId })));
  const flow = await db('orders').where({ partner_id: partner.id, po_number: poNumber }).first('correlation_id');
  await outbox.enqueue(db, { partnerId: partner.id, kind: '856', sourceDocumentId: null, sourceRef: `856:${partner.id}:${asn.shipmentId}:${poNumber}`, filename: `856_${isa13}.x12`, content, isa13, gs06: String(gs), createdAt: now, correlationId: flow?.correlation_id ?? null });
  return { poNumber, partnerId: partner.id, status: 'QUEUED', problems: [], isa13 };
}

