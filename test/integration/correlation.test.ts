import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 15: one id follows a PO's flow. The 850's correlation id is its order's; the 855 and
 * 940s sent for it, the 997 that acknowledges the 850, the 945 that ships it (and our 997 of that
 * 945), the 3PL's 997 of our 940s and the retailer's 856 all carry it or are found by it
 * (GET /documents?correlation=, GET /outbox?correlation=, GET /orders/:po), and the gateway's log
 * lines for them carry it.
 */
const bin = path.join(ROOT, 'bin', 'gateway.js');

test('one correlation id follows PO-1001 from its 850 through the 855, the 940s, the 3PL\'s 997 and 945, to the 856, in the API and in the log', { timeout: 180_000 }, async () => {
  const t = testConfig({ api: '{ host: 127.0.0.1, port: 0 }' });
  writeFileSync(t.env.GATEWAY_CONFIG!, readFileSync(t.env.GATEWAY_CONFIG!, 'utf8').replace(/^logLevel: .*$/m, 'logLevel: info'));
  const gw: ChildProcess = spawn(process.execPath, [bin, 'start'], { cwd: ROOT, env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  gw.stdout!.on('data', (d) => (out += d));
  gw.stderr!.on('data', (d) => (out += d));
  const log = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const drop = (file: string, partner: string) => {
    const r = spawnSync(process.execPath, [bin, 'drop', path.join(ROOT, file), '-p', partner], { cwd: ROOT, env: { ...process.env, ...t.env }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout) as { document: number };
  };
  try {
    await waitFor(() => existsSync(path.join(t.dataDir, 'drop', 'demo-3pl', 'in')) && /"port":\d+/.test(out), 60_000, 'the gateway up');
    const base = `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}`;
    // A connection of its own per call (no keep-alive): the drops between calls take seconds under
    // load, long enough for the server to close an idle kept-alive socket as fetch reuses it.
    const get = (p: string) =>
      new Promise<any>((resolve, reject) => {
        httpGet(`${base}${p}`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            try {
              resolve(JSON.parse(text));
            } catch (e) {
              reject(e);
            }
          });
        }).on('error', reject);
      });
    drop('samples/demo-3pl/846-snapshot.x12', 'demo-3pl');
    const po = drop('samples/demo-retail/850-po-1001.x12', 'demo-retail');
    const threePl997 = drop('samples/demo-3pl/997-940.x12', 'demo-3pl');
    const shipment = drop('samples/demo-3pl/945-shipment.x12', 'demo-3pl');

    const poDoc = (await get(`/documents/${po.document}`)).document;
    const order = await get('/orders/PO-1001');
    const flow: string = order.correlationId;
    assert.equal(flow, poDoc.correlationId, "the order's id is its 850's");
    // Everything sent for the order carries it: the 855, both 940s, the 856, the 997 of the 850.
    const sent = (await get(`/outbox?correlation=${flow}`)).outbox as { kind: string; partnerId: string }[];
    const kinds = sent.map((o) => `${o.partnerId}:${o.kind}`).sort();
    for (const k of ['demo-retail:855', 'demo-3pl:940', 'demo-retail:856', 'demo-retail:TA1+997', 'demo-3pl:997']) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    assert.equal(kinds.filter((k) => k === 'demo-3pl:940').length, 2, 'both warehouses\' 940s');
    // The documents of the flow: the 850, the 3PL's 997 of our 940s, its 945.
    const docs = ((await get(`/documents?correlation=${flow}`)).documents as { id: number }[]).map((d) => d.id).sort((a, b) => a - b);
    assert.deepEqual(docs, [po.document, threePl997.document, shipment.document].sort((a, b) => a - b));
    assert.deepEqual((await get(`/documents/${shipment.document}`)).flows, [flow]);
    // Log lines: the 945's processing names the flow; the 856's delivery carries it.
    await waitFor(() => log().some((l) => l.msg === 'delivered' && l.kind === '856'), 30_000, 'the 856 delivered');
    const processed945 = log().find((l) => l.msg === 'processed' && l.documentId === shipment.document)!;
    assert.deepEqual(processed945.flows, [flow]);
    const delivered = log().filter((l) => l.msg === 'delivered' && ['855', '940', '856'].includes(String(l.kind)));
    assert.ok(delivered.length >= 4);
    for (const l of delivered) assert.equal(l.correlationId, flow, JSON.stringify(l));
    // Another PO is another flow: nothing of PO-1001's in it.
    const other = drop('samples/demo-retail/850-po-1002.x12', 'demo-retail');
    const otherFlow = (await get('/orders/PO-1002')).correlationId;
    assert.notEqual(otherFlow, flow);
    assert.deepEqual(((await get(`/documents?correlation=${otherFlow}`)).documents as { id: number }[]).map((d) => d.id), [other.document]);
  } finally {
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
  }
});
