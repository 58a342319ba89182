import type { Rejection } from '../core/rejection.ts';
import type { Segment } from '../x12/segment-reader.ts';
import type { CompiledMapping, Field, LoopRef, Node } from './compile.ts';
import type { CrosswalkIndex } from './crosswalk.ts';
import { matches, type Condition } from './path.ts';
import {
  countCheck,
  finishMapped,
  mapSegments,
  MAX_REJECTIONS_PER_SET,
  newCtx,
  notePresent,
  requiredMissing,
  runFields,
  WithinCheck,
  type Ctx,
  type MappedSet,
  type Scope,
} from './run-inbound.ts';

/**
 * A mapping fed segment by segment (ST first, SE last) that holds the transaction header and the
 * current loop instance only: each instance of a top-level list (an 846's LIN loop, an 850's PO1
 * loop) is mapped when it closes and its segments are let go; counts and checks are counters.
 *
 * What the fields at the top of the mapping read is kept as it passes: the segments outside the
 * lists, the first segment each top-level path can match, and every segment of a tag a top-level
 * `collect` or loop group reads. Where something else was dropped, one placeholder segment stands
 * in for it, so a loop group ends where it ended in the whole set. The result is the one the
 * whole-set mapping (`mapSegments`) gives; `test/mapping/stream-inbound.test.ts` compares the two.
 *
 * A mapping over an HL tree (856), or one whose top-level loop groups end only at an `until` tag,
 * buffers the set and maps it whole at SE (bounded by the envelope's segment limit).
 */
export interface SetMapper {
  feed(seg: Segment): void;
  end(): MappedSet;
}

interface Plan {
  /** Tag -> the top-level paths whose first match is kept. */
  firstOf: Map<string, { conditions: Condition[] }[]>;
  /** Tags of which every segment is kept (top-level collect, loop groups and their members). */
  whole: Set<string>;
  /** Index in mapping.fields of each top-level list with `each`. */
  lists: number[];
  required: Set<string>;
}

const PLANS = new WeakMap<CompiledMapping, Plan | null>();
/** Stands in the kept segments for segments let go: no path matches it and it ends every loop. */
const GAP: Segment = { tag: '', elements: [''], index: -1, offset: -1 };

function planOf(mapping: CompiledMapping): Plan | null {
  if (PLANS.has(mapping)) return PLANS.get(mapping)!;
  const plan: Plan = { firstOf: new Map(), whole: new Set(), lists: [], required: new Set(mapping.requiredSegments) };
  const first = (tag: string, conditions: Condition[]) => {
    let l = plan.firstOf.get(tag);
    if (!l) plan.firstOf.set(tag, (l = []));
    l.push({ conditions });
  };
  const loopTags = (l: LoopRef): boolean => {
    if (!l.members) return false;
    plan.whole.add(l.matcher.tag);
    for (const m of l.members) plan.whole.add(m);
    return true;
  };
  // A top-level node (or one inside a top-level group without a loop): false if it cannot stream.
  const top = (node: Node, index: number | null): boolean => {
    switch (node.kind) {
      case 'const':
        return true;
      case 'scalar':
        for (const p of node.paths) first(p.tag, p.conditions);
        return !node.hl;
      case 'itemIds':
        first(node.path.tag, node.path.conditions);
        for (const [, p] of node.fixed) first(p.tag, p.conditions);
        return true;
      case 'collect':
        plan.whole.add(node.matcher.tag);
        return !node.hl;
      case 'group':
        if (node.hl) return false;
        if (node.loop) return loopTags(node.loop);
        return node.fields.every((f) => top(f.node, null));
      case 'list':
        if (!node.each || index === null) return false;
        plan.lists.push(index);
        return true;
    }
  };
  const ok = !mapping.hierarchy && mapping.fields.every((f: Field, i) => top(f.node, i));
  PLANS.set(mapping, ok ? plan : null);
  return ok ? plan : null;
}

/** The mapper for one set: streaming where the mapping allows it, else the set held whole. */
export function setMapper(mapping: CompiledMapping, crosswalk: CrosswalkIndex | null, component: string): SetMapper {
  const plan = planOf(mapping);
  if (!plan) {
    const segs: Segment[] = [];
    return { feed: (s) => void segs.push(s), end: () => mapSegments(segs, component, mapping, crosswalk) };
  }
  return new StreamingMapper(mapping, plan, crosswalk, component);
}

interface ListState {
  field: number;
  loop: LoopRef;
  open: Segment[] | null;
  matching: boolean;
  items: Record<string, unknown>[];
  rejections: Rejection[];
}

interface CountState {
  n: number;
  over: Segment | undefined;
  equals: Segment | undefined;
  within: WithinCheck | null;
  rejections: Rejection[];
}

class StreamingMapper implements SetMapper {
  private st: Segment | null = null;
  private readonly header: Segment[] = [];
  private headerDone = false;
  private readonly kept: Segment[] = [];
  private readonly got = new Set<{ conditions: Condition[] }>();
  private readonly seen = new Set<string>();
  private readonly lists: ListState[];
  private readonly checks: CountState[];
  private readonly present = new Set<Rejection>();
  private ctx: Ctx | null = null;

