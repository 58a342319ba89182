import { reject, type Rejection } from '../core/rejection.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { TransactionSet } from '../x12/envelope-types.ts';
import { buildHlTree, DEFAULT_HL_CHILDREN, hlDescendants, type HlNode } from '../x12/hl-tree.ts';
import type { Segment } from '../x12/segment-reader.ts';
import { normaliseSscc } from '../x12/sscc.ts';
import { isValidDate, isValidTime, isoDate } from '../x12/x12-codes.ts';
import type { CompiledMapping, Field, LoopRef, Node, ValueType } from './compile.ts';
import type { CrosswalkIndex } from './crosswalk.ts';
import { matches, type ElementPath, type SegmentMatcher } from './path.ts';

/** The result of mapping one transaction set: the event type and its data, or rejections. */
export interface MappedSet {
  eventType: string | null;
  data: Record<string, unknown> | null;
  /** Segment ordinal (in the file) the event comes from: the ST. */
  segmentIndex: number;
  rejections: Rejection[];
  /** Rejections that call an element missing where the segment has it (see notePresent). */
  present: Set<Rejection>;
}

export interface Scope {
  segs: Segment[];
  header: Segment[];
  /** HL nodes below the current one (or the roots): where `hl` scopes search. */
  hl: HlNode[];
  /** Position of the scope, for "missing" rejections. */
  first: Segment;
}

export interface Ctx {
  component: string;
  setStart: number;
  rejections: Rejection[];
  /** Rejections counted but not kept (beyond MAX_REJECTIONS_PER_SET, while streaming). */
  dropped: number;
  crosswalk: CrosswalkIndex | null;
  seen: Map<Node, Set<string>>;
  unknownItems: number;
  unknownItemNote: Rejection | null;
}

export const MAX_REJECTIONS_PER_SET = 500;

export function runInboundMapping(set: TransactionSet, mapping: CompiledMapping, crosswalk: CrosswalkIndex | null): MappedSet {
  return mapSegments(set.segments, set.interchange.delimiters.component, mapping, crosswalk);
}

export function newCtx(component: string, setStart: number, crosswalk: CrosswalkIndex | null): Ctx {
  return { component, setStart, rejections: [], dropped: 0, crosswalk, seen: new Map(), unknownItems: 0, unknownItemNote: null };
}

/** Map a transaction set held whole (ST..SE): what a mapping over an HL tree needs. */
export function mapSegments(segs: Segment[], component: string, mapping: CompiledMapping, crosswalk: CrosswalkIndex | null): MappedSet {
  const st = segs[0];
  const ctx = newCtx(component, st.index, crosswalk);
  let roots: HlNode[] = [];
  let header: Segment[];
  if (mapping.hierarchy) {
    const tree = buildHlTree(segs, st.index, { ...DEFAULT_HL_CHILDREN, ...mapping.hierarchy });
    roots = tree.roots;
    header = tree.header;
    for (const r of tree.rejections) ctx.rejections.push(r);
  } else {
    const cut = segs.findIndex((s, i) => i > 0 && mapping.detailStarts.has(s.tag));
    header = cut < 0 ? segs : segs.slice(0, cut);
  }
  for (const tag of mapping.requiredSegments) {
    if (!segs.some((s) => s.tag === tag)) ctx.rejections.push(requiredMissing(tag, st));
  }
  const scope: Scope = { segs, header, hl: roots, first: st };
  const data = runFields(mapping.fields, scope, ctx);
  for (const c of mapping.checks) {
    if (c.within) {
      const w = new WithinCheck(c, ctx);
      for (const s of segs) if (!w.feed(s)) break;
      continue;
    }
    let n = 0;
    let over: Segment | undefined;
    for (const s of segs) {
      if (s.tag === c.count.tag && matches(s.elements, c.count.conditions) && ++n === (c.max ?? -1) + 1) over = s;
    }
    countCheck(c, n, over, c.equals ? find(segs, c.equals.tag, c.equals.conditions) : undefined, ctx);
  }
  const present = new Set<Rejection>();
  notePresent(ctx.rejections, 0, segs, ctx, present);
  return finishMapped(mapping, header, data, st.index, ctx, present);
}

