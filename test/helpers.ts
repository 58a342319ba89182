import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, readMappingFiles } from '../src/config/load-config.ts';
import { partnerDirectory, type PartnerDirectory } from '../src/domain/partner.ts';
import { MappingRegistry } from '../src/mapping/registry.ts';
import { MemorySink } from '../src/pipeline/memory-sink.ts';
import { translateX12, type TranslateResult } from '../src/pipeline/translate-x12.ts';
import type { CanonicalEvent } from '../src/domain/events.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus');
export const FIXED_TIME = '2026-11-20T10:00:00.000Z';

export function tempDir(prefix = 'gw-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The demo configuration and mappings of the repository. */
export function demo(env: NodeJS.ProcessEnv = {}): { partners: PartnerDirectory; mappings: MappingRegistry; config: ReturnType<typeof loadConfig> } {
  const config = loadConfig({ GATEWAY_DATA_DIR: tempDir(), ...env }, ROOT);
  const mappings = new MappingRegistry();
  const problems = mappings.loadAll(readMappingFiles(config.mappingsDir));
  if (problems.length) throw new Error(JSON.stringify(problems));
  return { partners: partnerDirectory(config.us, config.partners), mappings, config };
}

export async function translateBuffer(
  data: Buffer | string,
  ctx: { partners: PartnerDirectory; mappings: MappingRegistry },
  opts: { partner?: string; chunk?: number; documentId?: string } = {},
): Promise<{ result: TranslateResult; events: CanonicalEvent[] }> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const size = opts.chunk ?? buf.length;
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  const sink = new MemorySink();
  const result = await translateX12(chunks, {
    partners: ctx.partners,
    mappings: ctx.mappings,
    channelPartnerId: opts.partner,
    documentId: opts.documentId ?? 'test',
    correlationId: 'test',
    receivedAt: FIXED_TIME,
    sink,
  });
  return { result, events: sink.all() };
}

export function allRejections(r: TranslateResult) {
  return [
    ...r.fileRejections,
    ...r.interchanges.flatMap((ic) => [...ic.rejections, ...ic.groups.flatMap((g) => [...g.rejections, ...g.sets.flatMap((s) => s.rejections)])]),
  ];
}

export function corpusFiles(): string[] {
  const out: string[] = [];
  for (const d of readdirSync(CORPUS, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name === 'xml') continue;
    for (const f of readdirSync(path.join(CORPUS, d.name))) out.push(`${d.name}/${f}`);
  }
  return out.sort();
}

export function readTsv(file: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [cols[i], v])));
}
