import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, testConfig, waitFor } from '../helpers.ts';
import { mutated } from './fuzz-lib.ts';

/**
 * Fuzzing through the running gateway: mutated inputs dropped in the partners' inboxes. Every one
 * is settled (archive/ or error/), none is left RECEIVED or in in/ or processing/, every document
 * has a final status, and the gateway stays ready.
 */
let g: RunningGateway;
let dataDir: string;

before(async () => {
  const t = testConfig();
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

test('mutated inputs (80; FUZZ_GATEWAY_INPUTS) through the running gateway: each settled with a final status, the gateway ready', { timeout: 300_000 }, async () => {
  const written: { partner: string; name: string }[] = [];
  const n = Number(process.env.FUZZ_GATEWAY_INPUTS ?? 80);
  for (let s = 30_000; s < 30_000 + n; s++) {
    const m = mutated(s);
    const xml = m.bytes.subarray(0, 64).toString('latin1').trimStart().startsWith('<');
    const partner = xml ? 'demo-3pl' : s % 2 ? 'demo-retail' : 'demo-3pl';
    const name = `fz-${s}.${xml ? 'xml' : 'x12'}`;
    writeFileSync(path.join(drop(dataDir, partner).in, name), m.bytes);
    written.push({ partner, name });
  }
  await waitFor(
    () => written.every(({ partner, name }) => [...ls(drop(dataDir, partner).archive), ...ls(drop(dataDir, partner).error)].some((f) => f.endsWith(`-${name}`))),
    240_000,
    'every input settled',
  );
  const docs = await g.db('documents').whereLike('filename', 'fz-%');
  assert.equal(docs.length, written.length);
  const final = new Set(['PROCESSED', 'PARTIAL', 'REJECTED', 'DUPLICATE', 'PARKED', 'WAITING', 'HELD']);
  for (const d of docs) assert.ok(final.has(d.status), `${d.filename}: ${d.status} (${d.error_code})`);
  for (const p of ['demo-retail', 'demo-3pl']) {
    assert.deepEqual(ls(drop(dataDir, p).in), [], `${p} in/ empty`);
    assert.deepEqual(ls(path.join(path.dirname(drop(dataDir, p).in), 'processing')), [], `${p} processing/ empty`);
  }
  const ready = await fetch(`http://127.0.0.1:${g.port}/ready`);
  assert.equal(ready.status, 200);
});