  constructor(
    private readonly mapping: CompiledMapping,
    private readonly plan: Plan,
    private readonly crosswalk: CrosswalkIndex | null,
    private readonly component: string,
  ) {
    this.lists = plan.lists.map((field) => {
      const node = mapping.fields[field].node as Extract<Node, { kind: 'list' }>;
      return { field, loop: node.each!, open: null, matching: false, items: [], rejections: [] };
    });
    this.checks = mapping.checks.map(() => ({ n: 0, over: undefined, equals: undefined, within: null, rejections: [] }));
  }

  feed(seg: Segment): void {
    const tag = seg.tag;
    if (!this.st) {
      this.st = seg;
      this.ctx = newCtx(this.component, seg.index, this.crosswalk);
      this.mapping.checks.forEach((c, i) => {
        if (c.within) this.checks[i].within = new WithinCheck(c, { ...this.ctx!, rejections: this.checks[i].rejections });
      });
    }
    if (this.plan.required.has(tag)) this.seen.add(tag);
    const checks = this.mapping.checks;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i];
      const s = this.checks[i];
      if (s.within) {
        s.within.feed(seg);
        continue;
      }
      if (tag === c.count.tag && matches(seg.elements, c.count.conditions) && ++s.n === (c.max ?? -1) + 1) s.over = seg;
      if (c.equals && !s.equals && tag === c.equals.tag && matches(seg.elements, c.equals.conditions)) s.equals = seg;
    }
    if (!this.headerDone) {
      if (seg !== this.st && this.mapping.detailStarts.has(tag)) this.headerDone = true;
      else this.header.push(seg);
    }
    let inside = false;
    for (const l of this.lists) {
      if (l.open) {
        if (tag === l.loop.matcher.tag || (l.loop.members ? !l.loop.members.has(tag) : l.loop.until.has(tag))) this.close(l);
        else {
          l.open.push(seg);
          inside = true;
          continue;
        }
      }
      if (tag === l.loop.matcher.tag) {
        l.open = [seg];
        l.matching = matches(seg.elements, l.loop.matcher.conditions);
        inside = true;
      }
    }
    let keep = !inside || this.plan.whole.has(tag);
    const paths = this.plan.firstOf.get(tag);
    if (paths) {
      for (const p of paths) {
        if (this.got.has(p) || !matches(seg.elements, p.conditions)) continue;
        this.got.add(p);
        keep = true;
      }
    }
    if (keep) this.kept.push(seg);
    else if (this.kept[this.kept.length - 1] !== GAP) this.kept.push(GAP);
  }

  /** A list's loop instance is complete: map it now and let its segments go. */
  private close(l: ListState): void {
    const inst = l.open!;
    l.open = null;
    if (!l.matching) return;
    const ctx = this.ctx!;
    const node = this.mapping.fields[l.field].node as Extract<Node, { kind: 'list' }>;
    const scope: Scope = { segs: inst, header: this.header, hl: [], first: inst[0] };
    const outer = ctx.rejections;
    ctx.rejections = l.rejections;
    const from = l.rejections.length;
    l.items.push(runFields(node.fields, scope, ctx));
    notePresent(l.rejections, from, inst, ctx, this.present);
    ctx.rejections = outer;
    if (l.rejections.length > 2 * MAX_REJECTIONS_PER_SET) {
      ctx.dropped += l.rejections.length - MAX_REJECTIONS_PER_SET;
      l.rejections.length = MAX_REJECTIONS_PER_SET;
    }
  }

  end(): MappedSet {
    const st = this.st!;
    const ctx = this.ctx!;
    for (const l of this.lists) if (l.open) this.close(l);
    const all: Rejection[] = [];
    for (const tag of this.mapping.requiredSegments) if (!this.seen.has(tag)) all.push(requiredMissing(tag, st));
    const scope: Scope = { segs: this.kept, header: this.header, hl: [], first: st };
    const data: Record<string, unknown> = {};
    this.mapping.fields.forEach((f, i) => {
      const l = this.lists.find((x) => x.field === i);
      if (l) {
        all.push(...l.rejections);
        data[f.name] = l.items;
        const node = f.node as Extract<Node, { kind: 'list' }>;
        if (!l.items.length && node.required) {
          ctx.rejections = [];
          runFields([f], { ...scope, segs: [] }, ctx);
          all.push(...ctx.rejections);
        }
        return;
      }
      ctx.rejections = [];
      Object.assign(data, runFields([f], scope, ctx));
      notePresent(ctx.rejections, 0, this.kept, ctx, this.present);
      all.push(...ctx.rejections);
    });
    this.mapping.checks.forEach((c, i) => {
      const s = this.checks[i];
      if (s.within) {
        all.push(...s.rejections);
        return;
      }
      ctx.rejections = [];
      countCheck(c, s.n, s.over, s.equals, ctx);
      all.push(...ctx.rejections);
    });
    ctx.rejections = all;
    return finishMapped(this.mapping, this.header, data, st.index, ctx, this.present);
  }
}
