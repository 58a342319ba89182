import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { didYouMean, keysAt } from '../../src/config/suggest.ts';
import { ROOT, tempDir, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 15: the CLI says what went wrong on every non-zero exit, once: one line with the code and
 * the problem and its fix (JSON when stderr is not a terminal), configuration problems one per
 * line with file, path, reason and a "did you mean" for a mistyped key; start-up errors as one
 * line, no stack trace.
 */
const bin = path.join(ROOT, 'bin', 'gateway.js');

function gw(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, GATEWAY_DATA_DIR: tempDir(), ...env } });
  const lines = r.stderr.trim() ? r.stderr.trim().split('\n') : [];
  return { code: r.status, out: r.stdout, lines, json: lines.map((l) => JSON.parse(l) as { code: string; message: string; fix?: string; file?: string; path?: string }) };
}

/** Exactly one line, with a code, a message and a fix, and no stack trace. */
function oneFailure(r: ReturnType<typeof gw>, code: string, message: RegExp) {
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.equal(r.json[0].code, code);
  assert.match(r.json[0].message, message);
  assert.ok(r.json[0].fix && r.json[0].fix.length > 10, `a fix: ${r.lines[0]}`);
  assert.doesNotMatch(r.lines[0], /\n\s+at /);
}

test('every usage error of the issue exits 2 with one line and its fix', () => {
  oneFailure(gw(['translate', '/nonexistent.x12']), 'GW_USAGE', /no such file: \/nonexistent\.x12/);
  const nobody = gw(['translate', path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), '--partner', 'nobody']);
  assert.equal(nobody.code, 2);
  oneFailure(nobody, 'GW_USAGE', /unknown partner nobody/);
  assert.match(nobody.json[0].fix!, /demo-retail/, 'the fix names the configured partners');
  const emit = gw(['emit', '850', '--partner', 'demo-retail']);
  assert.equal(emit.code, 2);
  oneFailure(emit, 'GW_USAGE', /cannot emit 850/);
  for (const r of [gw(['translate', '/nonexistent.x12']), gw(['bogus']), gw(['translate'])]) assert.equal(r.code, 2);
  // Commander's message is not printed a second time by us.
  const bogus = gw(['bogus']);
  oneFailure(bogus, 'GW_USAGE', /unknown command 'bogus'/);
  oneFailure(gw(['tranlate', 'x']), 'GW_USAGE', /Did you mean translate\?/);
});

test('arguments are validated: --limit abc and --status FOO exit 2 with nothing on stdout', () => {
  for (const args of [['divergence', '--limit', 'abc'], ['oversells', '--limit', '0'], ['held', '--status', 'FOO'], ['items', '--status', 'LOST'], ['divergence', '--document', 'x']]) {
    const r = gw(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
    oneFailure(r, 'GW_USAGE', /invalid/);
  }
});

test('ack of a file that is not X12 (an image, an XML feed, an empty file) exits 1 and says so', () => {
  const dir = tempDir();
  const png = path.join(dir, 'image.png');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]));
  const r = gw(['ack', png]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  oneFailure(r, 'GW_FORMAT_UNKNOWN', /image\.png is neither X12 nor XML/);
  const xml = path.join(dir, 'feed.xml');
  writeFileSync(xml, '<?xml version="1.0"?><Shipments/>');
  oneFailure(gw(['ack', xml]), 'GW_FORMAT_UNKNOWN', /is XML, not X12/);
  const empty = path.join(dir, 'empty.x12');
  writeFileSync(empty, '');
  const e = gw(['translate', empty]);
  assert.equal(e.code, 1);
  oneFailure(e, 'GW_FILE_EMPTY', /is empty/);
});

