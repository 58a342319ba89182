import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../core/paths.ts';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { X12SegmentReader, type Segment } from './segment-reader.ts';
import { isValidDate, isValidTime, versionNumber } from './x12-codes.ts';

/**
 * Transaction-set grammars as data (grammars/x12/<version>/): a segment dictionary (each segment's
 * elements: type, min/max length, mandatory or not, code lists where the code decides meaning,
 * relational conditions) and per set the segments in order with their loops, requirement and
 * maximum use, written from the X12 standard's tables. `SetChecker` checks a set segment by
 * segment against them (its memory is the open loops, one frame per loop level) and says what a
 * strict translator's 997 says: AK3 segment errors (AK304) and AK4 element errors (AK403).
 */

export type ElementType = 'AN' | 'ID' | 'DT' | 'TM' | 'R' | `N${number}`;

export interface ElementSpec {
  /** The data element number (dictionary reference, AK402). */
  ref: number;
  type: ElementType;
  min: number;
  max: number;
  mandatory: boolean;
  codes?: Set<string>;
  /** A composite: its components (checked one by one). */
  components?: ElementSpec[];
}

export interface SegmentSpec {
  id: string;
  elements: ElementSpec[];
  /** Relational conditions: P paired, R at least one, E at most one, C if first then all, L if first then one of the rest. */
  syntax: { kind: 'P' | 'R' | 'E' | 'C' | 'L'; positions: number[] }[];
  /** Elements beyond the listed ones that the standard has and we do not check. */
  unchecked: number;
  /** The position of the last mandatory element (0: none). */
  lastMandatory: number;
}

export interface SegmentNode {
  kind: 'segment';
  id: string;
  mandatory: boolean;
  max: number;
}

export interface LoopNode {
  kind: 'loop';
  /** The loop's trigger: its first segment's id. */
  id: string;
  mandatory: boolean;
  max: number;
  children: Node[];
}

export type Node = SegmentNode | LoopNode;

export interface SetGrammar {
  setId: string;
  version: string;
  functionalId: string;
  root: LoopNode;
  /** Every segment id the set's table has, anywhere. */
  ids: Set<string>;
}

export interface Grammars {
  /** version -> set id -> grammar */
  sets: Map<string, Map<string, SetGrammar>>;
  /** version -> segment id -> spec */
  segments: Map<string, Map<string, SegmentSpec>>;
  /** Every segment id any version knows (its dictionary and its list of others). */
  known: Set<string>;
}

// ---- loading --------------------------------------------------------------------------------

const ELEMENT = /^(?<ref>C?\d{1,4})\s+(?<type>AN|ID|DT|TM|R|N\d|composite)(?:\s+(?<min>\d+)\/(?<max>\d+))?\s+(?<req>[MOX])$/;
const NODE = /^(?<id>[A-Z][A-Z0-9]{1,2})\s+(?<req>[MO])\s+(?<max>\d+|>1)$/;

const SegmentFile = z
  .object({
    version: z.string().regex(/^\d{6}$/),
    /** Another version's dictionary this one starts from (its segments replaced where listed here). */
    extends: z.string().regex(/^\d{6}$/).optional(),
    composites: z.record(z.string().regex(/^C\d{3}$/), z.object({ components: z.array(z.string().regex(ELEMENT)) }).strict()).default({}),
    codes: z.record(z.string().regex(/^\d{1,4}$/), z.array(z.string())).default({}),
    segments: z.record(
      z.string().regex(/^[A-Z][A-Z0-9]{1,2}$/),
      z
        .object({
          name: z.string().optional(),
          elements: z.array(z.string().regex(ELEMENT)),
          syntax: z.array(z.string().regex(/^[PRECL](\d{4,})$/)).default([]),
          unchecked: z.number().int().min(0).default(0),
        })
        .strict(),
    ),
    others: z.array(z.string().regex(/^[A-Z][A-Z0-9]{1,2}$/)).default([]),
  })
  .strict();

type RawNode = string | { loop: string; req?: 'M' | 'O'; max: number | '>1'; body: RawNode[] };
const RawNodeSchema: z.ZodType<RawNode> = z.lazy(() => z.union([z.string().regex(NODE), z.object({ loop: z.string(), req: z.enum(['M', 'O']).optional(), max: z.union([z.number().int().positive(), z.literal('>1')]), body: z.array(RawNodeSchema).min(1) }).strict()]));
const SetFile = z.object({ set: z.string().regex(/^\d{3}$/), version: z.string().regex(/^\d{6}$/), functionalId: z.string().length(2), name: z.string().optional(), structure: z.array(RawNodeSchema).min(2) }).strict();

