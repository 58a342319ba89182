/**
 * A limit on concurrent sessions per remote host, shared by every channel that talks to it (a
 * retailer's server often serves several of our partner ids, and servers cap sessions per client).
 * A channel holding an idle session registers a release callback; when another channel has to
 * wait, the longest-idle session is given up for it.
 */
export class SessionSlots {
  active = 0;
  /** The most sessions ever open at once (status API, tests). */
  peak = 0;
  private waiters: (() => void)[] = [];
  private idlers = new Set<() => void>();

  constructor(public limit: number) {}

  get waiting(): number {
    return this.waiters.length;
  }

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.take();
      return;
    }
    const granted = new Promise<void>((r) => this.waiters.push(r));
    // Someone idle gives up their session for us.
    const idler = this.idlers.values().next().value;
    if (idler) {
      this.idlers.delete(idler);
      idler();
    }
    await granted;
  }

  private take(): void {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
  }

  release(): void {
    this.active--;
    const next = this.waiters.shift();
    if (next) {
      this.take();
      next();
    }
  }

  idle(release: () => void): void {
    this.idlers.add(release);
  }

  notIdle(release: () => void): void {
    this.idlers.delete(release);
  }
}

/** The session limits of one gateway, by `host:port`; the smallest limit configured for a host wins. */
export class HostSessions {
  private byHost = new Map<string, SessionSlots>();

  for(hostPort: string, limit: number): SessionSlots {
    let s = this.byHost.get(hostPort);
    if (!s) this.byHost.set(hostPort, (s = new SessionSlots(limit)));
    else s.limit = Math.min(s.limit, limit);
    return s;
  }
}