export function requiredMissing(tag: string, st: Segment): Rejection {
  return reject('GW_MAP_SEGMENT_MISSING', tag, { segmentTag: tag, setPosition: 2, segmentIndex: st.index + 1 });
}

/** A count check's verdict: at most `max`, and the count an element declares (CTT01). */
export function countCheck(c: CompiledMapping['checks'][number], counted: number, over: Segment | undefined, equalsSeg: Segment | undefined, ctx: Ctx): void {
  if (c.max !== undefined && counted > c.max && over) {
    ctx.rejections.push(reject('GW_X12_LOOP_OVER_MAX', `${counted} ${c.count.tag} (at most ${c.max} in one set: split the feed)`, where(over, ctx)));
  }
  if (!c.equals || !equalsSeg) return;
  const declared = element(equalsSeg, c.equals, ctx.component);
  if (declared !== '' && Number(declared) !== counted) {
    ctx.rejections.push(
      reject('GW_X12_COUNT_MISMATCH', `${c.equals.text} is ${declared} but there are ${counted} ${c.count.tag} segments`, {
        ...where(equalsSeg, ctx),
        element: c.equals.element,
        value: declared,
      }),
    );
  }
}

/**
 * Rejections from `from` on that say an element is missing (AK4 1) where the segment they point at
 * has it: the mapping asked for something else there (another qualifier). Noted while the
 * segments are at hand, so a caller never needs the set again.
 */
export function notePresent(rejections: Rejection[], from: number, segs: Segment[], ctx: Ctx, into: Set<Rejection>): void {
  for (let i = from; i < rejections.length; i++) {
    const r = rejections[i];
    if (r.x12?.ak4 !== '1' || !r.setPosition || !r.element) continue;
    const index = ctx.setStart + r.setPosition - 1;
    for (const s of segs) {
      if (s.index !== index) continue;
      if (s.tag === r.segmentTag && (s.elements[r.element] ?? '') !== '') into.add(r);
      break;
    }
  }
}

/** The event type, the note on unknown items and the cap on rejections: the end of every mapping. */
export function finishMapped(mapping: CompiledMapping, header: Segment[], data: Record<string, unknown>, stIndex: number, ctx: Ctx, present: Set<Rejection>): MappedSet {
  if (ctx.unknownItemNote && ctx.unknownItems > 1) ctx.unknownItemNote.message += ` (and ${ctx.unknownItems - 1} more items in this set)`;
  let eventType: string;
  if ('fixed' in mapping.event) eventType = mapping.event.fixed;
  else {
    const seg = find(header, mapping.event.path.tag, mapping.event.path.conditions);
    const code = seg ? element(seg, mapping.event.path, ctx.component) : '';
    eventType = mapping.event.codes[code] ?? mapping.event.default;
  }
  // A set with a problem on every line of a large feed must not hold a million rejections.
  const total = ctx.rejections.length + ctx.dropped;
  if (total > MAX_REJECTIONS_PER_SET) {
    const more = total - MAX_REJECTIONS_PER_SET;
    ctx.rejections.length = MAX_REJECTIONS_PER_SET;
    ctx.rejections[MAX_REJECTIONS_PER_SET - 1].message += ` (${more} more problems in this set are not listed)`;
  }
  return { eventType, data, segmentIndex: stIndex, rejections: ctx.rejections, present };
}

/**
 * A check inside each instance of a loop: at most `max` of the segments, and none after a
 * segment of `notAfter` (an N1 after the QTYs of an 846 LIN loop is out of place, not a guess).
 * Fed segment by segment; `feed` says false once the check has nothing more to see (CTT, SE).
 */
export class WithinCheck {
  private inLoop = false;
  private n = 0;
  private after: string | null = null;
  private done = false;

  constructor(
    private readonly c: CompiledMapping['checks'][number],
    private readonly ctx: Ctx,
  ) {}

