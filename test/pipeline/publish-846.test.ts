import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/ports.ts';
import { movement, type Movement } from '../../src/domain/availability.ts';
import { partnerDirectory, type Partner } from '../../src/domain/partner.ts';
import type { PublishPolicy } from '../../src/domain/publication.ts';
import { toUnits } from '../../src/domain/quantity.ts';
import { Publisher } from '../../src/pipeline/publisher.ts';
import { positions } from '../../src/store/availability-repository.ts';
import { openDb, type Db } from '../../src/store/db.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, FIXED_TIME, ROOT, tempDir, translateBuffer, waitFor } from '../helpers.ts';

/**
 * Outbound 846 per partner policy, byte for byte under a fixed clock and fresh counters
 * (samples/outbound/*.x12; UPDATE_GOLDEN=1 rewrites them), and every 846 we write passes the
 * envelope checks of our own reader.
 */
const base = demo();
const u = (s: string) => toUnits(s)!;
const retail = base.partners.get('demo-retail')!;

function policy(over: Partial<PublishPolicy>): PublishPolicy {
  return { ...retail.publish846!, ...over };
}

async function setup(policyOver: Partial<PublishPolicy>, moves: Movement[]) {
  const dir = tempDir('gw-846-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  await db.transaction((trx) => positions.apply(trx, moves, { eventSeq: null, documentId: null, partnerId: null, at: FIXED_TIME }));
  const partner: Partner = { ...retail, publish846: policy(policyOver) };
  const partners = partnerDirectory(base.partners.us, [partner], base.partners);
  const publisher = new Publisher({
    db,
    partners,
    mappings: base.mappings,
    clock: { now: () => new Date(FIXED_TIME) },
    logger: silentLogger,
    outboundDir: path.join(dir, 'outbound'),
    exclusive: (fn) => fn(),
    queued: () => undefined,
  });
  return { db, publisher, dir };
}

const stock = (item: string, loc: string, onHand: string, committed = '0') => movement(item, loc, 'adjustment', { dOnHand: u(onHand), dCommitted: u(committed) });

const demoStock = [
  stock('WIDGET-S', 'ACME-EAST', '30', '4'),
  stock('WIDGET-S', 'ACME-WEST', '8'),
  stock('WIDGET-M', 'ACME-EAST', '11.5'),
  stock('WIDGET-M', 'ACME-WEST', '1'),
  stock('GADGET-1', 'ACME-EAST', '100', '100'),
  stock('WIDGET-L', 'OTHER-DC', '50'),
  movement('WIDGET-S', 'ACME-WEST', 'damage', { dDamaged: u('3') }),
];

async function golden(name: string, db: Db, file: string) {
  const text = readFileSync(file, 'utf8');
  const goldenFile = path.join(ROOT, 'samples', 'outbound', `${name}.x12`);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(path.dirname(goldenFile), { recursive: true });
    writeFileSync(goldenFile, text);
  }
  assert.ok(existsSync(goldenFile), `${goldenFile} missing (UPDATE_GOLDEN=1 creates it)`);
  assert.equal(text, readFileSync(goldenFile, 'utf8'), `${name} differs from its golden file`);
  await db.destroy();
  return text;
}

async function ownReaderAccepts(text: string) {
  const { result } = await translateBuffer(text, base);
  for (const ic of result.interchanges) {
    assert.deepEqual(ic.rejections.filter((r) => r.severity === 'error' && !r.code.startsWith('GW_PARTNER')), []);
    for (const g of ic.groups) {
      assert.deepEqual(g.rejections, []);
      for (const s of g.sets) assert.deepEqual(s.rejections.filter((r) => r.severity === 'error' && r.code !== 'GW_MAP_SEGMENT_MISSING'), [], JSON.stringify(s.rejections));
    }
  }
  return result;
}

