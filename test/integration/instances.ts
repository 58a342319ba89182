import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import { ROOT } from '../helpers.ts';

/**
 * Gateway instances as real processes (`bin/gateway.js start`), for tests of several instances
 * on one PostgreSQL and of SIGKILL chaos. Each logs at info to `logFile` (JSON lines, for the
 * evidence when a test fails); `up` resolves with the API port once it said "gateway started".
 */
export interface Instance {
  name: string;
  child: ChildProcess;
  up: Promise<number>;
  /** Lines the process logged at level error or above, and anything on stderr. */
  errors: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnInstance(name: string, env: NodeJS.ProcessEnv, logFile: string, nodeArgs: string[] = []): Instance {
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'gateway.js'), 'start'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  let resolveUp: (port: number) => void = () => undefined;
  let rejectUp: (e: Error) => void = () => undefined;
  const up = new Promise<number>((res, rej) => ((resolveUp = res), (rejectUp = rej)));
  up.catch(() => undefined);
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    appendFileSync(logFile, d);
    buf += d.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const j = JSON.parse(line) as { level: number; msg: string; port?: number };
        if (j.msg === 'gateway started') resolveUp(j.port ?? 0);
        if (j.level >= 50) errors.push(`${name}: ${line}`);
      } catch {
        errors.push(`${name} (not JSON): ${line}`);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    appendFileSync(logFile, d);
    errors.push(`${name} stderr: ${d.toString('utf8')}`);
  });
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      rejectUp(new Error(`${name} exited (${code}) before it was up`));
      res(code);
    }),
  );
  return {
    name,
    child,
    up,
    errors,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

let databases = 0;

/** A fresh database in the cluster at `url` (the instances of one test share it). */
export async function freshDatabase(url: string, prefix = 'inst'): Promise<string> {
  const name = `${prefix}_${process.pid}_${++databases}`;
  const admin = knexFactory({ client: 'pg', connection: url });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  return url.replace(/\/postgres$/, `/${name}`);
}
