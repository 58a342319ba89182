import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tokenHash } from '../../src/api/app.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { drop, ROOT, settled, testConfig } from '../helpers.ts';

/**
 * Issue 15: the operator console in real headless Chromium (Debian's chromium, driven by
 * playwright-core): partners and documents listed after the demo files are dropped, a document's
 * rejection shown at its segment, a replay from the console refused without a token and done
 * with one, charts drawn with data. CI installs chromium and sets GATEWAY_REQUIRE_CHROMIUM:
 * there a missing browser fails these tests instead of skipping them. With SCREENSHOTS_DIR set,
 * the main pages are saved there (docs/console: `npm run screenshots`).
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH ?? ''].find((p) => p && existsSync(p));
if (!CHROMIUM && process.env.GATEWAY_REQUIRE_CHROMIUM) throw new Error('chromium is required here (GATEWAY_REQUIRE_CHROMIUM) but not installed (Debian package chromium)');
const skip = CHROMIUM ? false : 'chromium is not installed (Debian package chromium)';
const TOKEN = 'console-test-token-0123456789';
const SHOTS = process.env.SCREENSHOTS_DIR ? path.resolve(process.env.SCREENSHOTS_DIR) : null;

let g: RunningGateway;
let browser: Browser;
let base = '';

before(async () => {
  if (skip) return;
  const cfg = testConfig({ api: `{ host: 127.0.0.1, port: 0, tokens: [{ name: ops, sha256: "${tokenHash(TOKEN)}" }] }` });
  g = await startGateway(cfg.env);
  base = `http://127.0.0.1:${g.port}`;
  // The walk-through's files: the 3PL's snapshot, two POs, one partly rejected.
  const tpl = drop(cfg.dataDir, 'demo-3pl');
  const retail = drop(cfg.dataDir, 'demo-retail');
  copyFileSync(path.join(ROOT, 'samples/demo-3pl/846-snapshot.x12'), path.join(tpl.in, '846-snapshot.x12'));
  await settled(tpl, '846-snapshot.x12');
  for (const f of ['850-po-1001.x12', '850-partly-rejected.x12']) {
    copyFileSync(path.join(ROOT, 'samples/demo-retail', f), path.join(retail.in, f));
    await settled(retail, f);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});
after(async () => {
  await browser?.close();
  await g?.stop();
});

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/console/${hash}`);
  await page.waitForSelector('#view[data-ready="true"]', { timeout: 20_000 });
  assert.deepEqual(errors, [], 'no script error');
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

test('the console lists the partners and the documents after the demo files are dropped', { skip, timeout: 120_000 }, async () => {
  const page = await open('#/partners');
  const partners = await page.$$eval('#partners tbody tr td:first-child a', (as) => as.map((a) => a.textContent));
  for (const p of ['demo-3pl', 'demo-retail', 'demo-bigbox', 'demo-supplier']) assert.ok(partners.includes(p), `${p} in ${partners}`);
  await shot(page, 'partners');
  await page.goto(`${base}/console/#/documents`);
  await page.waitForSelector('#documents');
  const files = await page.$$eval('#documents tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
  for (const f of ['846-snapshot.x12', '850-po-1001.x12', '850-partly-rejected.x12']) assert.ok(files.includes(f), `${f} in ${files}`);
  // The filter narrows the list (the hash carries it to the API).
  await page.fill('#filters input[name="partner"]', 'demo-3pl');
  await page.click('#filters button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#documents tbody tr').length === 1);
  assert.deepEqual(await page.$$eval('#documents tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent)), ['846-snapshot.x12']);
  await shot(page, 'documents');
  await page.close();
});

test('a document\'s detail shows its rejection at the segment it is about', { skip, timeout: 60_000 }, async () => {
  const doc = await g.db('documents').where({ filename: '850-partly-rejected.x12' }).first();
  const rejection = await g.db('rejections').where({ document_id: doc.id, severity: 'error' }).whereNotNull('segment_index').first();
  assert.ok(rejection, 'the sample has a rejection with its segment');
  const page = await open(`#/documents/${doc.id}`);
  const row = page.locator(`#segments tr[data-segment="${rejection.segment_index}"]`);
  assert.equal(await row.getAttribute('class'), 'bad');
  assert.equal(await row.locator('.why').first().getAttribute('data-code'), rejection.code);
  assert.match((await row.locator('td.seg').textContent())!, new RegExp(`^${rejection.segment_tag}`));
  // Only the segments with a problem are marked.
  assert.equal(await page.locator('#segments tr.bad').count(), new Set((await g.db('rejections').where({ document_id: doc.id }).whereNotNull('segment_index')).map((r) => r.segment_index)).size);
  await shot(page, 'document-detail');
  await page.close();
});

test('a replay from the console is refused without a token and done with one', { skip, timeout: 60_000 }, async () => {
  const doc = await g.db('documents').where({ filename: '850-po-1001.x12' }).first();
  const before = (await g.db('documents').where({ replay_of: doc.id })).length;
  const page = await open(`#/documents/${doc.id}`);
  await page.click('#replay');
  await page.waitForFunction(() => !!document.getElementById('view')!.dataset.lastAction);
  const refused = JSON.parse((await page.getAttribute('#view', 'data-last-action'))!);
  assert.deepEqual([refused.ok, refused.status, refused.code], [false, 401, 'GW_UNAUTHORIZED']);
  assert.match((await page.textContent('#toast'))!, /refused: a token is needed/);
  assert.equal((await g.db('documents').where({ replay_of: doc.id })).length, before, 'nothing replayed');
  // With the token: replayed (nothing new: the PO was applied once, so a duplicate).
  await page.fill('#token', TOKEN);
  await page.click('#token-save');
  assert.equal(await page.textContent('#token-state'), 'actions enabled');
  await page.evaluate(() => delete document.getElementById('view')!.dataset.lastAction);
  await page.click('#replay');
  await page.waitForFunction(() => !!document.getElementById('view')!.dataset.lastAction && document.getElementById('view')!.dataset.ready === 'true');
  const done = JSON.parse((await page.getAttribute('#view', 'data-last-action'))!);
  assert.equal(done.ok, true, JSON.stringify(done));
  const replays = await g.db('documents').where({ replay_of: doc.id });
  assert.equal(replays.length, before + 1);
  assert.equal(replays.at(-1).status, 'DUPLICATE');
  await page.waitForSelector('#replays tbody tr');
  assert.equal(await page.locator('#replays tbody tr').count(), before + 1, 'the detail shows the replay');
  await page.close();
});

test('the overview\'s charts are drawn with data', { skip, timeout: 60_000 }, async () => {
  const page = await open('#/');
  const charts = (await page.evaluate(() => (window as unknown as { consoleCharts: { id: string; series: number[][] }[] }).consoleCharts)) as { id: string; series: number[][] }[];
  assert.deepEqual(charts.map((c) => c.id), ['chart-docs', 'chart-latency']);
  const received = charts[0].series[0].reduce((a, b) => a + b, 0);
  assert.ok(received >= 3, `documents received in the chart: ${received}`);
  assert.ok(charts[1].series[0].some((v) => v > 0), 'processing time plotted');
  // uPlot drew them: a canvas of the chart's size in each.
  for (const id of ['chart-docs', 'chart-latency']) {
    const size = await page.$eval(`#${id} canvas`, (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    assert.ok(size[0] > 300 && size[1] > 100, `${id}: ${size}`);
  }
  assert.equal(await page.textContent('#kpi-received'), String(received));
  await shot(page, 'overview');
  for (const [hash, name] of [['#/outbox', 'outbox'], ['#/orders', 'orders'], ['#/dead-letters', 'dead-letters']] as const) {
    await page.goto(`${base}/console/${hash}`);
    await page.waitForSelector('#view[data-ready="true"]');
    await shot(page, name);
  }
  await page.close();
});

test('every page draws without a script error: availability with a partner\'s view, divergences, oversells, waiting, orders and an order\'s flow', { skip, timeout: 60_000 }, async () => {
  const pages: [string, string, string | null][] = [
    ['#/availability?item=WIDGET-S&partner=demo-retail', 'Availability', '#view table'],
    ['#/divergences', 'Divergences', '#divergences'],
    ['#/oversells', 'Oversells', null],
    ['#/held', 'Waiting & conflicts', null],
    ['#/orders', 'Orders', '#orders'],
    ['#/orders/PO-1001?partner=demo-retail', 'Order PO-1001', '#timeline'],
  ];
  for (const [hash, title, selector] of pages) {
    const page = await open(hash);
    assert.match((await page.textContent('#view h1'))!, new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), hash);
    if (selector) assert.ok(await page.locator(selector).count(), `${hash}: ${selector}`);
    if (hash.startsWith('#/orders/')) assert.match((await page.textContent('#flow'))!, /^[0-9a-f-]{36}$/, 'the order shows its flow id');
    if (hash.startsWith('#/availability')) await shot(page, 'availability');
    await page.close();
  }
});
