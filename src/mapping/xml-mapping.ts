import { z } from 'zod';
import { reject, type Rejection } from '../core/rejection.ts';
import { isValidDate } from '../x12/x12-codes.ts';
import type { XmlNode } from '../xml/read-xml.ts';
import type { CrosswalkIndex } from './crosswalk.ts';
import type { MappingProblem } from './compile.ts';
import { EVENT_TYPES } from './schema.ts';
import { normaliseDecimal } from './run-inbound.ts';

/**
 * Declarative XML mapping configs (`mappings/<scope>/<name>.xml.yaml`): which documents they take
 * (root element and a path that must exist), which elements always repeat, the event type, and
 * fields read by paths into the document:
 *
 *   Request.ShipNoticeRequest.ShipNoticeHeader.@shipmentID     an attribute
 *   ShipControl.CarrierIdentifier[@domain=SCAC]                 an element whose attribute matches
 *   Line[Status=SHIPPED].Qty                                   ... whose child element matches
 *   ^Header.From.Credential.Identity                            from the root element
 *   .                                                          the current element's text
 *
 * Field kinds as for X12: a path (or fallbacks), a scalar with type/required/default/codes, a
 * constant, item ids by qualifier, a group ({ path?, fields }), a list ({ each, fields }).
 */
const Scalar = z
  .object({
    path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    type: z.enum(['string', 'decimal', 'integer', 'date', 'datetime']).optional(),
    required: z.boolean().optional(),
    default: z.string().optional(),
    codes: z.record(z.string(), z.string()).optional(),
    strictCodes: z.boolean().optional(),
  })
  .strict();

export const XmlMappingSchema = z
  .object({
    version: z.literal(1),
    format: z.literal('xml'),
    description: z.string().optional(),
    match: z.object({ root: z.string().min(1), has: z.string().optional() }).strict(),
    repeat: z.array(z.string()).default([]),
    event: z.enum(EVENT_TYPES),
    fields: z.record(z.string(), z.unknown()),
  })
  .strict();

type Step = { name: string; cond?: { attr?: string; child?: string; value: string } };
interface XPath {
  text: string;
  fromRoot: boolean;
  steps: Step[];
  /** Final attribute, when the path ends in @name. */
  attr?: string;
}

type XNode =
  | { kind: 'scalar'; paths: XPath[]; type: string; required: boolean; default?: string; codes?: Record<string, string>; strictCodes: boolean }
  | { kind: 'const'; value: unknown }
  | { kind: 'itemIds'; ids: [string, XPath][]; required: boolean }
  | { kind: 'group'; path?: XPath; fields: [string, XNode][] }
  | { kind: 'list'; each: XPath; fields: [string, XNode][]; required: boolean };

export interface CompiledXmlMapping {
  id: string;
  source: string;
  root: string;
  has?: XPath;
  repeat: Set<string>;
  event: string;
  fields: [string, XNode][];
}

function parseXPath(text: string): XPath | string {
  if (text === '.') return { text, fromRoot: false, steps: [] };
  const fromRoot = text.startsWith('^');
  const body = fromRoot ? text.slice(1) : text;
  const parts = body.split('.');
  const steps: Step[] = [];
  let attr: string | undefined;
  for (const [i, p] of parts.entries()) {
    if (p.startsWith('@')) {
      if (i !== parts.length - 1 || !/^@[A-Za-z_][\w.-]*$/.test(p)) return `"${text}": @attribute only as the last step`;
      attr = p.slice(1);
      continue;
    }
    const m = /^([A-Za-z_][\w-]*)(?:\[(@?)([A-Za-z_][\w-]*)=([^\]]*)\])?$/.exec(p);
    if (!m) return `"${text}": cannot read the step "${p}"`;
    steps.push({ name: m[1], cond: m[3] ? { ...(m[2] ? { attr: m[3] } : { child: m[3] }), value: m[4] } : undefined });
  }
  if (!steps.length && !attr) return `"${text}" is empty`;
  return { text, fromRoot, steps, attr };
}

