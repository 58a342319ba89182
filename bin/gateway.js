#!/usr/bin/env node
// Runs the TypeScript sources with no build step to remember: the first run after a source
// changed bundles src/ with esbuild (tsx's own, ~0.1 s) into .build/<stamp>/, and every run
// imports that bundle (ES modules, split so `translate` does not load the server). Without the
// bundle a command would compile every module through tsx's loader thread on each start:
// measured 0.62 s and 96 MB for `gateway translate` of a small file, 0.35 s and 68 MB bundled
// (bench/RESULTS.md). If the bundle cannot be made (a read-only checkout, no esbuild), tsx runs
// the sources as before.
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time and count of the sources: the bundle's stamp. */
function stamp() {
  let newest = 0;
  let count = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        count++;
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  walk(path.join(root, 'src'));
  return `${Math.floor(newest)}-${count}`;
}

async function bundle() {
  if (process.env.GATEWAY_NO_BUNDLE) return null;
  try {
    const dir = path.join(root, '.build', stamp());
    const entry = path.join(dir, 'cli.js');
    if (existsSync(entry)) return entry;
    const { buildSync } = await import('esbuild');
    const tmp = path.join(root, '.build', `tmp-${process.pid}-${Date.now()}`);
    buildSync({
      entryPoints: [path.join(root, 'src', 'cli.ts')],
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir: tmp,
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      logLevel: 'silent',
    });
    try {
      renameSync(tmp, dir); // atomic: a process starting meanwhile sees all of it or none
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process made it first
    }
    // Bundles of earlier sources (an hour old or more) are removed.
    for (const old of readdirSync(path.join(root, '.build'))) {
      const p = path.join(root, '.build', old);
      if (p !== dir && Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
    }
    return existsSync(entry) ? entry : null;
  } catch {
    return null;
  }
}

let entry = await bundle();
if (!entry) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = path.join(root, 'src', 'cli.ts');
}
const { runCli } = await import(pathToFileURL(entry).href);
const code = await runCli(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
