import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CORPUS, po850, ROOT, tempDir } from '../helpers.ts';

/** The CLI as a user runs it (`npx gateway ...`): output streams and exit codes. */
function gw(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gateway.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GATEWAY_DATA_DIR: tempDir() } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('translate: NDJSON events on stdout, exit 0 when all accepted', () => {
  const r = gw('translate', path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), '--partner', 'demo-retail');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].type, 'order.received');
  assert.equal(lines[0].data.poNumber, 'PO-1001');
  assert.equal(r.err, '');
});

test('translate: rejections as JSON lines on stderr, exit 1', () => {
  const r = gw('translate', path.join(ROOT, 'samples/demo-retail/850-partly-rejected.x12'), '-p', 'demo-retail');
  assert.equal(r.code, 1);
  assert.equal(r.out.trim().split('\n').length, 1, 'the valid set still yields its event');
  const errs = r.err.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(errs.map((e) => e.code).sort(), ['GW_X12_ELEMENT_INVALID_CHARACTER', 'GW_X12_ELEMENT_INVALID_DATE']);
  assert.equal(errs[0].setPosition, 2);
});

test('translate on a corpus file from an unknown sender: events, with a warning', () => {
  const r = gw('translate', path.join(CORPUS, '850/aaronhuggins__node-x12__test-test-data-850.edi'));
  assert.equal(r.code, 0);
  assert.equal(JSON.parse(r.out.trim().split('\n')[0]).data.poNumber, '08292233294');
  assert.match(r.err, /GW_PARTNER_UNKNOWN/);
});

test('usage errors exit 2', () => {
  assert.equal(gw('translate').code, 2);
  assert.equal(gw('translate', '/no/such/file.x12').code, 2);
  assert.equal(gw('frobnicate').code, 2);
  const f = path.join(tempDir(), 'po.x12');
  writeFileSync(f, po850(1, 'P'));
  assert.equal(gw('translate', f, '--partner', 'nobody').code, 2);
});

test('ack prints the 997 (and TA1) the gateway would send', () => {
  const r = gw('ack', path.join(ROOT, 'samples/demo-retail/850-partly-rejected.x12'), '--partner', 'demo-retail');
  assert.equal(r.code, 0);
  assert.match(r.out, /^ISA\*00\*/);
  assert.match(r.out, /AK9\*P\*2\*2\*1~/);
  const t = gw('ack', path.join(ROOT, 'samples/demo-retail/850-bad-envelope.x12'), '--partner', 'demo-retail');
  assert.match(t.out, /TA1\*000001005\*261120\*0930\*R\*001~/);
});

test('translate streams: events of a settled interchange go out, those of one an IEA error discards do not (spill files, nothing held whole)', () => {
  const good = readFileSync(path.join(ROOT, 'samples/demo-retail/850-po-1001.x12'), 'latin1');
  const bad = readFileSync(path.join(ROOT, 'samples/demo-retail/850-bad-envelope.x12'), 'latin1');
  const f = path.join(tempDir(), 'two.x12');
  writeFileSync(f, good + bad + good.replace(/000001001/g, '000001009').replace('PO-1001', 'PO-1009'));
  const r = gw('translate', f, '--partner', 'demo-retail');
  const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.data.poNumber), ['PO-1001', 'PO-1009'], 'the broken interchange\'s PO is not printed');
  assert.equal(r.code, 1);
  assert.match(r.err, /GW_X12_IEA_CONTROL_MISMATCH/);
});

test('SpillSink: a discarded group or interchange leaves nothing; settled ones come out in order; its files are removed', async () => {
  const { SpillSink } = await import('../../src/pipeline/spill-sink.ts');
  const { PassThrough } = await import('node:stream');
  const { existsSync } = await import('node:fs');
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const sink = new SpillSink(out);
  const ev = (n: number) => ({ type: 'order.received', id: String(n) }) as never;
  sink.events(1, 1, [ev(1), ev(2)]);
  sink.events(1, 2, [ev(3)]);
  sink.discard(1, 2);
  await sink.end(1, 1);
  assert.equal(text, '', 'a group\'s end is not its interchange\'s');
  await sink.end(1);
  sink.events(2, 1, [ev(4)]);
  sink.discard(2);
  await sink.end(2);
  sink.events(3, 1, [ev(5)]);
  const dir = (sink as unknown as { dir: string }).dir;
  assert.ok(existsSync(dir));
  sink.close();
  assert.deepEqual(text.trim().split('\n').map((l) => JSON.parse(l).id), ['1', '2']);
  assert.ok(!existsSync(dir), 'spill files removed, the unsettled interchange dropped');
});
