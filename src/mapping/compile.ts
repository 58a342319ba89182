import type { z } from 'zod';
import { parseMatcher, parsePath, type ElementPath, type SegmentMatcher } from './path.ts';
import {
  CollectSpec,
  ConstSpec,
  GroupSpecSchema,
  InboundMappingSchema,
  ItemIdsSpec,
  ListSpecSchema,
  ScalarSpec,
  type InboundMapping,
  VALUE_TYPES,
} from './schema.ts';

export type ValueType = (typeof VALUE_TYPES)[number];

export interface LoopRef {
  matcher: SegmentMatcher;
  members: Set<string> | null;
  until: Set<string>;
}

export type Node =
  | {
      kind: 'scalar';
      paths: ElementPath[];
      type: ValueType;
      required: boolean;
      default?: string;
      codes?: Record<string, string>;
      strictCodes: boolean;
      hl?: string;
      unique: boolean;
      pattern?: RegExp;
    }
  | { kind: 'const'; value: string | number | boolean | null }
  | { kind: 'itemIds'; path: ElementPath; fixed: [string, ElementPath][]; required: boolean }
  | {
      kind: 'collect';
      matcher: SegmentMatcher;
      key: ElementPath;
      value: ElementPath;
      type: ValueType;
      codes: Record<string, string>;
      others: 'keep' | 'ignore';
      hl?: string;
    }
  | { kind: 'group'; loop?: LoopRef; hl?: string; required: boolean; fields: Field[] }
  | { kind: 'list'; each?: LoopRef; eachHl?: string[]; outside: string[]; required: boolean; fields: Field[] };

export interface Field {
  name: string;
  node: Node;
}

export interface CompiledMapping {
  id: string;
  source: string;
  set: string;
  event:
    | { fixed: string }
    | { path: ElementPath; codes: Record<string, string>; default: string };
  hierarchy: Record<string, string[]> | null;
  fields: Field[];
  /** Tags that start a top-level list: the transaction header ends before the first of them. */
  detailStarts: Set<string>;
  checks: { count: SegmentMatcher; equals?: ElementPath; max?: number; within?: string; notAfter?: Set<string> }[];
  requiredSegments: string[];
  raw: InboundMapping;
}

export interface MappingProblem {
  file: string;
  path: string;
  message: string;
}

const DEFAULT_UNTIL = ['SE', 'CTT'];