  feed(s: Segment): boolean {
    const c = this.c;
    if (this.done) return false;
    if (s.tag === c.within) {
      this.inLoop = true;
      this.n = 0;
      this.after = null;
      return true;
    }
    if (!this.inLoop) return true;
    if (s.tag === 'CTT' || s.tag === 'SE') {
      this.done = true;
      return false;
    }
    if (c.notAfter?.has(s.tag)) this.after ??= s.tag;
    if (s.tag !== c.count.tag || !matches(s.elements, c.count.conditions)) return true;
    this.n++;
    if (this.after) this.ctx.rejections.push(reject('GW_X12_SEGMENT_OUT_OF_PLACE', `${s.tag} after ${this.after} inside a ${c.within} loop`, where(s, this.ctx)));
    else if (c.max !== undefined && this.n > c.max) this.ctx.rejections.push(reject('GW_X12_SEGMENT_OUT_OF_PLACE', `more than ${c.max} ${c.count.tag} in one ${c.within} loop (which one applies is ambiguous)`, where(s, this.ctx)));
    return true;
  }
}

export function where(seg: Segment, ctx: Ctx) {
  return { segmentIndex: seg.index, setPosition: seg.index - ctx.setStart + 1, segmentTag: seg.tag };
}

export function find(segs: Segment[], tag: string, conditions: ElementPath['conditions']): Segment | undefined {
  for (const s of segs) if (s.tag === tag && matches(s.elements, conditions)) return s;
  return undefined;
}

export function element(seg: Segment, p: ElementPath, component: string): string {
  let v = seg.elements[p.element] ?? '';
  if (p.component !== undefined) v = v.split(component)[p.component - 1] ?? '';
  return v.trim();
}

export function runFields(fields: Field[], scope: Scope, ctx: Ctx): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = runNode(f.node, f.name, scope, ctx);
    if (v !== undefined) out[f.name] = v;
  }
  return out;
}

function hlScope(scope: Scope, level: string | undefined): Scope | null {
  if (!level) return scope;
  const node = hlDescendants(scope.hl, [level])[0];
  if (!node) return null;
  return { segs: node.segments, header: scope.header, hl: node.children, first: node.segments[0] };
}

function runNode(node: Node, name: string, scope: Scope, ctx: Ctx): unknown {
  switch (node.kind) {
    case 'const':
      return node.value;
    case 'scalar':
      return runScalar(node, name, scope, ctx);
    case 'itemIds':
      return runItemIds(node, name, scope, ctx);
    case 'collect': {
      const s = hlScope(scope, node.hl);
      if (!s) return undefined;
      const out: Record<string, unknown> = {};
      const other: Record<string, unknown> = {};
      for (const seg of s.segs) {
        if (seg.tag !== node.matcher.tag || !matches(seg.elements, node.matcher.conditions)) continue;
        const key = element(seg, node.key, ctx.component);
        const raw = element(seg, node.value, ctx.component);
        if (raw === '') continue;
        const v = convert(raw, node.type, seg, node.value, ctx);
        if (v === undefined) continue;
        const named = node.codes[key];
        if (named) out[named] = v;
        else if (node.others === 'keep' && key) other[key] = v;
      }
      if (Object.keys(other).length) out.other = other;
      return Object.keys(out).length ? out : undefined;
    }
    case 'group': {
      let s = hlScope(scope, node.hl);
      if (s && node.loop) {
        const inst = loopInstances(s.segs, node.loop)[0];
        s = inst ? { segs: inst, header: s.header, hl: s.hl, first: inst[0] } : null;
      }
      if (!s) {
        if (node.required) missing(node.loop?.matcher.tag ?? `HL ${node.hl}`, name, scope, ctx);
        return undefined;
      }
      return runFields(node.fields, s, ctx);
    }
    case 'list': {
      const scopes: Scope[] = [];
      if (node.each) {
        for (const inst of loopInstances(scope.segs, node.each)) scopes.push({ segs: inst, header: scope.header, hl: scope.hl, first: inst[0] });
      } else {
        for (const n of hlDescendants(scope.hl, node.eachHl!, node.outside)) {
          scopes.push({ segs: n.segments, header: scope.header, hl: n.children, first: n.segments[0] });
        }
      }
      if (!scopes.length && node.required) missing(node.each?.matcher.tag ?? `HL ${node.eachHl!.join('/')}`, name, scope, ctx);
      return scopes.map((s) => runFields(node.fields, s, ctx));
    }
  }
}