const maxOf = (m: string | number) => (m === '>1' ? Number.MAX_SAFE_INTEGER : Number(m));

function element(text: string, composites: Record<string, { components: string[] }>, codes: Record<string, string[]>): ElementSpec {
  const g = ELEMENT.exec(text)!.groups!;
  if (g.type === 'composite') {
    const c = composites[g.ref];
    if (!c) throw new Error(`composite ${g.ref} is not defined`);
    return { ref: 0, type: 'AN', min: 0, max: 0, mandatory: g.req === 'M', components: c.components.map((x) => element(x, composites, codes)) };
  }
  if (g.min === undefined) throw new Error(`${text}: min/max length missing`);
  const list = codes[g.ref];
  return { ref: Number(g.ref), type: g.type as ElementType, min: Number(g.min), max: Number(g.max), mandatory: g.req === 'M', ...(list ? { codes: new Set(list) } : {}) };
}

function node(raw: RawNode, where: string): Node {
  if (typeof raw === 'string') {
    const g = NODE.exec(raw)!.groups!;
    return { kind: 'segment', id: g.id, mandatory: g.req === 'M', max: maxOf(g.max) };
  }
  const children = raw.body.map((b) => node(b, `${where}/${raw.loop}`));
  const first = children[0];
  if (first.kind !== 'segment' || first.id !== raw.loop) throw new Error(`${where}: loop ${raw.loop} must begin with segment ${raw.loop}`);
  // The trigger of a loop is mandatory within it; whether the loop must occur is the loop's own requirement.
  return { kind: 'loop', id: raw.loop, mandatory: (raw.req ?? 'O') === 'M', max: maxOf(raw.max), children: [{ ...first, mandatory: true, max: 1 }, ...children.slice(1)] };
}

function collectIds(n: Node, into: Set<string>): void {
  if (n.kind === 'segment') into.add(n.id);
  else for (const c of n.children) collectIds(c, into);
}

