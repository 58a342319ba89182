import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, ROOT, translateBuffer } from '../helpers.ts';

/**
 * What the outbound golden tests share (856, 855, 940): the file under samples/outbound compared
 * byte for byte (UPDATE_GOLDEN=1 rewrites it for review), and the document read back by our own
 * strict reader (envelope, group, set; `GW_MAPPING_MISSING` allowed for sets we take no copy of in).
 */
export function golden(name: string, text: string): void {
  const file = path.join(ROOT, 'samples', 'outbound', `${name}.x12`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  assert.ok(existsSync(file), `${file} missing (UPDATE_GOLDEN=1 creates it)`);
  assert.equal(text, readFileSync(file, 'utf8'));
}

let shared: ReturnType<typeof demo> | undefined;

export async function readBack(text: string, ctx: ReturnType<typeof demo> = (shared ??= demo())): Promise<ReturnType<typeof readAllSegments>['segments']> {
  const { result } = await translateBuffer(text, ctx);
  const ic = result.interchanges[0];
  assert.deepEqual(ic.rejections.filter((r) => r.severity === 'error' && !r.code.startsWith('GW_PARTNER')), []);
  assert.deepEqual(ic.groups[0].rejections, []);
  assert.deepEqual(ic.groups[0].sets[0].rejections.filter((r) => r.severity === 'error' && r.code !== 'GW_MAPPING_MISSING'), []);
  return readAllSegments(Buffer.from(text)).segments;
}