test('demo-retail policy: safety stock 2, its own item ids, kits, only its locations', async () => {
  const { db, publisher } = await setup({}, demoStock);
  const r = await publisher.emit('demo-retail', true);
  assert.equal(r.lines, 7, '3 items and the kit at EAST, 2 items and the kit at WEST');
  const file = (await db('outbox').where({ id: r.outboxId }).first()).content_path;
  const text = await golden('846-demo-retail-full', db, file);
  await ownReaderAccepts(text);
  const segs = readAllSegments(Buffer.from(text)).segments;
  const qty = (id: string, loc: string) => {
    let inLoc = '';
    for (let i = 0; i < segs.length; i++) {
      if (segs[i].tag === 'N1') inLoc = segs[i].elements[4];
      if (segs[i].tag === 'LIN' && segs[i].elements[3] === id && inLoc === loc) return segs[i + 1].elements[2];
    }
    return undefined;
  };
  assert.equal(qty('RC-100045', 'ACME-EAST'), '24', 'WIDGET-S EAST: 30 - 4 committed - 2 safety');
  assert.equal(qty('RC-100045', 'ACME-WEST'), '3', 'WIDGET-S WEST: 8 - 3 damaged - 2 safety');
  assert.equal(qty('RC-100046', 'ACME-EAST'), '9', 'WIDGET-M EAST: 11.5 - 2 = 9.5, whole units');
  assert.equal(qty('RC-100046', 'ACME-WEST'), '0', 'never below zero');
  assert.equal(qty('RC-200310', 'ACME-EAST'), '0', 'all committed');
  assert.equal(qty('RC-300001', 'ACME-EAST'), '9', 'kit: min(24/2, 9/1)');
  assert.equal(qty('RC-300001', 'ACME-WEST'), '0', 'kit: min(3/2, 0/1)');
  assert.equal(qty('012345678929', 'OTHER-DC'), undefined, 'OTHER-DC is not published to this partner');
});

test('percentage, cap and on-hand quantities; UPC ids', async () => {
  const { db, publisher } = await setup({ percent: 50, cap: u('10'), safetyStock: 0, idQualifiers: ['UP'], quantities: ['33', '17'], kits: {}, locations: undefined }, demoStock);
  const r = await publisher.emit('demo-retail', true);
  const file = (await db('outbox').where({ id: r.outboxId }).first()).content_path;
  const text = await golden('846-percent-cap', db, file);
  await ownReaderAccepts(text);
  assert.match(text, /LIN\*1\*UP\*012345678929~\nQTY\*33\*10\*EA~\nQTY\*17\*50\*EA~/, 'WIDGET-L: 50% of 50 = 25, capped at 10');
});

test('more than 10,000 item/locations are split into several ST, each under the limit', async () => {
  const many: Movement[] = [];
  for (let i = 0; i < 10_050; i++) many.push(stock(`SKU-${String(i).padStart(5, '0')}`, 'ACME-EAST', '5'));
  const { db, publisher } = await setup({ kits: {}, idQualifiers: ['UP'] }, many);
  const r = await publisher.emit('demo-retail', true);
  assert.equal(r.lines, 10_050);
  assert.equal(r.sets, 2);
  const file = (await db('outbox').where({ id: r.outboxId }).first()).content_path;
  const text = readFileSync(file, 'utf8');
  await db.destroy();
  const result = await ownReaderAccepts(text);
  assert.deepEqual(result.interchanges[0].groups[0].sets.map((s) => s.accepted), [true, true]);
  const counts = readAllSegments(Buffer.from(text)).segments.filter((s) => s.tag === 'CTT').map((s) => s.elements[1]);
  assert.deepEqual(counts, ['10000', '50']);
});

test('a delta carries only what moved since the last 846; nothing moved, no file', async () => {
  const { db, publisher } = await setup({ kits: {} }, demoStock);
  const first = await publisher.emit('demo-retail', true);
  assert.ok(first.outboxId);
  const none = await publisher.emit('demo-retail', false);
  assert.equal(none.outboxId, undefined);
  assert.equal(none.lines, 0);
  await db.transaction((trx) => positions.apply(trx, [stock('WIDGET-M', 'ACME-WEST', '7')], { eventSeq: null, documentId: null, partnerId: null, at: FIXED_TIME }));
  const delta = await publisher.emit('demo-retail', false);
  assert.equal(delta.lines, 1);
  const text = readFileSync((await db('outbox').where({ id: delta.outboxId }).first()).content_path, 'utf8');
  assert.match(text, /LIN\*1\*IN\*RC-100046~\nQTY\*33\*6\*EA~/);
  // Control numbers increase per partner.
  assert.ok(Number(delta.isa13) > Number(first.isa13));
  await db.destroy();
});

