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
