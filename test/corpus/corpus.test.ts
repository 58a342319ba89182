import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERRORS } from '../../src/core/errors.ts';
import { allRejections, CORPUS, corpusFiles, demo, readTsv, translateBuffer } from '../helpers.ts';

/**
 * The whole public corpus through the translator (as `gateway translate` runs it):
 * no crash, no hang; every file ends in canonical events or coded rejections; where StAEDI found
 * an envelope error, the gateway rejects or flags that file too; files documented as malformed
 * are rejected.
 */
const ctx = demo();
const validation = new Map(readTsv(path.join(CORPUS, 'VALIDATION.tsv')).map((r) => [r.local_file, r]));
const sources = new Map(readTsv(path.join(CORPUS, 'SOURCES.tsv')).map((r) => [r.local_file, r]));
const files = corpusFiles();

test('the corpus is there and has its validator verdicts', () => {
  assert.ok(files.length >= 90, `only ${files.length} corpus files`);
  for (const f of files) assert.ok(validation.has(f), `${f} has no verdict`);
});

for (const f of files) {
  // A hang fails the test (its timeout); how fast it goes is bench/'s business, not a test's.
  test(`corpus: ${f}`, { timeout: 120_000 }, async () => {
    const buf = readFileSync(path.join(CORPUS, f));
    const { result, events } = await translateBuffer(buf, ctx, { chunk: 4096 });
    const rej = allRejections(result);
    for (const r of rej) assert.ok(r.code in ERRORS, `unknown code ${r.code}`);
    const errors = rej.filter((r) => r.severity === 'error');
    assert.ok(events.length > 0 || errors.length > 0, 'neither events nor coded rejections');
    // Every transaction set is accounted for: accepted with its event, or rejected with a reason.
    for (const ic of result.interchanges) {
      for (const g of ic.groups) {
        for (const s of g.sets) {
          if (s.accepted) assert.equal(s.eventCount, 1, `${s.setId} ${s.control} accepted without an event`);
          else assert.ok(s.rejections.length + g.rejections.length + ic.rejections.length > 0, `${s.setId} ${s.control} rejected without a reason`);
        }
      }
    }
    assert.equal(events.length, result.eventCount);
    const verdict = validation.get(f)!.staedi_envelope;
    if (verdict !== 'OK') {
      assert.ok(rej.length > 0, `StAEDI found "${verdict}" but the gateway neither rejected nor flagged the file`);
    }
    if (/malformed/i.test(sources.get(f)?.notes ?? '')) {
      assert.ok(errors.length > 0, 'a file documented as malformed was not rejected');
    }
  });
}
