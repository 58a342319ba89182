import type { Db } from './db.ts';

/**
 * Named leases: one holder at a time (one poller per SFTP channel across instances). The holder
 * renews its lease before each round of work; when it dies, the lease runs out and the next
 * instance that asks takes it over. A holder that stops gives it back at once.
 */
export const leases = {
  /** Take or renew `name` until now + ttlMs: true when it is ours. */
  async acquire(db: Db, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    const who = holder.slice(0, 128);
    const renewed = await db('leases')
      .where({ name })
      .andWhere((w) => w.where({ holder: who }).orWhere('until', '<', now.toISOString()))
      .update({ holder: who, until });
    if (renewed > 0) return true;
    const inserted = await db('leases').insert({ name, holder: who, until }).onConflict('name').ignore().returning('name');
    return inserted.length > 0;
  },

  /** Give it back (a clean stop): another instance may take it at once. */
  async release(db: Db, name: string, holder: string): Promise<void> {
    await db('leases').where({ name, holder: holder.slice(0, 128) }).delete();
  },

};
