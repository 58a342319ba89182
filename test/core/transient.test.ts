import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTransient } from '../../src/core/transient.ts';

test('transient errors: database and disk conditions, not faults of our code', () => {
  for (const code of ['40P01', '40001', '57P01', '08006', 'ECONNRESET', 'ENOSPC', 'SQLITE_BUSY']) assert.equal(isTransient(Object.assign(new Error('x'), { code })), true, code);
  assert.equal(isTransient(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isTransient(new Error('Knex: Timeout acquiring a connection. The pool is probably full.')), true);
  assert.equal(isTransient(new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ENOSPC' }) })), true, 'through cause');
  for (const e of [new TypeError('x.includes is not a function'), new RangeError('Maximum call stack size exceeded'), Object.assign(new Error('dup'), { code: '23505' }), Object.assign(new Error('x'), { code: 'ENOENT' }), null, undefined, 'text']) assert.equal(isTransient(e), false, String(e));
});
