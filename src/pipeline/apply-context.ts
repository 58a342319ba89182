import { reject, type Rejection } from '../core/rejection.ts';
import type { ErrorCode } from '../core/errors.ts';
import { units, type AllocationRule, type Movement } from '../domain/availability.ts';
import type { CanonicalEvent } from '../domain/events.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import { toBase, type LinePack } from '../domain/units.ts';
import { crosswalkLookup, type CrosswalkIndex } from '../mapping/crosswalk.ts';
import type { Db } from '../store/db.ts';
import { resolveItems, type Resolved } from '../store/item-repository.ts';
import type { AsnOutcome } from './asn.ts';

/**
 * What applying a document's events works with (its transaction, partners, rules) and what it
 * reports, and the helpers every kind of event uses: coded problems at the event's source, item
 * identity, quantities in base units.
 */
export interface ApplyContext {
  db: Db;
  documentId: number;
  at: string;
  partners: PartnerDirectory;
  allocation: (partnerId: string) => AllocationRule;
  /** The crosswalk a partner's documents are read with. */
  crosswalk: (partnerId: string) => CrosswalkIndex | null;
  /** For outbound ASNs when a retailer's PO ships (absent: no ASNs, e.g. dry runs). */
  asn?: { partners: PartnerDirectory; now: Date };
  /** How long a document waits for what it refers to (default 24 h). */
  waitMs?: number;
}

export interface ApplyResult {
  movements: number;
  divergences: number;
  backordered: number;
  asns: AsnOutcome[];
  /** Line problems found while applying (unconvertible units, id conflicts, unknown items). */
  rejections: Rejection[];
  oversells: number;
  filled: number;
  /** Events not applied because they were applied before (same business key and content). */
  duplicates: number;
  /** Events held: waiting for what they refer to, or in conflict with what was applied under their key. */
  waiting: number;
  conflicts: number;
  /** Held events of earlier documents applied because what they waited for arrived. */
  released: number;
  /** Movements those held events made (they are their own documents'). */
  releasedMovements: number;
  /** Keys of what arrived in this step (an order: po:<partner>:<po>); what waits for them is applied next. */
  arrived: string[];
}

export const emptyApplyResult = (): ApplyResult => ({ movements: 0, divergences: 0, backordered: 0, asns: [], rejections: [], oversells: 0, filled: 0, duplicates: 0, waiting: 0, conflicts: 0, released: 0, releasedMovements: 0, arrived: [] });

export type Obj = Record<string, unknown>;

/** Append movements to the log and move the positions (the document's, in its transaction). */
export type ApplyMovements = (list: Movement[]) => Promise<void>;


export function problem(e: CanonicalEvent, code: ErrorCode, detail: string, value?: string): Rejection {
  return reject(code, detail, { isa13: e.source.isa13, gs06: e.source.gs06, st02: e.source.st02, segmentIndex: e.source.segmentIndex, ...(value ? { value: value.slice(0, 128) } : {}) });
}

/**
 * Resolve the items of these lines (objects with an `item`): our item key, or the line's problem
 * (its ids name two SKUs, or it has no id at all).
 */
export async function resolveAll(ctx: ApplyContext, e: CanonicalEvent, lines: Obj[]): Promise<(string | Rejection)[]> {
  const asked = lines.map((l) => (l.item as { sku?: string; ids?: Record<string, string> } | undefined) ?? {});
  const resolved: Resolved[] = await resolveItems(ctx.db, e.partner, asked, crosswalkLookup(ctx, e.partner), { partnerId: e.partner, documentId: ctx.documentId, set: e.source.setId ?? e.type, at: ctx.at });
  return resolved.map((r, i) => {
    if (r && 'item' in r) return r.item;
    const text = Object.entries(asked[i].ids ?? {}).map(([q, v]) => `${q}=${v}`).join(', ');
    return r ? problem(e, 'GW_ITEM_ID_CONFLICT', `${text} name ${r.conflict.join(' and ')}`, text) : problem(e, 'GW_ITEM_UNKNOWN', `no item id on the line (${text || 'none'})`, text);
  });
}

export function packOf(l: Obj): LinePack | undefined {
  const p = l.pack as Obj | undefined;
  if (!p) return undefined;
  return { pack: p.pack as string | undefined, size: p.size as string | undefined, sizeUnit: p.sizeUnit as string | undefined };
}

/** A quantity of a line in base units, or a problem. */
export function baseQty(ctx: ApplyContext, e: CanonicalEvent, item: string, text: unknown, uom: unknown, pack: LinePack | undefined): { base: number; factor: number } | { problem: Rejection } | null {
  const q = units(text);
  if (q === undefined) return null;
  const c = toBase(ctx.partners.items, item, q, typeof uom === 'string' ? uom : undefined, pack);
  if (!c.ok) return { problem: problem(e, 'GW_UOM_UNCONVERTIBLE', c.reason, `${text} ${uom ?? ''}`) };
  return { base: c.base, factor: c.factor };
}

/** Several named quantities of one line in base units (absent ones stay absent), or the first problem. */
export function baseQtys(ctx: ApplyContext, e: CanonicalEvent, item: string, l: Obj, named: [string, unknown][]): Record<string, number | undefined> | Rejection {
  const pack = packOf(l);
  const conv: Record<string, number | undefined> = {};
  for (const [name, text] of named) {
    const r = baseQty(ctx, e, item, text, l.uom, pack);
    if (r && 'problem' in r) return r.problem;
    if (r) conv[name] = r.base;
  }
  return conv;
}

export const isProblem = (x: unknown): x is Rejection => typeof x === 'object' && x !== null && 'code' in x;
