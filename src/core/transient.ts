/**
 * Errors that say nothing about the document: the database or the disk was briefly unable (a
 * deadlock between two instances, a lost connection, a full disk, SQLite busy). A document that
 * met one is tried again later without counting an attempt against it (issue 12: "transient
 * errors retried without a restart"); only faults of our own code count towards FAILED.
 */
const PG_CODES = new Set(['40P01', '40001', '55P03', '57P01', '57P02', '57P03', '53100', '53200', '53300', '58030']);
const NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR']);
const MESSAGES = /Connection terminated|Knex: Timeout acquiring a connection|Client has encountered a connection error|database system is (starting up|shutting down)|SQLITE_BUSY|SQLITE_FULL/;

export function isTransient(e: unknown): boolean {
  for (let x = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; x && depth < 4; x = x.cause as typeof x, depth++) {
    const code = typeof x.code === 'string' ? x.code : '';
    if (PG_CODES.has(code) || code.startsWith('08') && code.length === 5 || NODE_CODES.has(code)) return true;
    if (typeof x.message === 'string' && MESSAGES.test(x.message)) return true;
  }
  return false;
}