test('--version prints the package version', () => {
  const r = spawnSync(process.execPath, [bin, '--version'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
});

test('configuration errors: one line per problem with file and path, a "did you mean" for a mistyped key, then the summary with its fix', () => {
  const t = testConfig({ extra: 'logLevl: info\ninbound2: {}\n' });
  const dir = tempDir();
  const partner = readFileSync(path.join(ROOT, 'config/partners/demo-retail.yaml'), 'utf8').replace('send997:', 'sendd997:');
  writeFileSync(path.join(dir, 'demo-retail.yaml'), partner);
  writeFileSync(t.env.GATEWAY_CONFIG!, readFileSync(t.env.GATEWAY_CONFIG!, 'utf8').replace(/^partnersDir: .*$/m, `partnersDir: ${JSON.stringify(dir)}`));
  const r = gw(['translate', path.join(ROOT, 'samples/demo-retail/850-po-1001.x12')], t.env);
  assert.equal(r.code, 2);
  const problems = r.json.slice(0, -1);
  assert.deepEqual(
    problems.map((p) => [path.basename(p.file!), p.path, p.message]),
    [
      ['gateway.yaml', 'logLevl', 'unknown key (did you mean "logLevel"?)'],
      ['gateway.yaml', 'inbound2', 'unknown key (did you mean "inbound"?)'],
      ['demo-retail.yaml', 'acks.sendd997', 'unknown key (did you mean "send997"?)'],
    ],
  );
  assert.ok(problems.every((p) => p.code === 'GW_CONFIG_INVALID'));
  const last = r.json.at(-1)!;
  assert.equal(last.code, 'GW_CONFIG_INVALID');
  assert.match(last.message, /3 problems/);
  assert.match(last.fix!, /correct each problem/);
});

test('"did you mean" finds keys at nested paths, through optional, default and union schemas, and says nothing for a key far from all', () => {
  const s = z.object({ acks: z.object({ send997: z.boolean(), ta1: z.string() }).strict().optional(), list: z.array(z.object({ sku: z.string() }).strict()).default([]), share: z.union([z.object({ quantity: z.number() }), z.object({ percent: z.number() })]) }).strict();
  assert.deepEqual(keysAt(s, []), ['acks', 'list', 'share']);
  assert.deepEqual(keysAt(s, ['acks']), ['send997', 'ta1']);
  assert.deepEqual(keysAt(s, ['list', 3]), ['sku']);
  assert.deepEqual(keysAt(s, ['share']), ['quantity', 'percent']);
  assert.deepEqual(keysAt(s, ['nowhere']), []);
  assert.equal(didYouMean('sendd997', keysAt(s, ['acks'])), 'send997');
  assert.equal(didYouMean('Percent', keysAt(s, ['share'])), 'percent');
  assert.equal(didYouMean('warehouse', keysAt(s, ['acks'])), null);
});

test('start-up errors are one line: the port in use (the gateway does not start), no stack trace', { timeout: 90_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as AddressInfo).port;
  try {
    const t = testConfig({ api: `{ host: 127.0.0.1, port: ${port} }` });
    const r = gw(['start'], t.env);
    assert.equal(r.code, 2, r.lines.join('\n'));
    oneFailure(r, 'GW_PORT_IN_USE', new RegExp(`127\\.0\\.0\\.1:${port} is in use`));
  } finally {
    blocker.close();
  }
});

test('start --pretty logs for people: no JSON lines, the start-up line readable', { timeout: 90_000 }, async () => {
  const t = testConfig();
  writeFileSync(t.env.GATEWAY_CONFIG!, readFileSync(t.env.GATEWAY_CONFIG!, 'utf8').replace(/^logLevel: .*$/m, 'logLevel: info'));
  const child = spawn(process.execPath, [bin, 'start', '--pretty'], { cwd: ROOT, env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await waitFor(() => /gateway started/.test(out), 60_000, 'the start-up line');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  const line = out.split('\n').find((l) => /gateway started/.test(l))!;
  assert.doesNotMatch(line, /^\{/, 'not JSON');
  assert.match(line, /INFO/);
  assert.match(out, /port: \d+/, 'the fields follow, one per line');
});
