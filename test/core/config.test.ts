import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { GatewayError } from '../../src/core/errors.ts';
import { ROOT, tempDir } from '../helpers.ts';

function badConfig(): string {
  const dir = tempDir('gw-badcfg-');
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(path.join(dir, 'gateway.yaml'), 'us: { qualifier: ZZZ, id: US }\napi: { port: 99999 }\nbogus: 1\n');
  writeFileSync(path.join(dir, 'partners', 'acme.yaml'), 'id: acme\ninterchange: { qualifier: ZZ }\nsends: ["85"]\n');
  writeFileSync(path.join(dir, 'partners', 'wrong-name.yaml'), 'id: other\ninterchange: { qualifier: ZZ, id: OTHER }\n');
  return path.join(dir, 'gateway.yaml');
}

test('every configuration problem is reported at once, with file and path', () => {
  const file = badConfig();
  let err: GatewayError | undefined;
  try {
    loadConfig({ GATEWAY_CONFIG: file, PORT: 'eighty' }, ROOT);
  } catch (e) {
    err = e as GatewayError;
  }
  assert.ok(err instanceof GatewayError);
  assert.equal(err.code, 'GW_CONFIG_INVALID');
  const problems = err.details as { file: string; path: string }[];
  const keys = problems.map((p) => `${path.basename(p.file)}:${p.path}`);
  for (const k of ['gateway.yaml:us.qualifier', 'gateway.yaml:api.port', 'gateway.yaml:(root)', 'environment:PORT']) assert.ok(keys.includes(k), `${k} missing from ${keys.join(', ')}`);
  assert.ok(keys.some((k) => k.startsWith('acme.yaml:interchange')));
  assert.ok(keys.some((k) => k.startsWith('acme.yaml:sends')));
});

test('gateway start with a bad config exits 2 before opening anything, printing the problems', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), 'start'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GATEWAY_CONFIG: badConfig() }, timeout: 20_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /GW_CONFIG_INVALID/);
  assert.match(r.stderr, /us\.qualifier/);
});

test('the demo default loads', () => {
  const c = loadConfig({ GATEWAY_DATA_DIR: tempDir() }, ROOT);
  assert.deepEqual(c.partners.map((p) => p.id).sort(), ['demo-3pl', 'demo-retail']);
  assert.equal(c.api.port, 8080);
  assert.equal(c.api.host, '127.0.0.1');
  assert.deepEqual(c.us, { qualifier: 'ZZ', id: 'DISTRIBUTOR1', gsId: 'DISTRIBUTOR1' });
  assert.ok(c.folders['demo-retail']!.in.endsWith(path.join('drop', 'demo-retail', 'in')));
});
