import type { ChannelPacing } from '../notifications/sender.js';

/**
 * A token bucket: `burst` sends back to back, then one every 60,000 / ratePerMinute ms.
 * One per destination of a channel (src/outbox/channel-lane.ts). Rate 0 means no
 * pacing: a token is always there. Time is injectable for tests.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private readonly msPerToken: number;

  constructor(
    private readonly pacing: ChannelPacing,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = pacing.burst;
    this.updatedAt = now();
    this.msPerToken = pacing.ratePerMinute > 0 ? 60_000 / pacing.ratePerMinute : 0;
  }

  get paced(): boolean {
    return this.msPerToken > 0;
  }

  /** Milliseconds until a token is available; 0 when one is there now. */
  delayMs(): number {
    if (!this.paced) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) * this.msPerToken);
  }

  /** Takes a token; only call when delayMs() is 0. */
  take(): void {
    if (!this.paced) return;
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.pacing.burst, this.tokens + (now - this.updatedAt) / this.msPerToken);
    this.updatedAt = now;
  }
}

/**
 * How long a channel stays paused after a rate-limit answer without Retry-After:
 * 1 s, doubling with each consecutive one, at most a minute.
 */
export function rateLimitPauseMs(retryAfterMs: number | undefined, consecutive: number): number {
  if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs;
  return Math.min(60_000, 1_000 * 2 ** Math.max(0, consecutive - 1));
}
