// Runs our transaction-set grammars over the corpus (../shared/corpus) and prints, per file of a
// set we have a grammar for, the syntax errors found beside the bots structure check's verdict.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkSegments, loadGrammars } from '../src/x12/grammar.ts';
import { readAllSegments } from '../src/x12/segment-reader.ts';

const CORPUS = path.resolve(import.meta.dirname, '..', '..', 'shared', 'corpus');
const g = loadGrammars(path.resolve(import.meta.dirname, '..', 'grammars', 'x12'));
const rows = readFileSync(path.join(CORPUS, 'VALIDATION.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
for (const [file, staedi, , bots] of rows) {
  let segs;
  try {
    segs = readAllSegments(readFileSync(path.join(CORPUS, file)));
  } catch (e) {
    console.log(`${file}\tunreadable: ${String(e).slice(0, 60)}`);
    continue;
  }
  const delim = { component: segs.segments.find((s) => s.tag === 'ISA')?.isa?.delimiters.component ?? '>' };
  let version = '';
  let cur: { tag: string; elements: string[] }[] | null = null;
  let setId = '';
  const out: string[] = [];
  for (const s of segs.segments) {
    if (s.tag === 'GS') version = s.elements[8] ?? '';
    if (s.tag === 'ST') {
      cur = [];
      setId = s.elements[1];
    }
    if (cur) cur.push(s);
    if (s.tag === 'SE' && cur) {
      const r = checkSegments(g, setId, version, cur, delim);
      if (r) out.push(`${setId}/${version}${r.nearest ? '~' : ''}: ${r.errors.length ? r.errors.slice(0, 4).map((e) => `${e.segmentId}@${e.position}:${e.segmentCode}${e.element ? `/${e.element.position}:${e.element.code}` : ''}`).join(' ') + (r.errors.length > 4 ? ` +${r.errors.length - 4}` : '') : 'OK'}`);
      cur = null;
    }
  }
  if (out.length) console.log(`${file}\tstaedi=${staedi}\tbots=${bots}\n    ${out.join('\n    ')}`);
}
