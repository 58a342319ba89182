import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectGrammars } from '../../src/x12/grammar.ts';
import { CORPUS, demo, readTsv, translateBuffer } from '../helpers.ts';

/**
 * Issue 14: every corpus file with sets in our grammars gets the envelope verdict (its TA1 and
 * AK9/AK5 for the envelope: counts, control numbers, trailers) that StAEDI's strict envelope check
 * gave it, except where the difference is documented here and in the README with its reason.
 */
const WE_READ_WHAT_STAEDI_REFUSES: Record<string, string> = {
  // A CR or LF as the segment terminator (the ISA's 106th character names it; the standard allows
  // any character not used in the data), which StAEDI takes for whitespace.
  '850/Inteligenz__X12Parser__Example2_Adobe_TLP.txt': 'CR segment terminator (and a UTF-8 BOM)',
  '856/apimeister__x12-types__004060_856.edi': 'LF segment terminator',
  '940/olmelabs__EdiEngine__940.OK.edi': 'LF segment terminator',
  // Files hard-wrapped at 80 columns: we drop the line breaks that fall inside segments and say so
  // (GW_X12_LINE_WRAPPED, a warning on the document); StAEDI counts them in the ISA.
  '850/bots-edi__bots-plugins__850-004010-08.x12': 'wrapped at 80 columns',
  '850/bots-edi__bots-plugins__850-004010.16.x12': 'wrapped at 80 columns',
  // EBCDIC: we transcode it (GW_X12_EBCDIC_TRANSCODED, a warning); StAEDI reads bytes as ASCII.
  '850/bots-edi__bots-plugins__ebcdic.x12': 'EBCDIC',
};

test('envelope verdicts against StAEDI over the corpus: the same, or a documented difference', async () => {
  const ctx = demo();
  const g = projectGrammars();
  const ours: string[] = [];
  const theirs: string[] = [];
  let checked = 0;
  for (const row of readTsv(path.join(CORPUS, 'VALIDATION.tsv'))) {
    const f = row.local_file;
    const { result } = await translateBuffer(readFileSync(path.join(CORPUS, f)), ctx, { chunk: 4096 });
    const sets = result.interchanges.flatMap((ic) => ic.groups.flatMap((gr) => gr.sets.map((s) => s.setId)));
    if (!sets.some((id) => [...g.sets.values()].some((v) => v.has(id)))) continue;
    checked++;
    const envelope = [
      ...result.fileRejections,
      ...result.interchanges.flatMap((ic) => [...ic.rejections, ...ic.groups.flatMap((gr) => [...gr.rejections, ...gr.sets.flatMap((s) => s.rejections.filter((r) => /^GW_X12_(SE|ST)_/.test(r.code)))])]),
    ].filter((r) => r.severity === 'error' && !r.code.startsWith('GW_PARTNER'));
    const staediOk = row.staedi_envelope === 'OK';
    if (staediOk && envelope.length) theirs.push(`${f}: ${[...new Set(envelope.map((r) => r.code))].join(',')}`);
    if (!staediOk && !envelope.length) ours.push(f);
  }
  assert.ok(checked >= 50, `only ${checked} files with sets in our grammars`);
  assert.deepEqual(theirs, [], 'envelope errors StAEDI does not see');
  assert.deepEqual(ours.sort(), Object.keys(WE_READ_WHAT_STAEDI_REFUSES).sort());
});
