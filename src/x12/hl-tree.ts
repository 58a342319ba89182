import { reject, type Rejection } from '../core/rejection.ts';
import type { Segment } from './segment-reader.ts';

/**
 * The HL hierarchy of a transaction set (856), built from HL01/HL02 rather than from segment
 * order, so S-O-P-I, S-O-T-P-I and S-O-I (and every branch, not only the first) come out right.
 */
export interface HlNode {
  id: string;
  parentId: string;
  level: string;
  /** Segments of this level: the HL itself up to the next HL (or the trailer). */
  segments: Segment[];
  children: HlNode[];
}

export interface HlTree {
  header: Segment[];
  roots: HlNode[];
  count: number;
  rejections: Rejection[];
}

/** Which level codes may sit under which (retail 856: S-O-P-I, S-O-T-P-I, S-O-I). */
export const DEFAULT_HL_CHILDREN: Readonly<Record<string, readonly string[]>> = {
  '': ['S'],
  S: ['O', 'T'],
  O: ['T', 'P', 'I'],
  T: ['P', 'I'],
  P: ['I'],
  I: [],
};

const TRAILER = new Set(['CTT', 'SE']);

export function buildHlTree(
  segments: Segment[],
  setStart: number,
  allowed: Readonly<Record<string, readonly string[]>> = DEFAULT_HL_CHILDREN,
): HlTree {
  const header: Segment[] = [];
  const roots: HlNode[] = [];
  const byId = new Map<string, HlNode>();
  const rejections: Rejection[] = [];
  let current: HlNode | null = null;
  let count = 0;
  const pos = (s: Segment) => s.index - setStart + 1;
  for (const seg of segments) {
    if (seg.tag === 'HL') {
      count++;
      const [, id = '', parentId = '', level = ''] = seg.elements;
      const where = { segmentIndex: seg.index, setPosition: pos(seg), segmentTag: 'HL' };
      const node: HlNode = { id, parentId, level, segments: [seg], children: [] };
      if (id !== String(count)) {
        rejections.push(reject('GW_X12_HL_INVALID', `HL01 is ${JSON.stringify(id)}, expected ${count} (sequential from 1)`, { ...where, element: 1, value: id }));
      }
      if (parentId === '') {
        roots.push(node);
      } else {
        const parent = byId.get(parentId);
        if (!parent) {
          rejections.push(reject('GW_X12_HL_INVALID', `HL02 ${JSON.stringify(parentId)} is not an earlier HL01`, { ...where, element: 2, value: parentId }));
          roots.push(node);
        } else {
          parent.children.push(node);
        }
      }
      const parentLevel = parentId === '' ? '' : (byId.get(parentId)?.level ?? null);
      if (parentLevel !== null) {
        // Own keys only: a level code such as "constructor" is not a rule of Object's prototype.
        const ok = Object.hasOwn(allowed, parentLevel) ? allowed[parentLevel] : undefined;
        if (ok && !ok.includes(level)) {
          rejections.push(
            reject('GW_X12_HL_INVALID', `level ${JSON.stringify(level)} cannot be under ${parentLevel ? JSON.stringify(parentLevel) : 'the top'} (allowed: ${ok.join(', ') || 'none'})`, { ...where, element: 3, value: level }),
          );
        }
      }
      if (byId.has(id)) rejections.push(reject('GW_X12_HL_INVALID', `HL01 ${id} repeated`, { ...where, element: 1, value: id }));
      byId.set(id, node);
      current = node;
    } else if (TRAILER.has(seg.tag)) {
      current = null;
      header.push(seg);
    } else if (current) {
      current.segments.push(seg);
    } else {
      header.push(seg);
    }
  }
  return { header, roots, count, rejections };
}

/** Nodes with one of `levels` under `from` (depth first, in file order), not entering `outside` levels. */
export function hlDescendants(from: HlNode[], levels: readonly string[], outside: readonly string[] = []): HlNode[] {
  const out: HlNode[] = [];
  // An explicit stack, not recursion: a partner's HL chain can be thousands deep.
  const stack: HlNode[] = [...from].reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (levels.includes(n.level)) out.push(n);
    if (!outside.includes(n.level)) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}
