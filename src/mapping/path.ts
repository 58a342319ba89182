/**
 * The element path language of mapping configs (node-x12's query syntax, extended a little):
 *
 *   BEG03                    element 3 of the first BEG segment in scope
 *   QTY03-01                 component 1 of element 3
 *   REF02[REF01=IA]          element 2 of the first REF whose REF01 is IA
 *   N104[N101=ST|BT]         ... whose N101 is ST or BT
 *   REF02:REF01["IA"]        node-x12 spelling of REF02[REF01=IA]
 *   ^N104[N101=WH]           look in the transaction header instead of the current loop
 *
 * Paths are parsed once when a mapping is compiled; a bad path is a mapping config error.
 */
export interface Condition {
  element: number;
  values: string[];
}

export interface ElementPath {
  text: string;
  header: boolean;
  tag: string;
  element: number;
  component?: number;
  conditions: Condition[];
}

const MAIN = /^(\^)?([A-Z][A-Z0-9]{1,2})(\d{2})(?:-(\d{2}))?(?=$|[\[:])/;

export function parsePath(text: string): ElementPath | string {
  const m = MAIN.exec(text);
  if (!m) return `"${text}" is not an element path (expected e.g. BEG03, REF02[REF01=IA])`;
  const [, caret, tag, el, comp] = m;
  const path: ElementPath = {
    text,
    header: caret === '^',
    tag,
    element: +el,
    component: comp ? +comp : undefined,
    conditions: [],
  };
  if (path.element < 1) return `"${text}": element positions start at 01`;
  let rest = text.slice(m[0].length);
  while (rest.length) {
    let c = /^\[([A-Z][A-Z0-9]{1,2})(\d{2})=([^\]]*)\]/.exec(rest);
    if (!c) c = /^:([A-Z][A-Z0-9]{1,2})(\d{2})\["([^"]*)"\]/.exec(rest);
    if (!c) return `"${text}": cannot read the condition "${rest}"`;
    if (c[1] !== tag) return `"${text}": a condition must test the same segment (${tag}), not ${c[1]}`;
    path.conditions.push({ element: +c[2], values: c[3].split('|') });
    rest = rest.slice(c[0].length);
  }
  return path;
}

/** A tag with an optional condition, for loops: `N1[N101=ST]`, `HL[HL03=O]`, or a bare tag. */
export interface SegmentMatcher {
  tag: string;
  conditions: Condition[];
}

export function parseMatcher(text: string): SegmentMatcher | string {
  const m = /^([A-Z][A-Z0-9]{1,2})((?:\[.*\])*)$/.exec(text);
  if (!m) return `"${text}" is not a segment tag (optionally with [TAGnn=value] conditions)`;
  if (!m[2]) return { tag: m[1], conditions: [] };
  const p = parsePath(`${m[1]}01${m[2]}`);
  if (typeof p === 'string') return p.replace(`${m[1]}01`, m[1]);
  return { tag: m[1], conditions: p.conditions };
}

export function matches(elements: string[], conditions: Condition[]): boolean {
  for (const c of conditions) {
    if (!c.values.includes(elements[c.element] ?? '')) return false;
  }
  return true;
}