test('deltas wait for the debounce window and respect the minimum interval; a full feed on schedule', async () => {
  const dir = tempDir('gw-846-timing-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const partner: Partner = { ...retail, publish846: policy({ kits: {}, debounceMs: 100, minIntervalMs: 900, fullEveryMinutes: 60 }) };
  const publisher = new Publisher({
    db,
    partners: partnerDirectory(base.partners.us, [partner], base.partners),
    mappings: base.mappings,
    clock: { now: () => new Date() },
    logger: silentLogger,
    outboundDir: path.join(dir, 'outbound'),
    exclusive: (fn) => fn(),
    queued: () => undefined,
  });
  const move = (qty: string) => db.transaction((trx) => positions.apply(trx, [stock('WIDGET-S', 'ACME-EAST', qty)], { eventSeq: null, documentId: null, partnerId: null, at: FIXED_TIME }));
  const count = async () => (await db('outbox').where({ kind: '846' })).length;
  await move('5');
  const entries = async () => (await db('outbox').where({ kind: '846' }).orderBy('id')).map((r) => ({ id: Number(r.id), at: Date.parse(String(r.created_at)) }));
  publisher.startSchedule(); // never sent a full feed: one is due now
  await waitFor(async () => (await count()) === 1, 10_000, 'the scheduled full feed');
  const full = await db('publications').where({ partner_id: 'demo-retail' }).first();
  assert.ok(full.last_full_at);
  await move('1');
  const notified = Date.now();
  publisher.notify();
  publisher.notify(); // a second movement inside the window: still one delta
  await waitFor(async () => (await count()) === 2, 10_000, 'the delta');
  // What the rules guarantee, read from the times the publisher recorded (never earlier than the
  // rule, however late a busy machine makes it): the debounce window after the movement, the
  // minimum interval after the full feed.
  const [f, d] = await entries();
  assert.ok(d.at - notified >= 100, `delta ${d.at - notified} ms after the movement (debounce 100)`);
  assert.ok(d.at - f.at >= 900, `delta ${d.at - f.at} ms after the full feed (minimum interval 900)`);
  assert.equal(await count(), 2, 'two notifications inside the window: one delta');
  publisher.stop();
  await db.destroy();
});

test('a delta due when the process stops is sent after a restart (the due row, not a timer, is the truth)', async () => {
  const dir = tempDir('gw-846-due-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const partner: Partner = { ...retail, publish846: policy({ kits: {}, debounceMs: 300, minIntervalMs: 0, fullEveryMinutes: 60 }) };
  const make = () =>
    new Publisher({
      db,
      partners: partnerDirectory(base.partners.us, [partner], base.partners),
      mappings: base.mappings,
      clock: { now: () => new Date() },
      logger: silentLogger,
      outboundDir: path.join(dir, 'outbound'),
      exclusive: (fn) => fn(),
      queued: () => undefined,
    });
  const move = (qty: string) => db.transaction((trx) => positions.apply(trx, [stock('WIDGET-S', 'ACME-EAST', qty)], { eventSeq: null, documentId: null, partnerId: null, at: FIXED_TIME }));
  const count = async () => (await db('outbox').where({ kind: '846' })).length;
  const first = make();
  await move('5');
  await first.emit('demo-retail', true); // the full feed: no other one due for an hour
  await move('2');
  first.notify();
  await waitFor(async () => (await db('publish_due').where({ partner_id: 'demo-retail' })).length === 1, 5_000, 'the delta due');
  first.stop(); // stopped before it was sent
  assert.equal(await count(), 1);
  const second = make();
  second.startSchedule();
  await waitFor(async () => (await count()) === 2, 10_000, 'the delta sent after the restart');
  assert.deepEqual(await db('publish_due'), []);
  second.stop();
  await db.destroy();
});

test('two publishers on one store (two instances) with a full feed due: it is sent once', async () => {
  const dir = tempDir('gw-846-full-once-');
  const db = await openDb({ client: 'sqlite3', filename: path.join(dir, 'gw.sqlite') });
  const partner: Partner = { ...retail, publish846: policy({ kits: {}, debounceMs: 100, minIntervalMs: 0, fullEveryMinutes: 60 }) };
  const make = () =>
    new Publisher({
      db,
      partners: partnerDirectory(base.partners.us, [partner], base.partners),
      mappings: base.mappings,
      clock: { now: () => new Date() },
      logger: silentLogger,
      outboundDir: path.join(dir, 'outbound'),
      exclusive: (fn) => fn(),
      queued: () => undefined,
    });
  await db.transaction((trx) => positions.apply(trx, [stock('WIDGET-S', 'ACME-EAST', '5')], { eventSeq: null, documentId: null, partnerId: null, at: FIXED_TIME }));
  const a = make();
  const b = make();
  a.startSchedule();
  b.startSchedule();
  await waitFor(async () => (await db('publications').where({ partner_id: 'demo-retail' }).first())?.last_full_at, 10_000, 'the full feed');
  await waitFor(async () => (await db('publish_due')).length === 0, 10_000, 'the claim given back');
  assert.equal((await db('outbox').where({ kind: '846' })).length, 1, 'one full feed, not two');
  a.stop();
  b.stop();
  await db.destroy();
});