export function compileXmlMapping(doc: unknown, file: string, id: string): { mapping?: CompiledXmlMapping; problems: MappingProblem[] } {
  const problems: MappingProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ file, path: path.join('.') || '(root)', message });
  const top = XmlMappingSchema.safeParse(doc);
  if (!top.success) {
    for (const i of top.error.issues) add(i.path as (string | number)[], i.message);
    return { problems };
  }
  const path1 = (t: string, at: (string | number)[]) => {
    const p = parseXPath(t);
    if (typeof p === 'string') return void add(at, p);
    return p;
  };
  const fields = (f: Record<string, unknown>, at: (string | number)[]): [string, XNode][] =>
    Object.entries(f)
      .map(([k, v]) => [k, node(v, [...at, k])] as [string, XNode | undefined])
      .filter((e): e is [string, XNode] => !!e[1]);
  const node = (spec: unknown, at: (string | number)[]): XNode | undefined => {
    if (typeof spec === 'string' || (Array.isArray(spec) && spec.every((x) => typeof x === 'string'))) spec = { path: spec };
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return void add(at, 'a field is a path or an object');
    const o = spec as Record<string, unknown>;
    if ('fields' in o) {
      if (typeof o.fields !== 'object' || !o.fields) return void add([...at, 'fields'], 'fields must be an object');
      const extra = Object.keys(o).filter((k) => !['fields', 'each', 'path', 'required'].includes(k));
      if (extra.length) return void add(at, `unknown keys: ${extra.join(', ')}`);
      if (typeof o.each === 'string') {
        const each = path1(o.each, [...at, 'each']);
        return each && { kind: 'list', each, fields: fields(o.fields as Record<string, unknown>, [...at, 'fields']), required: o.required === true };
      }
      const p = typeof o.path === 'string' ? path1(o.path, [...at, 'path']) : undefined;
      return { kind: 'group', path: p, fields: fields(o.fields as Record<string, unknown>, [...at, 'fields']) };
    }
    if ('value' in o) return { kind: 'const', value: o.value };
    if ('itemIds' in o) {
      const ids = o.itemIds as Record<string, unknown>;
      if (!ids || typeof ids !== 'object') return void add([...at, 'itemIds'], 'itemIds maps qualifiers (UP, VN, BP, ...) to paths');
      const list: [string, XPath][] = [];
      for (const [q, t] of Object.entries(ids)) {
        if (!/^[A-Z0-9]{2}$/.test(q) || typeof t !== 'string') {
          add([...at, 'itemIds', q], 'a 2-character qualifier and a path');
          continue;
        }
        const p = path1(t, [...at, 'itemIds', q]);
        if (p) list.push([q, p]);
      }
      return { kind: 'itemIds', ids: list, required: o.required === true };
    }
    const r = Scalar.safeParse(o);
    if (!r.success) {
      for (const i of r.error.issues) add([...at, ...(i.path as (string | number)[])], i.message);
      return undefined;
    }
    const texts = Array.isArray(r.data.path) ? r.data.path : [r.data.path];
    const paths = texts.map((t) => path1(t, [...at, 'path'])).filter((p): p is XPath => !!p);
    if (paths.length !== texts.length) return undefined;
    return { kind: 'scalar', paths, type: r.data.type ?? 'string', required: r.data.required ?? false, default: r.data.default, codes: r.data.codes, strictCodes: r.data.strictCodes ?? false };
  };
  const m = top.data;
  const has = m.match.has ? path1(m.match.has, ['match', 'has']) : undefined;
  const compiled = fields(m.fields, ['fields']);
  if (problems.length) return { problems };
  return { problems, mapping: { id, source: file, root: m.match.root, has, repeat: new Set(m.repeat), event: m.event, fields: compiled } };
}