/** Load every grammar under `dir` (grammars/x12). Throws with the file and reason when one is invalid. */
export function loadGrammars(dir: string): Grammars {
  const sets = new Map<string, Map<string, SetGrammar>>();
  const segments = new Map<string, Map<string, SegmentSpec>>();
  const known = new Set<string>();
  const raw = new Map<string, { composites: Record<string, { components: string[] }>; codes: Record<string, string[]> }>();
  if (!existsSync(dir)) return { sets, segments, known };
  for (const version of readdirSync(dir).filter((d) => /^\d{6}$/.test(d)).sort()) {
    const vdir = path.join(dir, version);
    const segFile = path.join(vdir, 'segments.yaml');
    const parsed = SegmentFile.safeParse(parseYaml(readFileSync(segFile, 'utf8')));
    if (!parsed.success) throw new Error(`${segFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const dict = new Map<string, SegmentSpec>(parsed.data.extends ? (segments.get(parsed.data.extends) ?? new Map()) : []);
    if (parsed.data.extends && !segments.has(parsed.data.extends)) throw new Error(`${segFile}: extends ${parsed.data.extends}, which is not loaded before it`);
    // Composites and code lists are inherited too, this version's replacing the base's by id.
    const base = parsed.data.extends ? raw.get(parsed.data.extends)! : { composites: {}, codes: {} };
    const composites = { ...base.composites, ...parsed.data.composites };
    const codes = { ...base.codes, ...parsed.data.codes };
    raw.set(version, { composites, codes });
    for (const [id, s] of Object.entries(parsed.data.segments)) {
      const elements = s.elements.map((e) => element(e, composites, codes));
      dict.set(id, {
        id,
        elements,
        lastMandatory: elements.reduce((m, e, i) => (e.mandatory ? i + 1 : m), 0),
        syntax: s.syntax.map((x) => ({ kind: x[0] as 'P', positions: x.slice(1).match(/\d\d/g)!.map(Number) })),
        unchecked: s.unchecked,
      });
    }
    segments.set(version, dict);
    for (const id of [...dict.keys(), ...parsed.data.others]) known.add(id);
    const bySet = new Map<string, SetGrammar>();
    for (const f of readdirSync(vdir).filter((x) => /^\d{3}\.yaml$/.test(x)).sort()) {
      const file = path.join(vdir, f);
      const p = SetFile.safeParse(parseYaml(readFileSync(file, 'utf8')));
      if (!p.success) throw new Error(`${file}: ${p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const root: LoopNode = { kind: 'loop', id: 'ST', mandatory: true, max: 1, children: p.data.structure.map((r) => node(r, f)) };
      const ids = new Set<string>();
      collectIds(root, ids);
      for (const id of ids) if (!dict.has(id)) throw new Error(`${file}: segment ${id} is not in ${segFile}`);
      if (root.children[0].id !== 'ST' || root.children.at(-1)!.id !== 'SE') throw new Error(`${file}: the structure must begin with ST and end with SE`);
      bySet.set(p.data.set, { setId: p.data.set, version: p.data.version, functionalId: p.data.functionalId, root, ids });
    }
    sets.set(version, bySet);
  }
  return { sets, segments, known };
}

/**
 * The grammar for a set in a version: that version's, else the nearest version that has the set
 * (`nearest` says so, for a warning). Dates are then checked with the requested version's length
 * (YYMMDD before 004010).
 */
export function grammarFor(g: Grammars, setId: string, version: string): { grammar: SetGrammar; segments: Map<string, SegmentSpec>; nearest: boolean } | null {
  const exact = g.sets.get(version.slice(0, 6))?.get(setId);
  if (exact) return { grammar: exact, segments: g.segments.get(exact.version)!, nearest: false };
  const want = versionNumber(version);
  let best: SetGrammar | null = null;
  for (const [v, bySet] of g.sets) {
    const s = bySet.get(setId);
    if (!s) continue;
    if (!best || Math.abs(Number(v) - (Number.isNaN(want) ? 4010 : want)) < Math.abs(Number(best.version) - (Number.isNaN(want) ? 4010 : want))) best = s;
  }
  // The structure is the nearest version's; the segments are the requested version's where we have its dictionary.
  return best ? { grammar: best, segments: g.segments.get(version.slice(0, 6)) ?? g.segments.get(best.version)!, nearest: true } : null;
}

// ---- checking -------------------------------------------------------------------------------

const DIGITS = /^\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;
const INTEGER = /^-?\d+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** AK304 codes. */
export type SegmentErrorCode = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8';
/** AK403 codes. */
export type ElementErrorCode = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '10';

export interface SyntaxError {
  /** Position of the segment in the set (ST = 1): where it is, or where a missing one was due. */
  position: number;
  segmentId: string;
  segmentCode: SegmentErrorCode;
  /** Element errors of a segment in error (AK304 8). */
  element?: { position: number; component?: number; ref: number; code: ElementErrorCode; value?: string };
  message: string;
}

interface Frame {
  loop: LoopNode;
  /** Index of the child last matched (-1: none yet). */
  at: number;
  counts: number[];
}

const SEGMENT_MESSAGES: Record<SegmentErrorCode, string> = {
  '1': 'unrecognized segment ID',
  '2': 'unexpected segment (not in this transaction set)',
  '3': 'mandatory segment missing',
  '4': 'loop occurs over maximum times',
  '5': 'segment exceeds maximum use',
  '6': 'segment not in defined transaction set',
  '7': 'segment not in proper sequence',
  '8': 'segment has data element errors',
};

export interface CheckOptions {
  /** The dictionary of every version (a segment no version defines is "unrecognized"). */
  known: (id: string) => boolean;
  /** At most this many errors are kept (default 500); the rest are counted in `more`. */
  maxErrors?: number;
  /** Dates of this length (6 before 004010, else 8) where the grammar's DT is 8. */
  dateLength?: 6 | 8;
  component: string;
}

/**
 * Checks one transaction set as its segments come (ST first, SE last). Memory: the open loops
 * (one frame per level) and the errors found.
 */
export class SetChecker {
  readonly errors: SyntaxError[] = [];
  /** Errors beyond the first MAX_ERRORS, counted only (a bad line in each of a million LIN loops). */
  more = 0;
  private stack: Frame[];
  private position = 0;

  constructor(
    private readonly grammar: SetGrammar,
    private readonly dict: Map<string, SegmentSpec>,
    private readonly opts: CheckOptions,
  ) {
    this.stack = [{ loop: grammar.root, at: -1, counts: grammar.root.children.map(() => 0) }];
  }

  private add(e: SyntaxError): void {
    if (this.errors.length < (this.opts.maxErrors ?? 500)) this.errors.push(e);
    else this.more++;
  }

  feed(tag: string, elements: string[]): void {
    this.position++;
    const position = this.position;
    const found = this.locate(tag);
    if (!found) {
      const code: SegmentErrorCode = !this.opts.known(tag) ? '1' : this.grammar.ids.has(tag) ? '7' : '2';
      this.add({ position, segmentId: tag, segmentCode: code, message: `${tag}: ${SEGMENT_MESSAGES[code]}` });
      return;
    }
    const { depth, index } = found;
    // Loops left behind are closed: what they had to have and did not is missing here.
    while (this.stack.length - 1 > depth) this.close(this.stack.pop()!, position);
    const frame = this.stack[depth];
    const child = frame.loop.children[index];
    if (index !== frame.at) this.missingBetween(frame, frame.at + 1, index, position);
    frame.at = index;
    frame.counts[index]++;
    if (child.kind === 'loop') {
      if (frame.counts[index] > child.max) this.add({ position, segmentId: tag, segmentCode: '4', message: `loop ${child.id}: more than ${child.max}` });
      const counts: number[] = new Array(child.children.length).fill(0);
      counts[0] = 1;
      this.stack.push({ loop: child, at: 0, counts });
    } else if (frame.counts[index] > child.max) {
      this.add({ position, segmentId: tag, segmentCode: '5', message: `${tag}: more than ${child.max} in a row` });
    }
    this.checkElements(tag, elements, position);
  }

  /** After SE: what the set still had to have is missing at the SE. */
  end(): SyntaxError[] {
    const position = this.position;
    while (this.stack.length > 1) this.close(this.stack.pop()!, position);
    const root = this.stack[0];
    this.missingBetween(root, root.at + 1, root.loop.children.length, position);
    return this.errors;
  }

  /**
   * Where `tag` goes: in the innermost open loop from its current child on (a loop's own trigger
   * only starts a new iteration, from its parent), else in an enclosing loop, the same way.
   */
  private locate(tag: string): { depth: number; index: number } | null {
    for (let depth = this.stack.length - 1; depth >= 0; depth--) {
      const f = this.stack[depth];
      const from = Math.max(f.at, 0);
      for (let i = from; i < f.loop.children.length; i++) {
        if (depth > 0 && i === 0) continue;
        const c = f.loop.children[i];
        if (c.id === tag) return { depth, index: i };
      }
    }
    return null;
  }

  private missingBetween(f: Frame, from: number, to: number, position: number): void {
    for (let i = Math.max(from, 0); i < to; i++) {
      const c = f.loop.children[i];
      if (c.mandatory && f.counts[i] === 0) this.add({ position, segmentId: c.id, segmentCode: '3', message: `${c.kind === 'loop' ? `loop ${c.id}` : c.id}: mandatory segment missing` });
    }
  }

  private close(f: Frame, position: number): void {
    this.missingBetween(f, f.at + 1, f.loop.children.length, position);
  }

  private elementError(tag: string, position: number, p: number, ref: number, code: ElementErrorCode, value: string | undefined, why: string, component?: number): void {
    this.add({ position, segmentId: tag, segmentCode: '8', element: { position: p, ref, code, ...(component ? { component } : {}), ...(value !== undefined && value !== '' ? { value } : {}) }, message: `${tag}${String(p).padStart(2, '0')}${component ? `-${component}` : ''}: ${why}` });
  }

  // Hot path (every segment of every set): no closures or arrays made per segment or element.
  private checkElements(tag: string, elements: string[], position: number): void {
    const spec = this.dict.get(tag);
    if (!spec) return;
    const n = elements.length - 1;
    const defined = spec.elements.length + spec.unchecked;
    if (n > defined) this.elementError(tag, position, defined + 1, 0, '3', undefined, `too many data elements (${n}, at most ${defined})`);
    const upTo = Math.min(spec.elements.length, Math.max(n, spec.lastMandatory));
    for (let i = 0; i < upTo; i++) {
      const e = spec.elements[i];
      const p = i + 1;
      const v = p <= n ? elements[p] : '';
      if (v === '' || v === undefined) {
        if (e.mandatory) this.elementError(tag, position, p, e.ref, '1', undefined, 'mandatory data element missing');
        continue;
      }
      if (e.components) {
        const parts = v.split(this.opts.component);
        if (parts.length > e.components.length) this.elementError(tag, position, p, 0, '3', v, `too many components (${parts.length})`);
        for (let ci = 0; ci < e.components.length; ci++) {
          const c = e.components[ci];
          const cv = parts[ci] ?? '';
          if (cv === '') {
            if (c.mandatory) this.elementError(tag, position, p, c.ref, '1', undefined, 'mandatory component missing', ci + 1);
            continue;
          }
          const bad = this.checkValue(c, cv);
          if (bad) this.elementError(tag, position, p, c.ref, bad[0], cv, bad[1], ci + 1);
        }
        continue;
      }
      const bad = this.checkValue(e, v);
      if (bad) this.elementError(tag, position, p, e.ref, bad[0], v, bad[1]);
    }
    for (const s of spec.syntax) {
      // A condition on elements beyond the last one present holds (unless one of them is required).
      if (s.kind !== 'R' && s.positions[0] > n) continue;
      let have = 0;
      let missing = 0;
      let second = 0;
      for (const q of s.positions) {
        if (q <= n && elements[q] !== '') {
          have++;
          if (have === 2) second = q;
        } else if (!missing) missing = q;
      }
      const first = s.positions[0] <= n && elements[s.positions[0]] !== '';
      const bad =
        (s.kind === 'P' && have > 0 && have < s.positions.length) ||
        (s.kind === 'R' && have === 0) ||
        (s.kind === 'C' && first && have < s.positions.length) ||
        (s.kind === 'L' && first && have < 2);
      if (bad) this.elementError(tag, position, missing, spec.elements[missing - 1]?.ref ?? 0, '2', undefined, `conditional data element missing (${s.kind}${s.positions.map((x) => String(x).padStart(2, '0')).join('')})`);
      if (s.kind === 'E' && have > 1) this.elementError(tag, position, second, spec.elements[second - 1]?.ref ?? 0, '10', elements[second], `exclusion condition violated (E${s.positions.map((x) => String(x).padStart(2, '0')).join('')})`);
    }
  }

  private checkValue(e: ElementSpec, v: string): [ElementErrorCode, string] | null {
    const type = e.type;
    if (type === 'DT') {
      const len = e.max === 8 && this.opts.dateLength ? this.opts.dateLength : e.max;
      if (!DIGITS.test(v)) return ['8', `invalid date ${JSON.stringify(v)}`];
      if (v.length < Math.min(e.min, len)) return ['4', `data element too short (${v.length}, at least ${len})`];
      if (v.length > len) return ['5', `data element too long (${v.length}, at most ${len})`];
      return isValidDate(v) ? null : ['8', `invalid date ${v}`];
    }
    if (type === 'TM') {
      if (!DIGITS.test(v)) return ['9', `invalid time ${JSON.stringify(v)}`];
      if (v.length < e.min) return ['4', `data element too short (${v.length}, at least ${e.min})`];
      if (v.length > e.max) return ['5', `data element too long (${v.length}, at most ${e.max})`];
      return isValidTime(v.slice(0, Math.min(v.length, 8))) ? null : ['9', `invalid time ${v}`];
    }
    if (type === 'R' || type.charCodeAt(0) === 78 /* N */) {
      // Digits only (the common case) is valid either way; anything else goes to the patterns.
      let digits = 0;
      for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x30 && c <= 0x39) digits++;
      }
      if (digits !== v.length) {
        if (!(type === 'R' ? DECIMAL : INTEGER).test(v)) return ['6', `not a valid ${type === 'R' ? 'decimal' : 'numeric'} value ${JSON.stringify(v)}`];
      }
      if (digits < e.min) return ['4', `data element too short (${digits} digits, at least ${e.min})`];
      if (digits > e.max) return ['5', `data element too long (${digits} digits, at most ${e.max})`];
      return null;
    }
    // AN and ID: printable characters (the basic and extended sets), no control characters.
    if (CONTROL.test(v)) return ['6', 'invalid character in data element'];
    if (v.length < e.min) return ['4', `data element too short (${v.length}, at least ${e.min})`];
    if (v.length > e.max) return ['5', `data element too long (${v.length}, at most ${e.max})`];
    if (type === 'ID' && e.codes && !e.codes.has(v)) return ['7', `invalid code value ${JSON.stringify(v)}`];
    return null;
  }
}