/** Compile a parsed mapping document. Every problem is reported, with its path in the document. */
export function compileMapping(doc: unknown, file: string, id: string): { mapping?: CompiledMapping; problems: MappingProblem[] } {
  const problems: MappingProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ file, path: path.join('.') || '(root)', message });
  const addZod = (base: (string | number)[], err: z.ZodError) => {
    for (const i of err.issues) add([...base, ...(i.path as (string | number)[])], i.message);
  };
  const top = InboundMappingSchema.safeParse(doc);
  if (!top.success) {
    addZod([], top.error);
    return { problems };
  }
  const m = top.data;
  const loops = new Map<string, { members?: string[]; until?: string[] }>(Object.entries(m.loops ?? {}));

  const path1 = (text: string, at: (string | number)[]): ElementPath | undefined => {
    const p = parsePath(text);
    if (typeof p === 'string') {
      add(at, p);
      return undefined;
    }
    return p;
  };
  const matcher = (text: string, at: (string | number)[]): SegmentMatcher | undefined => {
    const p = parseMatcher(text);
    if (typeof p === 'string') {
      add(at, p);
      return undefined;
    }
    return p;
  };
  const loopRef = (text: string, at: (string | number)[]): LoopRef | undefined => {
    const mt = matcher(text, at);
    if (!mt) return undefined;
    const def = loops.get(mt.tag);
    return {
      matcher: mt,
      members: def?.members ? new Set(def.members) : null,
      until: new Set(def?.until ?? DEFAULT_UNTIL),
    };
  };

  const compileFields = (fields: Record<string, unknown>, at: (string | number)[]): Field[] => {
    const out: Field[] = [];
    for (const [name, spec] of Object.entries(fields)) {
      const node = compileNode(spec, [...at, name]);
      if (node) out.push({ name, node });
    }
    return out;
  };

  const compileNode = (spec: unknown, at: (string | number)[]): Node | undefined => {
    if (typeof spec === 'string' || (Array.isArray(spec) && spec.every((x) => typeof x === 'string'))) spec = { path: spec };
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      add(at, 'a field is an element path or an object with path, value, itemIds, collect, loop/hl or each/eachHl');
      return undefined;
    }
    const o = spec as Record<string, unknown>;
    if ('fields' in o) {
      if ('each' in o || 'eachHl' in o) {
        const r = ListSpecSchema.safeParse(o);
        if (!r.success) return void addZod(at, r.error);
        return {
          kind: 'list',
          each: r.data.each ? loopRef(r.data.each, [...at, 'each']) : undefined,
          eachHl: r.data.eachHl,
          outside: r.data.outside ?? [],
          required: r.data.required ?? false,
          fields: compileFields(r.data.fields, [...at, 'fields']),
        };
      }
      const r = GroupSpecSchema.safeParse(o);
      if (!r.success) return void addZod(at, r.error);
      if (r.data.hl && !m.hierarchy) add([...at, 'hl'], 'hl scopes need `hierarchy` at the top of the mapping');
      return {
        kind: 'group',
        loop: r.data.loop ? loopRef(r.data.loop, [...at, 'loop']) : undefined,
        hl: r.data.hl,
        required: r.data.required ?? false,
        fields: compileFields(r.data.fields, [...at, 'fields']),
      };
    }
    if ('itemIds' in o) {
      const r = ItemIdsSpec.safeParse(o);
      if (!r.success) return void addZod(at, r.error);
      const p = path1(r.data.itemIds, [...at, 'itemIds']);
      const fixed: [string, ElementPath][] = [];
      for (const [q, text] of Object.entries(r.data.ids ?? {})) {
        const f = path1(text, [...at, 'ids', q]);
        if (f) fixed.push([q, f]);
      }
      return p && { kind: 'itemIds', path: p, fixed, required: r.data.required ?? false };
    }
    if ('collect' in o) {
      const r = CollectSpec.safeParse(o);
      if (!r.success) return void addZod(at, r.error);
      const mt = matcher(r.data.collect, [...at, 'collect']);
      const k = path1(r.data.key, [...at, 'key']);
      const v = path1(r.data.value, [...at, 'value']);
      if (!mt || !k || !v) return undefined;
      if (k.tag !== mt.tag || v.tag !== mt.tag) add(at, `key and value must be elements of ${mt.tag}`);
      return {
        kind: 'collect',
        matcher: mt,
        key: k,
        value: v,
        type: r.data.type ?? 'string',
        codes: r.data.codes,
        others: r.data.others ?? 'keep',
        hl: r.data.hl,
      };
    }
    if ('value' in o) {
      const r = ConstSpec.safeParse(o);
      if (!r.success) return void addZod(at, r.error);
      return { kind: 'const', value: r.data.value };
    }
    const r = ScalarSpec.safeParse(o);
    if (!r.success) return void addZod(at, r.error);
    const texts = Array.isArray(r.data.path) ? r.data.path : [r.data.path];
    const paths = texts.map((t, i) => path1(t, [...at, 'path', ...(texts.length > 1 ? [i] : [])]));
    if (paths.some((p) => !p)) return undefined;
    if (r.data.hl && !m.hierarchy) add([...at, 'hl'], 'hl scopes need `hierarchy` at the top of the mapping');
    let pattern: RegExp | undefined;
    if (r.data.pattern !== undefined) {
      try {
        pattern = new RegExp(r.data.pattern);
      } catch (e) {
        add([...at, 'pattern'], `not a regular expression: ${(e as Error).message}`);
      }
    }
    return {
      kind: 'scalar',
      pattern,
      paths: paths as ElementPath[],
      type: r.data.type ?? 'string',
      required: r.data.required ?? false,
      default: r.data.default,
      codes: r.data.codes,
      strictCodes: r.data.strictCodes ?? false,
      hl: r.data.hl,
      unique: r.data.unique ?? false,
    };
  };

  const fields = compileFields(m.fields, ['fields']);
  const detailStarts = new Set<string>();
  for (const f of fields) if (f.node.kind === 'list' && f.node.each) detailStarts.add(f.node.each.matcher.tag);
  if (m.hierarchy) detailStarts.add('HL');

  let event: CompiledMapping['event'] = { fixed: 'order.received' };
  if (typeof m.event === 'string') event = { fixed: m.event };
  else {
    const p = path1(m.event.path, ['event', 'path']);
    if (p) event = { path: p, codes: m.event.codes, default: m.event.default };
  }
  const checks: CompiledMapping['checks'] = [];
  (m.checks ?? []).forEach((c, i) => {
    const count = matcher(c.count, ['checks', i, 'count']);
    const equals = c.equals === undefined ? undefined : path1(c.equals, ['checks', i, 'equals']);
    if (count && (equals || c.equals === undefined)) checks.push({ count, equals, max: c.max, within: c.within, notAfter: c.notAfter ? new Set(c.notAfter) : undefined });
  });
  if (problems.length) return { problems };
  return {
    problems,
    mapping: {
      id,
      source: file,
      set: m.set,
      event,
      hierarchy: m.hierarchy ? (m.hierarchy.children ?? null) ?? {} : null,
      fields,
      detailStarts,
      checks,
      requiredSegments: m.requiredSegments ?? [],
      raw: m,
    },
  };
}

/** Deep merge for `extends`: objects merge, everything else is replaced by the override. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = v === null ? undefined : deepMerge(out[k], v);
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  }
  return over;
}
