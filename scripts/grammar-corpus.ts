// Runs our transaction-set grammars over the corpus (../shared/corpus) and prints, per file of a
// set we have a grammar for, the syntax errors found beside the bots structure check's verdict.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DocumentChecker, loadGrammars } from '../src/x12/grammar.ts';

const CORPUS = path.resolve(import.meta.dirname, '..', '..', 'shared', 'corpus');
const g = loadGrammars(path.resolve(import.meta.dirname, '..', 'grammars', 'x12'));
const rows = readFileSync(path.join(CORPUS, 'VALIDATION.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
for (const [file, staedi, , bots] of rows) {
  let sets;
  try {
    const d = new DocumentChecker(g);
    d.push(readFileSync(path.join(CORPUS, file)));
    sets = d.end();
  } catch (e) {
    console.log(`${file}\tunreadable: ${String(e).slice(0, 60)}`);
    continue;
  }
  const out = sets.map((r) => `${r.setId}/${r.version}${r.nearest ? '~' : ''}: ${r.errors.length ? r.errors.slice(0, 4).map((e) => `${e.segmentId}@${e.position}:${e.segmentCode}${e.element ? `/${e.element.position}:${e.element.code}` : ''}`).join(' ') + (r.errors.length > 4 ? ` +${r.errors.length - 4}` : '') : 'OK'}`);
  if (out.length) console.log(`${file}\tstaedi=${staedi}\tbots=${bots}\n    ${out.join('\n    ')}`);
}