/** A checker for one set in a version (the nearest version's table where we have not its own), or null: no grammar. */
export function checkerFor(g: Grammars, setId: string, version: string, component: string): { checker: SetChecker; grammarVersion: string; nearest: boolean } | null {
  const found = grammarFor(g, setId, version);
  if (!found) return null;
  const v = versionNumber(version);
  const checker = new SetChecker(found.grammar, found.segments, { known: (id) => g.known.has(id), dateLength: !Number.isNaN(v) && v < 4010 ? 6 : 8, component });
  return { checker, grammarVersion: found.grammar.version, nearest: found.nearest };
}

/** The errors of a set whose SE has come; what was only counted is said on the last one kept. */
export function finishCheck(checker: SetChecker): SyntaxError[] {
  const errors = checker.end();
  if (checker.more) errors[errors.length - 1] = { ...errors[errors.length - 1], message: `${errors[errors.length - 1].message} (${checker.more} more problems in this set are not listed)` };
  return errors;
}

/** Check a whole transaction set (ST..SE) held as segments: the grammar's errors, and whether a nearest version stood in. */
export function checkSegments(g: Grammars, setId: string, version: string, segments: { tag: string; elements: string[] }[], delimiters: { component: string }): { errors: SyntaxError[]; grammarVersion: string; nearest: boolean } | null {
  const c = checkerFor(g, setId, version, delimiters.component);
  if (!c) return null;
  for (const s of segments) c.checker.feed(s.tag, s.elements);
  return { errors: finishCheck(c.checker), grammarVersion: c.grammarVersion, nearest: c.nearest };
}

