import type { Db } from './db.ts';
import { num } from './db.ts';

/**
 * Per-partner control numbers (ISA13, GS06, SSCC serials), allocated inside the caller's
 * transaction: unique, increasing, never reused (a rolled-back allocation is rolled back with the
 * document that used it, so no number is ever seen twice).
 */
export const counters = {
  async next(db: Db, partnerId: string, name: string, max = 999_999_999): Promise<number> {
    await db('counters').insert({ partner_id: partnerId, name, value: 0 }).onConflict(['partner_id', 'name']).ignore();
    await db('counters').where({ partner_id: partnerId, name }).increment('value', 1);
    const r = await db('counters').where({ partner_id: partnerId, name }).first('value');
    const v = num(r?.value);
    if (v > max) throw new Error(`counter ${partnerId}/${name} exhausted (${max})`);
    return v;
  },

  async peek(db: Db, partnerId: string, name: string): Promise<number> {
    const r = await db('counters').where({ partner_id: partnerId, name }).first('value');
    return num(r?.value);
  },
};
