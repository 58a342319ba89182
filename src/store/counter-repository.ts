import type { Db } from './db.ts';
import { num } from './db.ts';

/**
 * Per-partner control numbers (ISA13, GS06, SSCC serials), allocated inside the caller's
 * transaction: unique, increasing, never reused (a rolled-back allocation is rolled back with the
 * document that used it, so no number is ever seen twice).
 */
export const counters = {
  async next(db: Db, partnerId: string, name: string, max = 999_999_999): Promise<number> {
    return counters.block(db, partnerId, name, 1, max);
  },

  /** Allocate `n` consecutive numbers at once; returns the first. */
  async block(db: Db, partnerId: string, name: string, n: number, max = 999_999_999): Promise<number> {
    await db('counters').insert({ partner_id: partnerId, name, value: 0 }).onConflict(['partner_id', 'name']).ignore();
    await db('counters').where({ partner_id: partnerId, name }).increment('value', n);
    const r = await db('counters').where({ partner_id: partnerId, name }).first('value');
    const last = num(r?.value);
    if (last > max) throw new Error(`counter ${partnerId}/${name} exhausted (${max})`);
    return last - n + 1;
  },

  /**
   * SSCC serials of a GS1 company prefix: one counter per prefix, whichever partner the ASN is
   * for (two partners with our one prefix must never get the same SSCC). A new prefix counter
   * starts after the highest serial the former per-partner counters handed out.
   */
  async ssccBlock(db: Db, gs1CompanyPrefix: string, n: number, max: number): Promise<number> {
    const key = `gs1:${gs1CompanyPrefix}`;
    if (!(await db('counters').where({ partner_id: key, name: 'sscc' }).first('value'))) {
      const r = await db('counters').where({ name: 'sscc' }).max({ v: 'value' }).first();
      await db('counters').insert({ partner_id: key, name: 'sscc', value: num(r?.v) }).onConflict(['partner_id', 'name']).ignore();
    }
    return counters.block(db, key, 'sscc', n, max);
  },

  async peek(db: Db, partnerId: string, name: string): Promise<number> {
    const r = await db('counters').where({ partner_id: partnerId, name }).first('value');
    return num(r?.value);
  },
};
