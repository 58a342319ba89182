import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ls, po850, ROOT, tempDir, testConfig, waitFor } from '../helpers.ts';

/** Mapping configs are watched: a valid change applies to the next file, an invalid one is refused. */
let g: RunningGateway;
let mappingsDir: string;
let dataDir: string;

before(async () => {
  mappingsDir = path.join(tempDir('gw-maps-'), 'mappings');
  cpSync(path.join(ROOT, 'mappings'), mappingsDir, { recursive: true });
  const t = testConfig();
  writeFileSync(t.env.GATEWAY_CONFIG!, readFileSync(t.env.GATEWAY_CONFIG!, 'utf8').replace(/mappingsDir: .*/, `mappingsDir: ${JSON.stringify(mappingsDir)}`));
  dataDir = t.dataDir;
  g = await startGateway(t.env);
});
after(() => g.stop());

async function send(isa13: number, name: string) {
  const retail = drop(dataDir, 'demo-retail');
  writeFileSync(path.join(retail.in, name), po850(isa13, `PO-${isa13}`));
  await waitFor(() => [...ls(retail.archive), ...ls(retail.error)].find((f) => f.endsWith(`-${name}`)), 10_000, name);
  const doc = await g.db('documents').where({ filename: name }).first();
  const ev = await g.db('events').where({ document_id: doc.id }).first();
  return ev ? JSON.parse(ev.payload).data : null;
}

test('a valid change is picked up; an invalid one leaves the previous mapping active', async () => {
  const file = path.join(mappingsDir, 'demo-retail', '850.in.yaml');
  const original = readFileSync(file, 'utf8');
  assert.equal((await send(6001, 'r1.x12')).firstLineQty, undefined);

  const version = () => g.mappings.list().find((m) => m.id === 'demo-retail/850.in')!.version;
  const v1 = version();
  writeFileSync(file, original + '  firstLineQty: { path: PO102, type: decimal }\n');
  await waitFor(() => version() > v1, 10_000, 'mapping reloaded');
  assert.equal((await send(6002, 'r2.x12')).firstLineQty, '10');

  const refusedBefore = g.mappings.refused().length;
  writeFileSync(file, original + '  firstLineQty: { path: PO1XX, type: money }\n');
  // Wait for the watcher to have seen the change and refused it (not for a while).
  const refusal = await waitFor(() => g.mappings.refused().slice(refusedBefore).find((r) => r.file === 'demo-retail/850.in.yaml'), 10_000, 'the invalid change refused');
  assert.ok(refusal.problems.length > 0);
  assert.equal(version(), v1 + 1, 'the invalid version must not be activated');
  const data = await send(6100, 'r3.x12');
  assert.equal(data.firstLineQty, '10', 'the previous (valid) version must still be active');
});
