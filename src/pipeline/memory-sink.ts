import type { CanonicalEvent } from '../domain/events.ts';
import type { TranslateSink } from './translate-x12.ts';

/** Holds events until their interchange is settled (CLI translate, dry runs). */
export class MemorySink implements TranslateSink {
  private staged: { ic: number; group: number; events: CanonicalEvent[] }[] = [];

  events(ic: number, group: number, events: CanonicalEvent[]): void {
    this.staged.push({ ic, group, events });
  }

  discard(ic: number, group?: number): void {
    this.staged = this.staged.filter((s) => !(s.ic === ic && (group === undefined || s.group === group)));
  }

  all(): CanonicalEvent[] {
    return this.staged.flatMap((s) => s.events);
  }
}
