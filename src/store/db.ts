import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations.ts';

export type Db = Knex;

export interface DbConfig {
  client: 'sqlite3' | 'pg';
  /** SQLite file (absolute). */
  filename?: string;
  connection?: string;
  /** SQLite: how long a write waits for the lock another process holds (default 5 s; the CLI waits longer). */
  busyTimeoutMs?: number;
}

/** Open the database and bring its schema up to date. */
export async function openDb(cfg: DbConfig): Promise<Db> {
  let db: Knex;
  if (cfg.client === 'sqlite3') {
    const file = cfg.filename!;
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    db = knexFactory({
      client: 'sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: { run: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
          // WAL: readers do not block the writer; FULL sync: a commit survives a power cut.
          conn.run('PRAGMA journal_mode = WAL', (e1) => {
            if (e1) return done(e1, conn);
            conn.run('PRAGMA synchronous = FULL', (e2) => {
              if (e2) return done(e2, conn);
              conn.run('PRAGMA foreign_keys = ON', (e3) => {
                if (e3) return done(e3, conn);
                conn.run(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(cfg.busyTimeoutMs ?? 5000))}`, (e4) => done(e4, conn));
              });
            });
          });
        },
      },
    });
  } else {
    db = knexFactory({ client: 'pg', connection: cfg.connection, pool: { min: 0, max: 10 } });
  }
  const migrate = async () => {
    // Only when something is pending: bringing the schema up to date takes knex's migration lock (a
    // write), which a CLI command beside a running gateway would otherwise wait for every time.
    const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
    if (pending.length) await db.migrate.latest({ migrationSource });
  };
  if (cfg.client === 'sqlite3') await migrate();
  else {
    // Several instances starting at once on a fresh database would race to create knex's own
    // tables (its lock lives in one of them): a session advisory lock serialises them first.
    const conn = await db.client.acquireConnection();
    try {
      await db.raw('select pg_advisory_lock(?)', [MIGRATION_LOCK]).connection(conn);
      try {
        await migrate();
      } finally {
        await db.raw('select pg_advisory_unlock(?)', [MIGRATION_LOCK]).connection(conn);
      }
    } finally {
      await db.client.releaseConnection(conn);
    }
  }
  return db;
}

/** The advisory lock key instances take while they bring the schema up to date (any fixed number). */
const MIGRATION_LOCK = 846_850_856;

/**
 * A second handle for reads (the API): on SQLite a pool of read-only connections, which WAL lets
 * read while the pipeline writes through the one writer connection, so API reads neither wait for
 * the writer nor queue behind each other. On PostgreSQL the same pool serves both.
 */
export function openReadDb(cfg: DbConfig, writer: Db, connections = 4): Db {
  if (cfg.client !== 'sqlite3' || cfg.filename === ':memory:') return writer;
  return knexFactory({
    client: 'sqlite3',
    connection: { filename: cfg.filename! },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: connections,
      afterCreate: (conn: { run: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        // Read-only by contract (knex cannot combine OPEN_READONLY with its default flags).
        conn.run('PRAGMA query_only = ON', (e1) => {
          if (e1) return done(e1, conn);
          conn.run('PRAGMA busy_timeout = 5000', (e2) => done(e2, conn));
        });
      },
    },
  });
}

/** pg returns counts and bigints as strings: numbers here. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  return 0;
}

export async function migrationsCurrent(db: Db): Promise<boolean> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  return pending.length === 0;
}
