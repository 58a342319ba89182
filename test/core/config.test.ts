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
  writeFileSync(path.join(dir, 'partners', 'wh.yaml'), 'id: wh\ninterchange: { qualifier: ZZ, id: WH }\nshipmentCustomer: nobody\n');
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
  const problems = err.details as { file: string; path: string; message: string }[];
  const keys = problems.map((p) => `${path.basename(p.file)}:${p.path}`);
  for (const k of ['gateway.yaml:us.qualifier', 'gateway.yaml:api.port', 'gateway.yaml:bogus', 'environment:PORT', 'wh.yaml:shipmentCustomer']) assert.ok(keys.includes(k), `${k} missing from ${keys.join(', ')}`);
  assert.match(problems.find((p) => p.path === 'bogus')!.message, /^unknown key \(allowed here: .*\bus\b/, 'an unknown key far from every allowed one lists them');
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
  assert.deepEqual(c.partners.map((p) => p.id).sort(), ['demo-3pl', 'demo-bigbox', 'demo-retail', 'demo-supplier']);
  // Our locations, the 3PL's codes for them, the item master's units and kits.
  assert.deepEqual(c.locations, ['ACME-EAST', 'ACME-WEST']);
  assert.deepEqual(c.partners.find((p) => p.id === 'demo-3pl')!.locations, { CMH1: 'ACME-EAST', RNO1: 'ACME-WEST' });
  assert.deepEqual(c.items.items.get('GADGET-1'), { baseUnit: 'EA', units: { CA: 120_000 } });
  assert.deepEqual(c.items.kits['WIDGET-PACK'], { 'WIDGET-S': 20_000, 'WIDGET-M': 10_000 });
  const bigbox = c.partners.find((p) => p.id === 'demo-bigbox')!.publish846!;
  assert.deepEqual([bigbox.rank, bigbox.share, c.partners.find((p) => p.id === 'demo-retail')!.publish846!.rank], [10, { percent: 60 }, 1]);
  assert.equal(c.api.port, 8080);
  assert.equal(c.api.host, '127.0.0.1');
  assert.deepEqual(c.us, { qualifier: 'ZZ', id: 'DISTRIBUTOR1', gsId: 'DISTRIBUTOR1' });
  assert.ok(c.folders['demo-retail']!.in.endsWith(path.join('drop', 'demo-retail', 'in')));
});

test('item master and locations: every problem reported (unit of the base, kit of kits, an unknown location in a policy)', () => {
  const dir = tempDir('gw-items-');
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(path.join(dir, 'gateway.yaml'), 'us: { qualifier: ZZ, id: US }\nlocations: [EAST]\n');
  writeFileSync(path.join(dir, 'items.yaml'), 'items:\n  A: { baseUnit: EA, units: { CA: 0 } }\n  B: { baseUnit: eaches }\n');
  writeFileSync(path.join(dir, 'partners', 'acme.yaml'), 'id: acme\ninterchange: { qualifier: ZZ, id: ACME }\npublish846: { locations: [EAST, NOWHERE] }\nlocations: { W1: EAST }\n');
  try {
    loadConfig({ GATEWAY_CONFIG: path.join(dir, 'gateway.yaml'), GATEWAY_DATA_DIR: tempDir() }, dir);
    assert.fail('expected a config error');
  } catch (e) {
    const msg = (e as Error).message;
    for (const want of ['items.A.units.CA', 'items.B.baseUnit', 'NOWHERE is not one of our locations']) assert.match(msg, new RegExp(want.replace(/\./g, '\\.')), want);
  }
  // Well-formed but wrong: a conversion of the base unit, a kit in itself, a kit of kits.
  writeFileSync(path.join(dir, 'items.yaml'), 'items:\n  A: { baseUnit: EA, units: { EA: 1 } }\nkits:\n  K: { K: 1 }\n  K2: { K: 2 }\n');
  writeFileSync(path.join(dir, 'partners', 'acme.yaml'), 'id: acme\ninterchange: { qualifier: ZZ, id: ACME }\n');
  assert.throws(() => loadConfig({ GATEWAY_CONFIG: path.join(dir, 'gateway.yaml'), GATEWAY_DATA_DIR: tempDir() }, dir), (e: Error) => ['items.A.units.EA', 'kits.K:', 'kits.K2.K'].every((w) => e.message.includes(w)));
});