// ---- running ----

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function textOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && '#text' in (v as object)) return String((v as XmlNode)['#text']);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function stepMatches(n: unknown, cond: Step['cond']): boolean {
  if (!cond) return true;
  if (!n || typeof n !== 'object') return false;
  const o = n as XmlNode;
  const v = cond.attr ? o[`@${cond.attr}`] : textOf(asArray(o[cond.child!])[0]);
  return v === cond.value;
}

/** Every node the path reaches (all matching occurrences at every step). */
function walk(scope: unknown, root: unknown, p: XPath): unknown[] {
  let nodes = [p.fromRoot ? root : scope];
  for (const s of p.steps) {
    const next: unknown[] = [];
    for (const n of nodes) {
      if (!n || typeof n !== 'object') continue;
      for (const c of asArray((n as XmlNode)[s.name])) if (stepMatches(c, s.cond)) next.push(c);
    }
    nodes = next;
  }
  return p.attr ? nodes.map((n) => (n && typeof n === 'object' ? (n as XmlNode)[`@${p.attr}`] : undefined)).filter((v) => v !== undefined) : nodes;
}

export function xmlMatches(m: CompiledXmlMapping, doc: XmlNode): boolean {
  const root = doc[m.root];
  if (root === undefined) return false;
  return !m.has || walk(root, root, m.has).length > 0;
}

interface RunCtx {
  root: unknown;
  rejections: Rejection[];
  crosswalk: CrosswalkIndex | null;
  unknownItems: number;
}

function convert(raw: string, type: string, path: string, ctx: RunCtx): unknown {
  const bad = (code: 'GW_MAP_INVALID_NUMBER' | 'GW_MAP_INVALID_DATE') => {
    ctx.rejections.push(reject(code, `${path} ${JSON.stringify(raw)}`, { segmentTag: 'XML', value: raw.slice(0, 128) }));
    return undefined;
  };
  switch (type) {
    case 'decimal':
      return /^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw) ? normaliseDecimal(raw) : bad('GW_MAP_INVALID_NUMBER');
    case 'integer':
      return /^[+-]?\d+$/.test(raw) ? normaliseDecimal(raw) : bad('GW_MAP_INVALID_NUMBER');
    case 'date': {
      const d = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(raw);
      return d && isValidDate(d[1] + d[2] + d[3]) ? `${d[1]}-${d[2]}-${d[3]}` : bad('GW_MAP_INVALID_DATE');
    }
    case 'datetime':
      return Number.isNaN(Date.parse(raw)) ? bad('GW_MAP_INVALID_DATE') : raw;
    default:
      return raw;
  }
}

