import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { buildPlannedAcks, planFileAcks } from '../../src/pipeline/acks-for.ts';
import { translateXml } from '../../src/pipeline/translate-xml.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { demo, FIXED_TIME, ROOT, translateBuffer } from '../helpers.ts';

/**
 * Every sample in samples/<partner>/ has its expected canonical events (<name>.events.json) and
 * the acknowledgment the gateway sends (<name>.ack.x12) next to it, under a fixed clock and
 * control numbers starting at 1. UPDATE_GOLDEN=1 rewrites them for review.
 */
const ctx = demo();
const update = process.env.UPDATE_GOLDEN === '1';
const samplesDir = path.join(ROOT, 'samples');

for (const partner of readdirSync(samplesDir).filter((d) => d !== 'outbound')) {
  const dir = path.join(samplesDir, partner);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.xml'))) {
    test(`golden: ${partner}/${name}`, () => {
      const file = path.join(dir, name);
      const data = readFileSync(file);
      const r = translateXml(data, { partners: ctx.partners, mappings: ctx.mappings, channelPartnerId: partner, documentId: `sample:${name}`, sha256: createHash('sha256').update(data).digest('hex'), correlationId: 'test', receivedAt: FIXED_TIME });
      assert.deepEqual(r.rejections.filter((x) => x.severity === 'error'), []);
      const eventsFile = file.replace(/\.xml$/, '.events.json');
      const eventsText = JSON.stringify(r.events, null, 2) + '\n';
      if (update) writeFileSync(eventsFile, eventsText);
      assert.ok(existsSync(eventsFile), `${eventsFile} is missing (UPDATE_GOLDEN=1 creates it)`);
      assert.equal(eventsText, readFileSync(eventsFile, 'utf8'), 'canonical events differ from the golden file');
    });
  }
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.x12') && !f.endsWith('.ack.x12'))) {
    test(`golden: ${partner}/${name}`, async () => {
      const file = path.join(dir, name);
      const { result, events } = await translateBuffer(readFileSync(file), ctx, { partner, documentId: `sample:${name}` });
      const planned = planFileAcks(result.interchanges, ctx.partners, partner);
      let n = 0;
      const acks = buildPlannedAcks(planned, new Date(FIXED_TIME), () => ({ isa: ++n, gs: n }))
        .map((a) => a.content)
        .join('');
      const eventsFile = file.replace(/\.x12$/, '.events.json');
      const ackFile = file.replace(/\.x12$/, '.ack.x12');
      const eventsText = JSON.stringify(events, null, 2) + '\n';
      if (update) {
        writeFileSync(eventsFile, eventsText);
        writeFileSync(ackFile, acks);
      }
      assert.ok(existsSync(eventsFile), `${eventsFile} is missing (UPDATE_GOLDEN=1 creates it)`);
      assert.equal(eventsText, readFileSync(eventsFile, 'utf8'), 'canonical events differ from the golden file');
      assert.equal(acks, readFileSync(ackFile, 'utf8'), 'acknowledgment differs from the golden file');
      // Whatever we send must pass our own strict envelope checks.
      if (acks) {
        const { result: back } = await translateBuffer(acks, { ...ctx });
        for (const ic of back.interchanges) {
          assert.deepEqual(ic.rejections.filter((r) => r.severity === 'error' && !r.code.startsWith('GW_PARTNER')), []);
          for (const g of ic.groups) assert.deepEqual(g.rejections, []);
        }
        assert.ok(readAllSegments(Buffer.from(acks)).segments.length > 2);
      }
    });
  }
}
