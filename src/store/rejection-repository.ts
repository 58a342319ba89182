import type { Rejection } from '../core/rejection.ts';
import type { Db } from './db.ts';

export const rejections = {
  async insert(db: Db, documentId: number, list: Rejection[]): Promise<void> {
    for (let i = 0; i < list.length; i += 200) {
      await db('rejections').insert(
        list.slice(i, i + 200).map((r) => ({
          document_id: documentId,
          code: r.code,
          severity: r.severity,
          message: r.message,
          isa13: r.isa13 ?? null,
          gs06: r.gs06 ?? null,
          st02: r.st02 ?? null,
          segment_index: r.segmentIndex ?? null,
          set_position: r.setPosition ?? null,
          segment_tag: r.segmentTag?.slice(0, 8) ?? null,
          element: r.element ?? null,
          component: r.component ?? null,
          value: r.value?.slice(0, 128) ?? null,
        })),
      );
    }
  },

  async forDocument(db: Db, documentId: number): Promise<Record<string, unknown>[]> {
    return db('rejections').where({ document_id: documentId }).orderBy('id');
  },
};