function missing(tag: string, name: string, scope: Scope, ctx: Ctx): void {
  ctx.rejections.push(
    reject('GW_MAP_SEGMENT_MISSING', `${tag} (for ${name})`, {
      segmentIndex: scope.first.index,
      setPosition: scope.first.index - ctx.setStart + 1,
      segmentTag: tag.slice(0, 3),
    }),
  );
}

export function loopInstances(segs: Segment[], loop: LoopRef): Segment[][] {
  const out: Segment[][] = [];
  const { tag, conditions } = loop.matcher;
  for (let i = 0; i < segs.length; i++) {
    if (segs[i].tag !== tag) continue;
    let j = i + 1;
    while (j < segs.length) {
      const t = segs[j].tag;
      if (t === tag || (loop.members ? !loop.members.has(t) : loop.until.has(t))) break;
      j++;
    }
    if (matches(segs[i].elements, conditions)) out.push(segs.slice(i, j));
    i = j - 1;
  }
  return out;
}

function runScalar(node: Extract<Node, { kind: 'scalar' }>, name: string, scope0: Scope, ctx: Ctx): unknown {
  const scope = hlScope(scope0, node.hl);
  let seg: Segment | undefined;
  let raw = '';
  let used: ElementPath | undefined;
  let firstSeg: Segment | undefined;
  if (scope) {
    for (const p of node.paths) {
      const s = find(p.header ? scope.header : scope.segs, p.tag, p.conditions);
      if (!s) continue;
      firstSeg ??= s;
      const v = element(s, p, ctx.component);
      if (v !== '') {
        seg = s;
        raw = v;
        used = p;
        break;
      }
    }
  }
  if (!seg || !used) {
    if (node.default !== undefined) return node.default;
    if (node.required) {
      const p = node.paths[0];
      if (firstSeg) {
        ctx.rejections.push(reject('GW_MAP_ELEMENT_MISSING', `${p.text} (for ${name})`, { ...where(firstSeg, ctx), element: p.element, component: p.component }));
      } else {
        missing(p.tag, name, scope ?? scope0, ctx);
      }
    }
    return undefined;
  }
  if (node.pattern && !node.pattern.test(raw)) {
    ctx.rejections.push(reject('GW_MAP_INVALID_FORMAT', `${used.text} ${JSON.stringify(raw)} does not match ${node.pattern.source}`, { ...where(seg, ctx), element: used.element, component: used.component, value: raw }));
    return undefined;
  }
  let value: unknown = convert(raw, node.type, seg, used, ctx);
  if (value === undefined) return undefined;
  if (node.codes) {
    const c = node.codes[raw];
    if (c !== undefined) value = c;
    else if (node.strictCodes) {
      ctx.rejections.push(reject('GW_MAP_INVALID_CODE', `${used.text} ${JSON.stringify(raw)} (allowed: ${Object.keys(node.codes).join(', ')})`, { ...where(seg, ctx), element: used.element, value: raw }));
      return undefined;
    }
  }
  if (node.unique) {
    let seen = ctx.seen.get(node);
    if (!seen) ctx.seen.set(node, (seen = new Set()));
    const key = String(value);
    if (seen.has(key)) {
      const code: ErrorCode = node.type === 'sscc' ? 'GW_X12_SSCC_REPEATED' : 'GW_MAP_INVALID_CODE';
      ctx.rejections.push(reject(code, `${used.text} ${key} repeated`, { ...where(seg, ctx), element: used.element, value: raw }));
    }
    seen.add(key);
  }
  return value;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** Exact decimal text: no float rounding, no leading zeros, no exponent. */
export function normaliseDecimal(raw: string): string {
  // Most quantities are plain digits with no leading zero: already normal.
  const c0 = raw.charCodeAt(0);
  if (c0 > 0x30 && c0 <= 0x39) {
    let i = 1;
    while (i < raw.length && raw.charCodeAt(i) >= 0x30 && raw.charCodeAt(i) <= 0x39) i++;
    if (i === raw.length) return raw;
  }
  let s = raw.startsWith('+') ? raw.slice(1) : raw;
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  let [int, frac = ''] = s.split('.');
  int = int.replace(/^0+(?=\d)/, '') || '0';
  frac = frac.replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  return neg && out !== '0' ? `-${out}` : out;
}

function invalid(code: ErrorCode, detail: string, seg: Segment, p: ElementPath, raw: string, ctx: Ctx): undefined {
  ctx.rejections.push(reject(code, detail, { ...where(seg, ctx), element: p.element, component: p.component, value: raw }));
  return undefined;
}

function convert(raw: string, type: ValueType, seg: Segment, p: ElementPath, ctx: Ctx): unknown {
  switch (type) {
    case 'string':
      return raw;
    case 'decimal':
      if (!DECIMAL.test(raw)) return invalid('GW_MAP_INVALID_NUMBER', `${p.text} ${JSON.stringify(raw)}`, seg, p, raw, ctx);
      return normaliseDecimal(raw);
    case 'integer':
      if (!/^[+-]?\d+$/.test(raw)) return invalid('GW_MAP_INVALID_NUMBER', `${p.text} ${JSON.stringify(raw)} is not an integer`, seg, p, raw, ctx);
      return normaliseDecimal(raw);
    case 'date':
      if (!isValidDate(raw)) return invalid('GW_MAP_INVALID_DATE', `${p.text} ${JSON.stringify(raw)}`, seg, p, raw, ctx);
      return isoDate(raw);
    case 'time':
      if (!isValidTime(raw)) return invalid('GW_MAP_INVALID_TIME', `${p.text} ${JSON.stringify(raw)}`, seg, p, raw, ctx);
      return raw.length >= 6 ? `${raw.slice(0, 2)}:${raw.slice(2, 4)}:${raw.slice(4, 6)}` : `${raw.slice(0, 2)}:${raw.slice(2, 4)}`;
    case 'sscc': {
      const s = normaliseSscc(raw);
      return s ?? invalid('GW_X12_SSCC_INVALID', `${p.text} ${JSON.stringify(raw)}`, seg, p, raw, ctx);
    }
  }
}

function runItemIds(node: Extract<Node, { kind: 'itemIds' }>, name: string, scope: Scope, ctx: Ctx): unknown {
  const seg = find(scope.segs, node.path.tag, node.path.conditions);
  const ids: Record<string, string> = {};
  for (const [q, p] of node.fixed) {
    const v = find(scope.segs, p.tag, p.conditions)?.elements[p.element]?.trim();
    if (v) ids[q] = v;
  }
  if (seg) {
    for (let k = node.path.element; k + 1 < seg.elements.length; k += 2) {
      const q = seg.elements[k].trim();
      const v = seg.elements[k + 1].trim();
      if (q && v && !(q in ids)) ids[q] = v;
    }
  }
  if (!Object.keys(ids).length) {
    if (node.required) {
      if (seg) ctx.rejections.push(reject('GW_MAP_ELEMENT_MISSING', `${node.path.text} (item id for ${name})`, { ...where(seg, ctx), element: node.path.element }));
      else missing(node.path.tag, name, scope, ctx);
    }
    return undefined;
  }
  const item: { sku?: string; ids: Record<string, string> } = { ids };
  if (ctx.crosswalk) {
    const sku = ctx.crosswalk.lookup(ids);
    if (sku) item.sku = sku;
    else if (seg) {
      // One warning per set however many items are unknown (a feed can have a million lines).
      if (ctx.unknownItems++ === 0) {
        ctx.rejections.push(reject('GW_ITEM_UNKNOWN', Object.entries(ids).map(([q, v]) => `${q}=${v}`).join(', '), { ...where(seg, ctx), element: node.path.element }));
        ctx.unknownItemNote = ctx.rejections[ctx.rejections.length - 1];
      }
    }
  }
  return item;
}

export type { SegmentMatcher };
