/**
 * Delay before retrying an event after a transient failure: exponential in the
 * attempt number, with "equal jitter" (half fixed, half random) so that a burst of
 * failures does not come back as a burst of retries, never shorter than what the
 * provider asked for (HTTP Retry-After, Telegram's retry_after).
 */
export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

export function retryDelayMs(
  attempt: number,
  settings: BackoffSettings,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}