function run(fields: [string, XNode][], scope: unknown, ctx: RunCtx): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, n] of fields) {
    const v = runNode(n, name, scope, ctx);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function runNode(n: XNode, name: string, scope: unknown, ctx: RunCtx): unknown {
  switch (n.kind) {
    case 'const':
      return n.value;
    case 'scalar': {
      for (const p of n.paths) {
        const raw = walk(scope, ctx.root, p).map(textOf).find((t) => t !== undefined && t !== '');
        if (raw === undefined) continue;
        let v = convert(raw, n.type, p.text, ctx);
        if (v === undefined) return undefined;
        if (n.codes) {
          if (n.codes[raw] !== undefined) v = n.codes[raw];
          else if (n.strictCodes) {
            ctx.rejections.push(reject('GW_MAP_INVALID_CODE', `${p.text} ${JSON.stringify(raw)}`, { segmentTag: 'XML', value: raw.slice(0, 128) }));
            return undefined;
          }
        }
        return v;
      }
      if (n.default !== undefined) return n.default;
      if (n.required) ctx.rejections.push(reject('GW_MAP_ELEMENT_MISSING', `${n.paths[0].text} (for ${name})`, { segmentTag: 'XML' }));
      return undefined;
    }
    case 'itemIds': {
      const ids: Record<string, string> = {};
      for (const [q, p] of n.ids) {
        const v = walk(scope, ctx.root, p).map(textOf).find((t) => t);
        if (v) ids[q] = v;
      }
      if (!Object.keys(ids).length) {
        if (n.required) ctx.rejections.push(reject('GW_MAP_ELEMENT_MISSING', `item ids (for ${name})`, { segmentTag: 'XML' }));
        return undefined;
      }
      const item: { sku?: string; ids: Record<string, string> } = { ids };
      const sku = ctx.crosswalk?.lookup(ids);
      if (sku) item.sku = sku;
      else if (ctx.crosswalk && ctx.unknownItems++ === 0) ctx.rejections.push(reject('GW_ITEM_UNKNOWN', Object.entries(ids).map(([q, v]) => `${q}=${v}`).join(', '), { segmentTag: 'XML' }));
      return item;
    }
    case 'group': {
      const target = n.path ? walk(scope, ctx.root, n.path)[0] : scope;
      return target === undefined ? undefined : run(n.fields, target, ctx);
    }
    case 'list': {
      const items = walk(scope, ctx.root, n.each);
      if (!items.length && n.required) ctx.rejections.push(reject('GW_MAP_SEGMENT_MISSING', `${n.each.text} (for ${name})`, { segmentTag: 'XML' }));
      return items.map((it) => run(n.fields, it, ctx));
    }
  }
}

export function runXmlMapping(m: CompiledXmlMapping, doc: XmlNode, crosswalk: CrosswalkIndex | null): { data: Record<string, unknown>; rejections: Rejection[] } {
  const root = doc[m.root];
  const ctx: RunCtx = { root, rejections: [], crosswalk, unknownItems: 0 };
  const data = run(m.fields, root, ctx);
  return { data, rejections: ctx.rejections };
}

// ---- streaming ----

type ListNode = Extract<XNode, { kind: 'list' }>;

/**
 * How a mapping reads a document as it streams: its top-level lists whose records can be mapped
 * as each closes (a path of plain steps from the root, a condition on the last step at most), so
 * that a document of any length holds one record at a time. `null` when the mapping cannot
 * stream: its other fields read into those records, or a record reads elements of the root
 * other than its attributes (they might come after it), or item ids outside the records (the
 * unknown-item rejection is reported once, in field order). Then the whole tree is read.
 */
export interface XmlStreamPlan {
  lists: { field: string; node: ListNode; path: string[]; last: Step['cond'] }[];
}

const plans = new WeakMap<CompiledXmlMapping, XmlStreamPlan | null>();

export function streamPlan(m: CompiledXmlMapping): XmlStreamPlan | null {
  if (!plans.has(m)) plans.set(m, makePlan(m));
  return plans.get(m)!;
}

function makePlan(m: CompiledXmlMapping): XmlStreamPlan | null {
  const lists: XmlStreamPlan['lists'] = [];
  for (const [field, n] of m.fields) {
    if (n.kind !== 'list' || n.each.fromRoot || n.each.attr || !n.each.steps.length || n.each.steps.slice(0, -1).some((s) => s.cond)) continue;
    lists.push({ field, node: n, path: [m.root, ...n.each.steps.map((s) => s.name)], last: n.each.steps.at(-1)!.cond });
  }
  if (!lists.length) return null;
  const prefixOf = (a: string[], b: string[]) => a.length <= b.length && a.every((x, i) => x === b[i]);
  for (const a of lists) for (const b of lists) if (a !== b && prefixOf(a.path, b.path)) return null;
  const streamed = new Set(lists.map((l) => l.field));
  let ok = true;
  // What the other fields read, as absolute paths of names: none may go into a streamed record.
  const visit = (n: XNode, scope: string[], inRecord: boolean) => {
    const abs = (p: XPath) => (p.fromRoot ? [m.root, ...p.steps.map((s) => s.name)] : [...scope, ...p.steps.map((s) => s.name)]);
    const check = (p: XPath) => {
      if (inRecord) {
        // Inside a record: its own elements, or the root's attributes (known when the root opened).
        if (p.fromRoot && p.steps.length) ok = false;
      } else if (lists.some((l) => prefixOf(l.path, abs(p)))) ok = false;
    };
    switch (n.kind) {
      case 'scalar':
        n.paths.forEach(check);
        break;
      case 'itemIds':
        if (!inRecord) ok = false;
        n.ids.forEach(([, p]) => check(p));
        break;
      case 'group':
        if (n.path) check(n.path);
        for (const [, f] of n.fields) visit(f, n.path ? abs(n.path) : scope, inRecord);
        break;
      case 'list':
        check(n.each);
        for (const [, f] of n.fields) visit(f, abs(n.each), inRecord);
        break;
      case 'const':
        break;
    }
  };
  for (const [field, n] of m.fields) {
    if (streamed.has(field)) for (const [, f] of (n as ListNode).fields) visit(f, [], true);
    else visit(n, [m.root], false);
  }
  if (m.has?.steps.some((s) => s.cond?.child)) ok = false;
  return ok ? { lists } : null;
}

/** Does the element at `path` (with its ancestors' attributes) satisfy a match's `has` path? */
export class HasMatcher {
  private attrs: Readonly<Record<string, string>>[] = [];
  found = false;
  constructor(private readonly p: XPath) {}

  open(path: readonly string[], attrs: Readonly<Record<string, string>>): void {
    this.attrs[path.length - 1] = attrs;
    const steps = this.p.steps;
    if (this.found || path.length !== steps.length + 1) return;
    for (let i = 0; i < steps.length; i++) {
      if (path[i + 1] !== steps[i].name) return;
      const c = steps[i].cond;
      if (c?.attr && this.attrs[i + 1][c.attr] !== c.value) return;
    }
    if (this.p.attr && this.attrs[path.length - 1][this.p.attr] === undefined) return;
    this.found = true;
  }
}

/**
 * Maps a document as it streams, by a plan: records are mapped as each closes and dropped;
 * `finish` maps the rest from the (pruned) tree, in field order, with the same values and the
 * same rejections as runXmlMapping on the whole tree (tested on every XML file we have).
 */
export class XmlStreamMapper {
  private readonly results = new Map<string, { values: unknown[]; rejections: Rejection[] }>();
  private readonly shared = { unknownItems: 0 };
  constructor(
    private readonly m: CompiledXmlMapping,
    private readonly plan: XmlStreamPlan,
    private readonly crosswalk: CrosswalkIndex | null,
  ) {
    for (const l of plan.lists) this.results.set(l.field, { values: [], rejections: [] });
  }

  private listAt(path: readonly string[]) {
    return this.plan.lists.find((l) => l.path.length === path.length && l.path.every((x, i) => x === path[i]));
  }

  prune = (path: readonly string[]): boolean => !!this.listAt(path);

  record = (path: readonly string[], node: unknown, root: XmlNode): void => {
    const l = this.listAt(path)!;
    if (!stepMatches(node, l.last)) return;
    const r = this.results.get(l.field)!;
    const ctx: RunCtx = { root, rejections: r.rejections, crosswalk: this.crosswalk, unknownItems: this.shared.unknownItems };
    r.values.push(run(l.node.fields, node, ctx));
    this.shared.unknownItems = ctx.unknownItems;
  };

  finish(doc: XmlNode): { data: Record<string, unknown>; rejections: Rejection[] } {
    const root = doc[this.m.root];
    const ctx: RunCtx = { root, rejections: [], crosswalk: this.crosswalk, unknownItems: this.shared.unknownItems };
    const data: Record<string, unknown> = {};
    for (const [name, n] of this.m.fields) {
      const r = this.results.get(name);
      if (r) {
        if (!r.values.length && (n as ListNode).required) ctx.rejections.push(reject('GW_MAP_SEGMENT_MISSING', `${(n as ListNode).each.text} (for ${name})`, { segmentTag: 'XML' }));
        ctx.rejections.push(...r.rejections);
        data[name] = r.values;
        continue;
      }
      const v = runNode(n, name, root, ctx);
      if (v !== undefined) data[name] = v;
    }
    return { data, rejections: ctx.rejections };
  }
}
