import assert from 'node:assert/strict';
import { readFileSync, renameSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { drop, ls, po850, ROOT, settled as settledIn, testConfig, waitFor } from '../helpers.ts';

/** The running gateway on a real SQLite file and real folders (chokidar), in-process. */
let g: RunningGateway;
let dataDir: string;
let retail: ReturnType<typeof drop>;
let tpl: ReturnType<typeof drop>;

const docs = async (where: Record<string, unknown> = {}) => g.db('documents').where(where).orderBy('id');
const settled = (dir: ReturnType<typeof drop>, name: string) => settledIn(dir, name, 10_000);

before(async () => {
  // incompleteAfterMs: long, so that a stalled writer's half file is never taken for a truncated
  // one on a busy machine; the truncation test ages its file instead of waiting.
  const t = testConfig({ maxBytes: 200_000, incompleteAfterMs: 60_000 });
  dataDir = t.dataDir;
  g = await startGateway(t.env);
  retail = drop(dataDir, 'demo-retail');
  tpl = drop(dataDir, 'demo-3pl');
});

after(async () => {
  await g.stop();
});

test('an 850 dropped in the retailer inbox: events stored, 997 in its out folder, file archived', async () => {
  writeFileSync(path.join(retail.in, 'po-a.x12'), po850(5001, 'PO-A'));
  const name = await settled(retail, 'po-a.x12');
  assert.ok(ls(retail.archive).includes(name));
  assert.deepEqual(ls(retail.in), []);
  const [doc] = await docs({ filename: 'po-a.x12' });
  assert.equal(doc.status, 'PROCESSED');
  assert.equal(doc.partner_id, 'demo-retail');
  const ev = await g.db('events').where({ document_id: doc.id });
  assert.equal(ev.length, 1);
  assert.equal(JSON.parse(ev[0].payload).data.poNumber, 'PO-A');
  await g.pipeline.idle();
  const ack = await g.db('outbox').where({ source_document_id: doc.id }).first();
  assert.equal(ack.status, 'SENT');
  const content = readFileSync(path.join(retail.out, ack.filename), 'utf8');
  assert.match(content, /AK1\*PO\*5001~/);
  assert.match(content, /AK9\*A\*1\*1\*1~/);
  // The stored raw bytes are the file's bytes.
  assert.equal(readFileSync(path.join(dataDir, 'raw', doc.raw_path), 'utf8'), po850(5001, 'PO-A'));
});

test('the same interchange again is a duplicate: not applied twice, no second 997', async () => {
  writeFileSync(path.join(retail.in, 'po-a-again.x12'), po850(5001, 'PO-A'));
  await settled(retail, 'po-a-again.x12');
  const [doc] = await docs({ filename: 'po-a-again.x12' });
  assert.equal(doc.status, 'DUPLICATE');
  assert.equal(await g.db('events').where({ document_id: doc.id }).count({ n: '*' }).first().then((r) => Number(r!.n)), 0);
  assert.equal((await g.db('events').whereLike('payload', '%"PO-A"%')).length, 1);
  await g.pipeline.idle();
  assert.equal((await g.db('outbox').where({ source_document_id: doc.id })).length, 0, 'no ack for a duplicate without ISA14=1');
});

test('a resend after a rejected first attempt is applied', async () => {
  const broken = po850(5002, 'PO-B').replace('IEA*1*000005002', 'IEA*1*000005999');
  writeFileSync(path.join(retail.in, 'po-b.x12'), broken);
  await settled(retail, 'po-b.x12');
  const [first] = await docs({ filename: 'po-b.x12' });
  assert.equal(first.status, 'REJECTED');
  assert.equal(first.error_code, 'GW_X12_IEA_CONTROL_MISMATCH');
  const errorJson = JSON.parse(readFileSync(path.join(retail.error, `${first.id}-po-b.x12.error.json`), 'utf8'));
  assert.equal(errorJson.errorCode, 'GW_X12_IEA_CONTROL_MISMATCH');
  assert.equal(errorJson.rejections[0].code, 'GW_X12_IEA_CONTROL_MISMATCH');
  await g.pipeline.idle();
  const ta1 = await g.db('outbox').where({ source_document_id: first.id }).first();
  assert.equal(ta1.kind, 'TA1');
  assert.match(ta1.content, /TA1\*000005002\*261120\*0930\*R\*001~/);

  writeFileSync(path.join(retail.in, 'po-b-fixed.x12'), po850(5002, 'PO-B'));
  await settled(retail, 'po-b-fixed.x12');
  const [second] = await docs({ filename: 'po-b-fixed.x12' });
  assert.equal(second.status, 'PROCESSED');
  assert.equal((await g.db('events').where({ document_id: second.id })).length, 1);
});

test('a file on the wrong partner channel is parked with the reason', async () => {
  writeFileSync(path.join(tpl.in, 'retail-po.x12'), po850(5003, 'PO-C'));
  const name = await settled(tpl, 'retail-po.x12');
  assert.ok(ls(tpl.error).includes(name));
  const [doc] = await docs({ filename: 'retail-po.x12' });
  assert.equal(doc.status, 'PARKED');
  assert.equal(doc.error_code, 'GW_PARTNER_CHANNEL_MISMATCH');
  assert.equal((await g.db('events').where({ document_id: doc.id })).length, 0);
  const report = JSON.parse(readFileSync(path.join(tpl.error, `${name}.error.json`), 'utf8'));
  assert.match(report.errorMessage, /demo-retail/);
});

test('an unknown sender is parked; not-X12 is parked; both keep the file', async () => {
  writeFileSync(path.join(retail.in, 'stranger.x12'), po850(5004, 'PO-D', { sender: 'STRANGER' }));
  writeFileSync(path.join(retail.in, 'notes.txt'), 'hello, this is not EDI\n');
  await settled(retail, 'stranger.x12');
  await settled(retail, 'notes.txt');
  const [a] = await docs({ filename: 'stranger.x12' });
  const [b] = await docs({ filename: 'notes.txt' });
  assert.equal(a.status, 'PARKED');
  assert.equal(a.error_code, 'GW_PARTNER_UNKNOWN');
  assert.equal(b.status, 'PARKED');
  assert.equal(b.error_code, 'GW_FORMAT_UNKNOWN');
  assert.ok(ls(retail.error).includes(`${b.id}-notes.txt`));
});

test('a .part file is not picked up until it is renamed', async () => {
  const part = path.join(retail.in, 'po-e.x12.part');
  const text = po850(5005, 'PO-E');
  writeFileSync(part, text.slice(0, 100));
  // A complete file dropped after it is taken and settled; the .part beside it is not.
  writeFileSync(path.join(retail.in, 'po-e-witness.x12'), po850(5985, 'PO-E-W'));
  await settled(retail, 'po-e-witness.x12');
  assert.equal((await docs({ filename: 'po-e.x12.part' })).length, 0);
  assert.ok(ls(retail.in).includes('po-e.x12.part'));
  appendFileSync(part, text.slice(100));
  renameSync(part, path.join(retail.in, 'po-e.x12'));
  await settled(retail, 'po-e.x12');
  const [doc] = await docs({ filename: 'po-e.x12' });
  assert.equal(doc.status, 'PROCESSED');
});

test('a writer that stalls mid-file: the file waits for its trailer', async () => {
  const file = path.join(retail.in, 'po-f.x12');
  const text = po850(5006, 'PO-F');
  writeFileSync(file, text.slice(0, 150));
  // A complete file dropped after it is taken and settled (so the watcher has seen both, past the
  // stability threshold); the half file is still waiting for its trailer.
  writeFileSync(path.join(retail.in, 'po-f-witness.x12'), po850(5986, 'PO-F-W'));
  await settled(retail, 'po-f-witness.x12');
  assert.equal((await docs({ filename: 'po-f.x12' })).length, 0, 'picked up before it was complete');
  appendFileSync(file, text.slice(150));
  await settled(retail, 'po-f.x12');
  const [doc] = await docs({ filename: 'po-f.x12' });
  assert.equal(doc.status, 'PROCESSED');
});

test('a truncated file that never completes is rejected as truncated once old enough', async () => {
  const text = po850(5007, 'PO-G');
  // Written under a temporary name, aged past incompleteAfterMs, then put in place: a writer that
  // died an hour ago.
  const tmp = path.join(retail.in, 'po-g.x12.part');
  writeFileSync(tmp, text.slice(0, text.indexOf('GE*')));
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(tmp, hourAgo, hourAgo);
  renameSync(tmp, path.join(retail.in, 'po-g.x12'));
  await settled(retail, 'po-g.x12');
  const [doc] = await docs({ filename: 'po-g.x12' });
  assert.equal(doc.status, 'REJECTED');
  const codes = (await g.db('rejections').where({ document_id: doc.id })).map((r) => r.code);
  assert.ok(codes.includes('GW_X12_GE_MISSING') || codes.includes('GW_X12_IEA_MISSING'), codes.join());
  assert.ok(codes.includes('GW_X12_IEA_MISSING'));
});

test('the demo samples go through the running gateway as the golden files say', async () => {
  for (const [partner, name] of [['demo-3pl', '846-snapshot.x12'], ['demo-3pl', '856-asn.x12'], ['demo-retail', '850-partly-rejected.x12']]) {
    writeFileSync(path.join(drop(dataDir, partner).in, name), readFileSync(path.join(ROOT, 'samples', partner, name)));
    await settled(drop(dataDir, partner), name);
    const [doc] = await docs({ filename: name });
    const expected = JSON.parse(readFileSync(path.join(ROOT, 'samples', partner, name.replace('.x12', '.events.json')), 'utf8'));
    const stored = (await g.db('events').where({ document_id: doc.id }).orderBy('seq')).map((r) => JSON.parse(r.payload));
    assert.deepEqual(stored.map((e) => e.data), expected.map((e: { data: unknown }) => e.data), name);
    // The 3PL's 856 ships a PO this gateway has not received: it waits for it (applied when it comes).
    assert.equal(doc.status, name.includes('partly') ? 'PARTIAL' : name.startsWith('856') ? 'WAITING' : 'PROCESSED');
    if (name.startsWith('856')) {
      const held = await g.db('held_events').where({ document_id: doc.id });
      assert.deepEqual(held.map((h) => [h.status, h.waits_for, h.reason_code]), [['WAITING', `po:*:${(expected[0].data.orders as { poNumber: string }[])[0].poNumber}`, 'GW_WAITING_FOR_ORDER']]);
    }
  }
  await g.pipeline.idle();
  const partial = (await docs({ filename: '850-partly-rejected.x12' }))[0];
  const ack = await g.db('outbox').where({ source_document_id: partial.id }).first();
  assert.match(ack.content, /AK9\*P\*2\*2\*1~/);
});

test('control numbers of acknowledgments are unique and increasing per partner', async () => {
  await g.pipeline.idle();
  const rows = await g.db('outbox').where({ partner_id: 'demo-retail' }).orderBy('id');
  const nums = rows.map((r) => Number(r.isa13));
  assert.ok(nums.length >= 4);
  for (let i = 1; i < nums.length; i++) assert.ok(nums[i] > nums[i - 1], `ISA13 ${nums[i]} after ${nums[i - 1]}`);
  for (const r of rows) {
    // An 846 is written to its file (content_path), an acknowledgment kept in the row.
    const segs = readAllSegments(r.content_path ? readFileSync(r.content_path) : Buffer.from(r.content)).segments;
    assert.equal(segs[0].elements[13], r.isa13);
    assert.equal(segs.at(-1)!.elements[2], r.isa13);
  }
});

test('a delivery that fails is retried with backoff until the out folder is writable again', async () => {
  const { chmodSync, rmSync, symlinkSync, mkdirSync } = await import('node:fs');
  // Make the out folder unusable: replace it with a dangling symlink.
  rmSync(retail.out, { recursive: true, force: true });
  symlinkSync(path.join(dataDir, 'nowhere', 'deeper'), retail.out);
  writeFileSync(path.join(retail.in, 'po-r.x12'), po850(5099, 'PO-R'));
  await settled(retail, 'po-r.x12');
  const [doc] = await docs({ filename: 'po-r.x12' });
  const row = await waitFor(async () => {
    const r = await g.db('outbox').where({ source_document_id: doc.id }).first();
    return r && r.attempts >= 1 && r.status === 'PENDING' ? r : undefined;
  }, 10_000, 'a failed attempt');
  assert.ok(row.last_error);
  rmSync(retail.out, { force: true });
  mkdirSync(retail.out);
  chmodSync(retail.out, 0o755);
  const sent = await waitFor(async () => {
    const r = await g.db('outbox').where({ source_document_id: doc.id }).first();
    return r.status === 'SENT' ? r : undefined;
  }, 15_000, 'the retry to succeed');
  assert.ok(sent.attempts >= 2);
  assert.ok(ls(retail.out).includes(sent.filename));
});

test('a file over the size limit is parked in error/ with the reason, not read into the store', async () => {
  const big = po850(5100, 'PO-BIG').replace('CTT*1', 'CTT*1~' + 'MSG*'.padEnd(199_990, 'X'));
  writeFileSync(path.join(retail.in, 'big.x12'), big);
  const name = await settled(retail, 'big.x12');
  assert.ok(ls(retail.error).includes(name));
  const [doc] = await docs({ filename: 'big.x12' });
  assert.equal(doc.status, 'PARKED');
  assert.equal(doc.error_code, 'GW_FILE_TOO_LARGE');
  assert.equal(doc.raw_path, '');
  assert.equal(readFileSync(path.join(retail.error, name), 'utf8'), big, 'the file is kept whole');
});

test('XML feeds from the 3PL: a WMS snapshot moves stock; the same file again is a duplicate; hostile XML is refused', async () => {
  writeFileSync(path.join(tpl.in, 'wms.xml'), readFileSync(path.join(ROOT, 'samples/demo-3pl/inventory-snapshot.xml')));
  await settled(tpl, 'wms.xml');
  const [doc] = await docs({ filename: 'wms.xml' });
  assert.equal(doc.status, 'PROCESSED');
  assert.equal(doc.format, 'xml');
  const pos = await g.db('positions').where({ item: 'WIDGET-M', location: 'ACME-WEST' }).first();
  assert.equal(Number(pos.on_hand), 400_000, '00040 read as 40, exactly');
  writeFileSync(path.join(tpl.in, 'wms-again.xml'), readFileSync(path.join(ROOT, 'samples/demo-3pl/inventory-snapshot.xml')));
  await settled(tpl, 'wms-again.xml');
  assert.equal((await docs({ filename: 'wms-again.xml' }))[0].status, 'DUPLICATE');
  writeFileSync(path.join(tpl.in, 'lol.xml'), '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>');
  const name = await settled(tpl, 'lol.xml');
  const [lol] = await docs({ filename: 'lol.xml' });
  assert.equal(lol.status, 'REJECTED');
  assert.equal(lol.error_code, 'GW_XML_ENTITY_FORBIDDEN');
  assert.ok(ls(tpl.error).includes(`${name}.error.json`));
});

test('a document our own code fails on is retried with backoff, then FAILED into the dead letters with its file in error/; the gateway goes on', async () => {
  // A fault injected beside the real parts: item identity throws for demo-supplier's documents.
  const mappings = g.mappings as unknown as { crosswalk: (id: string) => unknown };
  const original = mappings.crosswalk.bind(g.mappings);
  let calls = 0;
  mappings.crosswalk = (id: string) => {
    if (id === 'demo-supplier') {
      calls++;
      throw new Error('injected fault');
    }
    return original(id);
  };
  try {
    const supplier = drop(dataDir, 'demo-supplier');
    writeFileSync(path.join(supplier.in, 'notice.x12'), readFileSync(path.join(ROOT, 'samples/demo-supplier/856-notice.x12')));
    const name = await settled(supplier, 'notice.x12');
    assert.ok(ls(supplier.error).includes(name), 'the file is in error/');
    const [doc] = await docs({ filename: 'notice.x12' });
    assert.equal(doc.status, 'FAILED');
    assert.equal(doc.error_code, 'GW_PROCESSING_FAILED');
    assert.match(doc.error_message, /3 attempts: injected fault/);
    assert.equal(Number(doc.attempts), 3);
    assert.ok(calls >= 3, `tried ${calls} times`);
    // Its translation is what fails: no acknowledgment can be built, none is sent.
    assert.equal((await g.db('outbox').where({ source_document_id: doc.id })).length, 0);
    const report = JSON.parse(readFileSync(path.join(supplier.error, `${name}.error.json`), 'utf8'));
    assert.equal(report.errorCode, 'GW_PROCESSING_FAILED');
    const dead = await (await fetch(`http://127.0.0.1:${g.port}/dead-letters`)).json();
    assert.ok(dead.deadLetters.some((d: { id: number; status: string }) => d.id === doc.id && d.status === 'FAILED'));
    // The gateway goes on: the next file is processed.
    writeFileSync(path.join(retail.in, 'after-fault.x12'), po850(5981, 'PO-AFTER'));
    await settled(retail, 'after-fault.x12');
    assert.equal((await docs({ filename: 'after-fault.x12' }))[0].status, 'PROCESSED');
  } finally {
    mappings.crosswalk = original;
  }
  // After the fix, a replay applies it.
  const [doc] = await docs({ filename: 'notice.x12' });
  const r = await g.pipeline.replay(Number(doc.id));
  assert.equal(r.outcome.status, 'PROCESSED', JSON.stringify(r.outcome));
});

test('a document whose applying our code fails on (its file sound) is FAILED and still gets the 997 its partner is due', async () => {
  // A fault injected beside the real parts: allocating demo-retail's PO lines throws.
  const deps = (g.pipeline as unknown as { deps: { allocation?: (id: string) => unknown } }).deps;
  const original = deps.allocation;
  deps.allocation = (id: string) => {
    if (id === 'demo-retail') throw new Error('injected apply fault');
    return original!(id);
  };
  try {
    const retail = drop(dataDir, 'demo-retail');
    const before = ls(retail.out).filter((f) => f.startsWith('997'));
    writeFileSync(path.join(retail.in, 'apply-fault.x12'), po850(5989, 'PO-APPLY-FAULT'));
    const name = await settled(retail, 'apply-fault.x12');
    assert.ok(ls(retail.error).includes(name), 'the file is in error/');
    const [doc] = await docs({ filename: 'apply-fault.x12' });
    assert.equal(doc.status, 'FAILED');
    assert.match(doc.error_message, /injected apply fault/);
    assert.equal((await g.db('orders').where({ po_number: 'PO-APPLY-FAULT' })).length, 0, 'nothing applied');
    const ack = await waitFor(() => ls(retail.out).filter((f) => f.startsWith('997') && !before.includes(f)).find((f) => readFileSync(path.join(retail.out, f), 'utf8').includes('AK1*PO*5989')), 10_000, 'the 997');
    const text = readFileSync(path.join(retail.out, ack), 'utf8');
    assert.match(text, /AK5\*A/);
    assert.match(text, /AK9\*A\*1\*1\*1/);
    const box = await g.db('outbox').where({ source_document_id: doc.id });
    assert.equal(box.length, 1, 'one acknowledgment');
  } finally {
    deps.allocation = original;
  }
});

test('a transient error (a deadlock, a lost connection) is retried without counting an attempt: more of them than maxAttempts, then PROCESSED', async () => {
  const mappings = g.mappings as unknown as { crosswalk: (id: string) => unknown };
  const original = mappings.crosswalk.bind(g.mappings);
  let calls = 0;
  mappings.crosswalk = (id: string) => {
    if (id === 'demo-retail' && calls < 6) {
      calls++;
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    }
    return original(id);
  };
  try {
    const retail = drop(dataDir, 'demo-retail');
    writeFileSync(path.join(retail.in, 'transient.x12'), po850(5983, 'PO-TRANSIENT'));
    await settled(retail, 'transient.x12');
    const [doc] = await docs({ filename: 'transient.x12' });
    assert.equal(doc.status, 'PROCESSED', `${doc.status} ${doc.error_message}`);
    assert.equal(calls, 6, 'tried again after each transient error');
    // (finish counts the attempt that ended it: one, where three own faults would have FAILED it.)
    assert.equal(Number(doc.attempts), 1, 'no failed attempt counted');
    assert.ok(Number(doc.starts) <= 1, `starts ${doc.starts}: a transient error is not a crash`);
  } finally {
    mappings.crosswalk = original;
  }
});

test('a document the process died on again and again (killed while processing it) is FAILED at the next start, not tried for ever', async () => {
  const { documents } = await import('../../src/store/document-repository.ts');
  const raw = (g.pipeline as unknown as { deps: { raw: { put(src: string): Promise<{ sha256: string; size: number; rel: string }> } } }).deps.raw;
  const src = path.join(dataDir, 'crash-loop.x12');
  writeFileSync(src, po850(5987, 'PO-CRASH'));
  const stored = await raw.put(src);
  const id = await documents.insertReceived(g.db, { partnerId: 'demo-retail', channel: 'folder:demo-retail', filename: 'crash-loop.x12', sourcePath: null, sha256: stored.sha256, size: stored.size, rawPath: stored.rel, format: 'unknown', correlationId: 'c-crash', receivedAt: new Date().toISOString() });
  // Four starts that never finished: still tried.
  await g.db('documents').where({ id }).update({ starts: 4 });
  await g.pipeline.recover();
  assert.equal((await g.db('documents').where({ id }).first()).status, 'PROCESSED', 'four crashes: tried again, and it goes through');
  // Five: given up on.
  const id2 = await documents.insertReceived(g.db, { partnerId: 'demo-retail', channel: 'folder:demo-retail', filename: 'crash-loop-2.x12', sourcePath: null, sha256: stored.sha256, size: stored.size, rawPath: stored.rel, format: 'unknown', correlationId: 'c-crash-2', receivedAt: new Date().toISOString() });
  await g.db('documents').where({ id: id2 }).update({ starts: 5 });
  await g.pipeline.recover();
  const d = await g.db('documents').where({ id: id2 }).first();
  assert.equal(d.status, 'FAILED');
  assert.equal(d.error_code, 'GW_PROCESSING_FAILED');
  assert.match(d.error_message, /stopped 5 times while processing it/);
  assert.equal((await g.db('events').where({ document_id: id2 })).length, 0, 'not processed');
});