/** A config folder with one partner whose SFTP channel block is `sftp` (YAML flow mapping). */
function sftpConfig(sftp: string): string {
  const dir = tempDir('gw-sftpcfg-');
  mkdirSync(path.join(dir, 'partners'));
  writeFileSync(path.join(dir, 'gateway.yaml'), 'us: { qualifier: ZZ, id: US }\n');
  writeFileSync(path.join(dir, 'partners', 'acme.yaml'), `id: acme\ninterchange: { qualifier: ZZ, id: ACME }\nchannels:\n  sftp: ${sftp}\n`);
  writeFileSync(path.join(dir, 'key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nfile\n-----END OPENSSH PRIVATE KEY-----\n');
  return path.join(dir, 'gateway.yaml');
}

const FP = `SHA256:${'a'.repeat(43)}`;

test('SFTP channel settings: defaults, the key from a file or from the environment (PEM or base64)', () => {
  const base = `{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out`;
  const fromFile = loadConfig({ GATEWAY_CONFIG: sftpConfig(`${base}, privateKeyPath: key }`) }, ROOT).sftp.acme;
  assert.match(fromFile.privateKey.toString(), /file/);
  assert.equal(fromFile.port, 22);
  assert.equal(fromFile.minAgeMs, 5000);
  assert.equal(fromFile.maxSessionsPerHost, 2);
  assert.equal(fromFile.pattern.source, '.*');
  const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nenv\n-----END OPENSSH PRIVATE KEY-----\n';
  const file = sftpConfig(`${base}, privateKeyEnv: ACME_KEY, pattern: '\\.x12$' }`);
  assert.equal(loadConfig({ GATEWAY_CONFIG: file, ACME_KEY: pem }, ROOT).sftp.acme.privateKey.toString(), pem);
  const b64 = loadConfig({ GATEWAY_CONFIG: file, ACME_KEY: Buffer.from(pem).toString('base64') }, ROOT).sftp.acme;
  assert.equal(b64.privateKey.toString(), pem);
  assert.ok(b64.pattern.test('a.x12') && !b64.pattern.test('a.x12.part'));
});

test('SFTP channel settings: every problem reported, and the key itself never in a message', () => {
  const problems = (yaml: string, env: NodeJS.ProcessEnv = {}) => {
    try {
      loadConfig({ GATEWAY_CONFIG: sftpConfig(yaml), ...env }, ROOT);
      return [];
    } catch (e) {
      return ((e as GatewayError).details as { path: string; message: string }[]).map((p) => `${p.path}: ${p.message}`);
    }
  };
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "MD5:aa", inbound: /in, outbound: /out, privateKeyPath: key }`).some((p) => p.startsWith('channels.sftp.hostKeyFingerprint')));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out }`).some((p) => /privateKeyPath or privateKeyEnv/.test(p)));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out, privateKeyPath: key, privateKeyEnv: K }`).some((p) => /privateKeyPath or privateKeyEnv/.test(p)));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out, privateKeyPath: nokey }`).some((p) => /no key file/.test(p)));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out, privateKeyEnv: NOT_SET }`).some((p) => /NOT_SET is not set/.test(p)));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out, privateKeyPath: key, pattern: "(" }`).some((p) => p.startsWith('channels.sftp.pattern')));
  assert.ok(problems(`{ host: h, user: u, hostKeyFingerprint: "${FP}", inbound: /in, outbound: /out, privateKeyPath: key, bogus: 1 }`).length > 0, 'unknown keys refused');
  // A broken config with a key in the environment: the messages name the variable, not the key.
  const secret = '-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n';
  const msgs = problems(`{ host: h, user: u, hostKeyFingerprint: "bad", inbound: /in, outbound: /out, privateKeyEnv: K }`, { K: secret });
  assert.ok(msgs.length > 0);
  assert.ok(!msgs.join('\n').includes('SECRETKEYMATERIAL'));
});
