import type { Logger } from '../core/ports.ts';
import type { PartnerDirectory } from '../domain/partner.ts';
import type { Db } from '../store/db.ts';
import { feedAge, feeds } from '../store/feed-repository.ts';

export interface FeedState {
  partner: string;
  lastInboundAt: string | null;
  /** null: no feed row yet (a partner configured after the gateway started). */
  ageSeconds: number | null;
  windowMinutes: number | null;
  stale: boolean;
}

/** Each configured partner's feed at `now`: its age and, where it has a window, whether it is stale. */
export async function feedStates(db: Db, partners: PartnerDirectory, now: number): Promise<FeedState[]> {
  const rows = await feeds.all(db);
  return partners.all().map((p) => {
    const f = rows.get(p.id);
    const age = f ? feedAge(f, now) : null;
    const window = p.expectFeedWithinMinutes ?? null;
    return { partner: p.id, lastInboundAt: f?.lastInAt ?? null, ageSeconds: age, windowMinutes: window, stale: !!window && age !== null && age > window * 60 };
  });
}

/**
 * Says in the log when a partner's feed goes stale (GW_FEED_STALE, once) and when it comes back,
 * so that a feed that stops is noticed without a dashboard open. The metrics carry the same state
 * (gateway_feed_stale) for alerting.
 */
export class FeedWatch {
  private readonly stale = new Map<string, boolean>();

  constructor(private readonly deps: { db: Db; partners: PartnerDirectory; logger: Logger }) {}

  async check(now = Date.now()): Promise<FeedState[]> {
    const states = await feedStates(this.deps.db, this.deps.partners, now);
    for (const s of states) {
      if (s.windowMinutes === null) continue;
      const was = this.stale.get(s.partner);
      if (s.stale && was !== true) this.deps.logger.warn({ code: 'GW_FEED_STALE', partner: s.partner, lastInboundAt: s.lastInboundAt, ageSeconds: Math.round(s.ageSeconds ?? 0), windowMinutes: s.windowMinutes }, 'feed stale: nothing of business from the partner within its window');
      if (!s.stale && was === true) this.deps.logger.info({ partner: s.partner, lastInboundAt: s.lastInboundAt }, 'feed back');
      this.stale.set(s.partner, s.stale);
    }
    return states;
  }
}
