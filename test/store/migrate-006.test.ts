import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import knexFactory, { type Knex } from 'knex';
import { MIGRATIONS, type Migration } from '../../src/store/migrations.ts';
import { openDb } from '../../src/store/db.ts';
import { tempDir } from '../helpers.ts';

/**
 * Upgrading a store that already holds what the new unique index forbids: interchanges accepted
 * twice (a replay, or two gateways on one data dir before it was locked). The upgrade keeps the
 * first as the accepted one, counts the others as superseded, and then the index holds.
 */
const source = (list: Migration[]): Knex.MigrationSource<Migration> => ({
  getMigrations: async () => list,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: m.down }),
});

test('the upgrade to 006 keeps one accepted row per interchange, then the unique index holds', async () => {
  const file = path.join(tempDir('gw-m006-'), 'gw.sqlite');
  const old = knexFactory({ client: 'sqlite3', connection: { filename: file }, useNullAsDefault: true });
  await old.migrate.latest({ migrationSource: source(MIGRATIONS.filter((m) => m.name < '006')) });
  const doc = async (replayOf: number | null) => {
    const [id] = await old('documents').insert({ direction: 'in', partner_id: 'demo-retail', channel: 'folder:demo-retail', filename: 'f.x12', source_done: true, sha256: 'x', size: 1, raw_path: 'x', format: 'x12', status: 'PROCESSED', correlation_id: 'c', received_at: '2026-12-01T00:00:00Z', replay_of: replayOf });
    return Number(id);
  };
  const d1 = await doc(null);
  const d2 = await doc(d1); // a replay of it
  const d3 = await doc(null); // the same interchange again (two gateways once on one data dir)
  for (const [d, seq] of [[d1, 1], [d2, 1], [d3, 1]]) await old('interchanges').insert({ document_id: d, seq, partner_id: 'demo-retail', sender: 'ZZ/RETAILCO', receiver: 'ZZ/DISTRIBUTOR1', isa13: '000000777', status: 'ACCEPTED', created_at: '2026-12-01T00:00:00Z' });
  await old.destroy();

  const db = await openDb({ client: 'sqlite3', filename: file });
  try {
    const rows = await db('interchanges').orderBy('id').select('document_id', 'replay');
    assert.deepEqual(rows.map((r) => [Number(r.document_id), Boolean(r.replay)]), [[d1, false], [d2, true], [d3, true]]);
    await assert.rejects(db('interchanges').insert({ document_id: d3, seq: 2, partner_id: 'demo-retail', sender: 's', receiver: 'r', isa13: '000000777', status: 'ACCEPTED', created_at: 'x', replay: false }), /UNIQUE/);
  } finally {
    await db.destroy();
  }
});
