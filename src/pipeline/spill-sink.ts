import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { CanonicalEvent } from '../domain/events.ts';
import type { TranslateSink } from './translate-x12.ts';

/**
 * Events as NDJSON to a stream, without holding them (the CLI's translate): each group's events
 * are written to a spill file of their own as they come, dropped when the group or its interchange
 * is discarded, and copied to the output when their interchange is settled (an IEA error can still
 * discard a whole interchange after its groups ended). Memory: one event line at a time.
 */
export class SpillSink implements TranslateSink {
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'gw-spill-'));
  /** Open spill files by interchange, in group order. */
  private readonly open = new Map<number, { group: number; file: string; fd: number }[]>();
  constructor(private readonly out: Writable) {}

  private spill(ic: number, group: number) {
    const groups = this.open.get(ic) ?? [];
    let g = groups.find((x) => x.group === group);
    if (!g) {
      const file = path.join(this.dir, `${ic}-${group}.ndjson`);
      g = { group, file, fd: openSync(file, 'w') };
      groups.push(g);
      this.open.set(ic, groups);
    }
    return g;
  }

  events(ic: number, group: number, events: CanonicalEvent[]): void {
    const g = this.spill(ic, group);
    for (const e of events) writeSync(g.fd, JSON.stringify(e) + '\n');
  }

  discard(ic: number, group?: number): void {
    const groups = this.open.get(ic) ?? [];
    for (const g of groups.filter((x) => group === undefined || x.group === group)) {
      closeSync(g.fd);
      rmSync(g.file, { force: true });
    }
    const left = group === undefined ? [] : groups.filter((x) => x.group !== group);
    if (left.length) this.open.set(ic, left);
    else this.open.delete(ic);
  }

  async end(ic: number, group?: number): Promise<void> {
    if (group !== undefined) return; // a group's end: its interchange may still be discarded
    for (const g of this.open.get(ic) ?? []) {
      closeSync(g.fd);
      for await (const chunk of createReadStream(g.file)) if (!this.out.write(chunk)) await once(this.out, 'drain');
      rmSync(g.file, { force: true });
    }
    this.open.delete(ic);
  }

  /** Remove the spill directory (what was never settled is dropped). */
  close(): void {
    for (const groups of this.open.values()) for (const g of groups) closeSync(g.fd);
    this.open.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