/** What the grammar said of one set of a document. */
export interface SetVerdict {
  setId: string;
  control: string;
  /** Its group's GS08. */
  version: string;
  /** Checked with another version's table (we have none for its own). */
  nearest: boolean;
  errors: SyntaxError[];
}

/**
 * Every transaction set of an X12 document checked as its bytes come (the ISA gives the component
 * separator, each GS its version): nothing of a set is held but its open loops. Sets we have no
 * grammar for are not in `sets`.
 */
export class DocumentChecker {
  readonly sets: SetVerdict[] = [];
  private readonly reader = new X12SegmentReader();
  private component = '>';
  private version = '';
  private current: { verdict: Omit<SetVerdict, 'errors'>; checker: SetChecker } | null = null;

  constructor(private readonly g: Grammars) {}

  push(chunk: Buffer): void {
    for (const s of this.reader.push(chunk)) this.feed(s);
  }

  end(): SetVerdict[] {
    for (const s of this.reader.end()) this.feed(s);
    return this.sets;
  }

  private feed(s: Segment): void {
    if (s.tag === 'ISA') this.component = s.isa?.delimiters.component ?? this.component;
    if (s.tag === 'GS') this.version = s.elements[8] ?? '';
    if (s.tag === 'ST') {
      const c = checkerFor(this.g, s.elements[1], this.version, this.component);
      this.current = c && { verdict: { setId: s.elements[1], control: s.elements[2], version: this.version, nearest: c.nearest }, checker: c.checker };
    }
    if (!this.current) return;
    this.current.checker.feed(s.tag, s.elements);
    if (s.tag === 'SE') {
      this.sets.push({ ...this.current.verdict, errors: finishCheck(this.current.checker) });
      this.current = null;
    }
  }
}

/** The sets of an X12 text that fail their grammar (sets we have no grammar for pass). */
export function checkDocument(g: Grammars, text: string): SetVerdict[] {
  const d = new DocumentChecker(g);
  d.push(Buffer.from(text, 'latin1'));
  return d.end().filter((v) => v.errors.length);
}

let shared: Grammars | null = null;

/** The project's grammars (grammars/x12), loaded once. */
export function projectGrammars(): Grammars {
  shared ??= loadGrammars(path.join(PROJECT_ROOT, 'grammars', 'x12'));
  return shared;
}

