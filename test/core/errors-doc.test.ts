import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ERRORS } from '../../src/core/errors.ts';
import { errorsDoc } from '../../scripts/errors-doc.ts';
import { ROOT } from '../helpers.ts';

test('docs/errors.md lists exactly the codes of the registry, with their messages', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(GW_[A-Z0-9_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]);
  assert.deepEqual(
    documented.map(([c]) => c).sort(),
    Object.keys(ERRORS).sort(),
  );
  for (const [code, message] of documented) assert.equal(message, ERRORS[code as keyof typeof ERRORS].message, code);
  assert.equal(doc, errorsDoc(), 'regenerate with: node --import tsx scripts/errors-doc.ts > docs/errors.md');
});

test('every code has a sane HTTP status and X12 mapping', () => {
  for (const [code, d] of Object.entries(ERRORS)) {
    assert.ok(d.http >= 200 && d.http < 600, code);
    if (d.x12?.ta1) assert.match(d.x12.ta1, /^\d{3}$/, code);
    if (d.x12?.ak5) assert.match(d.x12.ak5, /^\d{1,3}$/, code);
  }
});
