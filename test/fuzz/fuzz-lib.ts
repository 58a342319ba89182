import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ERRORS } from '../../src/core/errors.ts';
import { buildPlannedAcks, planFileAcks } from '../../src/pipeline/acks-for.ts';
import { detectFormatOf } from '../../src/pipeline/detect-format.ts';
import { allRejections } from '../../src/pipeline/translate-x12.ts';
import { translateXml } from '../../src/pipeline/translate-xml.ts';
import { nonconformance } from '../../src/pipeline/envelope-to.ts';
import { readAllSegments } from '../../src/x12/segment-reader.ts';
import { CORPUS, corpusFiles, demo, FIXED_TIME, ROOT, translateBuffer } from '../helpers.ts';

/**
 * Fuzzing (issue 12): mutations of the public corpus and our samples, each through the real
 * translate and acknowledgment paths (X12) or the XML reader and mapping. What must hold for every
 * input: no throw, no hang, every rejection a registered code, a verdict for the file (events or
 * an error), and an acknowledgment our own reader reads back. Deterministic per seed.
 */
export type Rng = () => number;

/** mulberry32: a small seeded generator, so a failure is reproduced from its seed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number) => Math.floor(r() * n);

export interface Seed {
  name: string;
  bytes: Buffer;
}

export function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const f of corpusFiles()) out.push({ name: `corpus/${f}`, bytes: readFileSync(path.join(CORPUS, f)) });
  const samples = path.join(ROOT, 'samples');
  for (const d of readdirSync(samples)) {
    for (const f of readdirSync(path.join(samples, d))) {
      if (/\.(x12|xml)$/.test(f) && !f.endsWith('.ack.x12')) out.push({ name: `samples/${d}/${f}`, bytes: readFileSync(path.join(samples, d, f)) });
    }
  }
  return out;
}

/** The delimiters of an X12 file (from its ISA), or the usual ones. */
function delims(b: Buffer): { el: string; seg: string; comp: string } {
  const s = b.toString('latin1');
  const i = s.indexOf('ISA');
  if (i < 0 || s.length < i + 106) return { el: '*', seg: '~', comp: '>' };
  return { el: s[i + 3], seg: s[i + 105], comp: s[i + 104] };
}

export const MUTATIONS: Record<string, (b: Buffer, r: Rng) => Buffer> = {
  truncate: (b, r) => b.subarray(0, int(r, b.length + 1)),
  flipBytes: (b, r) => {
    const c = Buffer.from(b);
    for (let k = 1 + int(r, 8); k > 0 && c.length; k--) c[int(r, c.length)] = int(r, 256);
    return c;
  },
  swapSeparators: (b, r) => {
    const d = delims(b);
    const s = b.toString('latin1').split('');
    for (let k = 1 + int(r, 5); k > 0 && s.length; k--) {
      const i = int(r, s.length);
      s[i] = [d.el, d.seg, d.comp, '^', '|'][int(r, 5)];
    }
    return Buffer.from(s.join(''), 'latin1');
  },
  duplicateSegment: (b, r) => {
    const d = delims(b);
    const segs = b.toString('latin1').split(d.seg);
    const i = int(r, segs.length);
    segs.splice(i, 0, segs[i]);
    return Buffer.from(segs.join(d.seg), 'latin1');
  },
  dropSegment: (b, r) => {
    const d = delims(b);
    const segs = b.toString('latin1').split(d.seg);
    segs.splice(int(r, segs.length), 1);
    return Buffer.from(segs.join(d.seg), 'latin1');
  },
  hugeElement: (b, r) => {
    const d = delims(b);
    const s = b.toString('latin1');
    const i = s.indexOf(d.el, int(r, Math.max(1, s.length)));
    if (i < 0) return b;
    return Buffer.from(s.slice(0, i + 1) + 'X'.repeat(200_000 + int(r, 800_000)) + s.slice(i + 1), 'latin1');
  },
  delimiterInValue: (b, r) => {
    const d = delims(b);
    const s = b.toString('latin1');
    const i = s.indexOf(d.el, int(r, Math.max(1, s.length)));
    if (i < 0) return b;
    return Buffer.from(s.slice(0, i + 1) + ['^', d.comp, '*', '~', '|', ':'][int(r, 6)] + s.slice(i + 1), 'latin1');
  },
  bareIsa: (b) => Buffer.concat([b, Buffer.from('ISA')]),
  deepHl: (b, r) => {
    const d = delims(b);
    const s = b.toString('latin1');
    const at = s.indexOf(`${d.seg}SE${d.el}`);
    if (at < 0) return b;
    const n = 1000 + int(r, 9000);
    const hls: string[] = [];
    for (let k = 1; k <= n; k++) hls.push(`${d.seg}HL${d.el}${k + 900000}${d.el}${k === 1 ? '' : k + 899999}${d.el}${['S', 'O', 'P', 'I', 'constructor', '__proto__'][int(r, 6)]}`);
    return Buffer.from(s.slice(0, at) + hls.join('') + s.slice(at), 'latin1');
  },
  cyclicHl: (b) => {
    const d = delims(b);
    const s = b.toString('latin1');
    const at = s.indexOf(`${d.seg}SE${d.el}`);
    if (at < 0) return b;
    return Buffer.from(`${s.slice(0, at)}${d.seg}HL${d.el}7${d.el}8${d.el}O${d.seg}HL${d.el}8${d.el}7${d.el}P${d.seg}HL${d.el}7${d.el}7${d.el}I${s.slice(at)}`, 'latin1');
  },
  xmlBomb: () => Buffer.from('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ShipmentConfirmation>&lol2;</ShipmentConfirmation>'),
  xmlDeep: (b, r) => {
    const n = 1000 + int(r, 200_000);
    return Buffer.from(`<?xml version="1.0"?><ShipmentConfirmation>${'<a>'.repeat(n)}${'</a>'.repeat(n)}</ShipmentConfirmation>`);
  },
  xmlHugeText: (b, r) => {
    const s = b.toString('utf8');
    const i = s.indexOf('>', s.indexOf('<', 5));
    if (i < 0) return b;
    return Buffer.from(s.slice(0, i + 1) + 'Y'.repeat(500_000 + int(r, 2_000_000)) + s.slice(i + 1));
  },
};

