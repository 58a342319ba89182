#!/usr/bin/env -S node --max-semi-space-size=32
// --max-semi-space-size=32: large feeds hold a transaction set's segments while it is mapped;
// a larger young generation keeps them from being promoted (measured: ingest +10%, bench/RESULTS.md).
// Runs the TypeScript sources directly (tsx), so `npx gateway ...` works after `npm ci`
// with no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli.ts');
const code = await runCli(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
