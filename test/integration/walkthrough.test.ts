import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, testConfig, waitFor } from '../helpers.ts';

/**
 * Issue 15: the README's walk-through runs as pasted. Its `npx gateway ...` lines, in order,
 * against a gateway started as the README starts it (`gateway start`): each `drop` waits for its
 * file (no sleeps), and exits 0, or 1 with the reason for the two files written to be rejected;
 * every other command exits 0.
 */
const bin = path.join(ROOT, 'bin', 'gateway.js');

function walkthrough(): string[][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Walk-through with the demo partners'), readme.indexOf('### One PO around the whole order loop'));
  const block = section.slice(section.indexOf('```sh\n# The 3PL'), section.indexOf('```\n', section.indexOf('```sh\n# The 3PL') + 5));
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.startsWith('npx gateway '))
    .map((l) => l.slice('npx gateway '.length).split(/\s+/));
}

test('the README walk-through, as pasted: each drop waits for its file, each command exits as it should', { timeout: 240_000 }, async () => {
  const lines = walkthrough();
  assert.ok(lines.filter((l) => l[0] === 'drop').length >= 13, `drops: ${lines.filter((l) => l[0] === 'drop').length}`);
  const t = testConfig();
  const gw: ChildProcess = spawn(process.execPath, [bin, 'start'], { cwd: ROOT, env: { ...process.env, ...t.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  gw.stdout!.on('data', (d) => (log += d));
  gw.stderr!.on('data', (d) => (log += d));
  try {
    await waitFor(() => existsSync(path.join(t.dataDir, 'gateway.lock')) && existsSync(path.join(t.dataDir, 'drop', 'demo-supplier', 'in')), 60_000, 'the gateway up');
    const rejected = new Set(['850-partly-rejected.x12', '850-bad-envelope.x12']);
    for (const args of lines) {
      const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, env: { ...process.env, ...t.env }, encoding: 'utf8', timeout: 60_000 });
      const file = args[0] === 'drop' ? path.basename(args[1]) : '';
      const want = rejected.has(file) ? 1 : 0;
      assert.equal(r.status, want, `gateway ${args.join(' ')}: exit ${r.status}\n${r.stdout.slice(0, 800)}\n${r.stderr.slice(0, 800)}`);
      if (args[0] === 'drop') {
        const out = JSON.parse(r.stdout.trim());
        assert.ok(out.document > 0 && out.status, `${file}: ${r.stdout}`);
        if (want) assert.match(JSON.parse(r.stderr.trim().split('\n').at(-1)!).fix, /replay/, `${file}: says what went wrong and the fix`);
      }
    }
  } finally {
    gw.kill('SIGTERM');
    await new Promise((r) => gw.once('exit', r));
  }
});