export interface FuzzFailure {
  seed: number;
  input: string;
  mutation: string;
  problem: string;
}

const ctx = demo();

/** Every property for one input; the problem when one does not hold. */
export async function check(buf: Buffer, timeoutMs = 30_000): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<string>((r) => (timer = setTimeout(() => r(`no verdict within ${timeoutMs} ms`), timeoutMs)));
  try {
    return await Promise.race([judge(buf), hang]);
  } catch (e) {
    return `threw: ${String((e as Error)?.stack ?? e).split('\n').slice(0, 4).join(' | ')}`;
  } finally {
    clearTimeout(timer);
  }
}

async function judge(buf: Buffer): Promise<string | null> {
  const format = detectFormatOf(buf.subarray(0, 512));
  if (format === 'xml') {
    const x = translateXml(buf, { partners: ctx.partners, mappings: ctx.mappings, channelPartnerId: 'demo-3pl', documentId: 'fuzz', sha256: createHash('sha256').update(buf).digest('hex'), correlationId: 'fuzz', receivedAt: FIXED_TIME });
    for (const r of x.rejections) if (!(r.code in ERRORS)) return `unregistered code ${r.code}`;
    if (!x.events.length && !x.rejections.some((r) => r.severity === 'error')) return 'neither events nor an error';
    return null;
  }
  const { result, events } = await translateBuffer(buf, ctx, { chunk: 4096 });
  const rej = allRejections(result);
  for (const r of rej) if (!(r.code in ERRORS)) return `unregistered code ${r.code}`;
  if (!events.length && !rej.some((r) => r.severity === 'error')) return 'neither events nor an error';
  for (const partner of [undefined, ...ctx.partners.all().map((p) => p.id)]) {
    const planned = planFileAcks(result.interchanges, ctx.partners, partner);
    let n = 0;
    const acks = buildPlannedAcks(planned, new Date(FIXED_TIME), () => ({ isa: ++n, gs: n })).map((a) => a.content).join('');
    if (acks && !readAllSegments(Buffer.from(acks, 'latin1')).segments.length) return 'an acknowledgment our reader cannot read';
    // Every 997 we would send passes the 997 grammar (what a strict translator checks of it).
    for (const a of buildPlannedAcks(planned, new Date(FIXED_TIME), () => ({ isa: 1, gs: 1 }))) {
      const bad = nonconformance(a.content, 'fuzz ack');
      if (bad) return `a nonconformant acknowledgment: ${bad.message.slice(0, 300)}`;
    }
  }
  return null;
}

/** One mutated input per step, from a seed: `count` inputs, failures listed. */
export async function fuzz(seed: number, count: number, onInput?: (i: number) => void): Promise<{ inputs: number; failures: FuzzFailure[]; byMutation: Record<string, number> }> {
  const failures: FuzzFailure[] = [];
  const byMutation: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const s = seed + i;
    const { input, mutation, bytes } = mutated(s);
    byMutation[mutation] = (byMutation[mutation] ?? 0) + 1;
    const problem = await check(bytes);
    if (problem) failures.push({ seed: s, input, mutation, problem });
    onInput?.(i);
  }
  return { inputs: count, failures, byMutation };
}

/** The mutated input of a seed (the same one `fuzz` checks), with what it is. */
let cachedSeeds: Seed[] | null = null;

export function mutated(seed: number): { input: string; mutation: string; bytes: Buffer } {
  const all = (cachedSeeds ??= seeds());
  const names = Object.keys(MUTATIONS);
  const r = rng(seed);
  const base = all[int(r, all.length)];
  const m = names[int(r, names.length)];
  let buf = MUTATIONS[m](base.bytes, r);
  // Sometimes two mutations on top of each other.
  if (r() < 0.3) buf = MUTATIONS[names[int(r, names.length)]](buf, r);
  return { input: base.name, mutation: m, bytes: buf };
}
