import type { Logger } from '../logger.js';
import { StorageQueryError, StorageUnavailableError } from './errors.js';
import type { Storage } from './storage.js';

/**
 * Serialization failures (40001) and deadlocks (40P01) are retried here, inside the
 * storage layer, so no caller ever sees one unless the database stays contended.
 *
 * What is retried, and why it is safe: `Storage.call`, and only it. A call is one
 * statement, `select fn(...)`, run as its own transaction (autocommit; PostgREST runs
 * an rpc the same way). When Postgres answers 40001 or 40P01 it has rolled that whole
 * transaction back: nothing the function wrote is left, NOTIFYs included (they are
 * sent at commit). Running it again is therefore exactly the first run, for every
 * function: capture_lead (its idempotency row went with the rollback, so a retry
 * either inserts the lead or finds the one a concurrent request committed),
 * claim_lead_events (no lease was taken), record_notification_results (the lease is
 * still ours, attempts unchanged), the admin changes (the version check runs again).
 *
 * Not retried: `transaction(work)` (the callback is the caller's code and may have
 * done work outside the database before the failure; the migrator, its only user,
 * should fail loudly) and `query` (plain SQL for tests and operators).
 *
 * Backoff: full jitter (a random delay up to base·2^n, capped), so the transactions
 * that collided do not collide again in lockstep. When the retries run out the error
 * becomes a StorageContentionError, a StorageUnavailableError: the API answers 503
 * with Retry-After, the worker treats it like an unreachable database (claims again
 * at the next poll, keeps retrying a record), and nobody gets a 500.
 */
export const CONTENTION_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

export interface ContentionRetryPolicy {
  /** Retries after the first try. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_CONTENTION_RETRY: ContentionRetryPolicy = {
  retries: 4,
  baseDelayMs: 10,
  maxDelayMs: 250,
};

export class StorageContentionError extends StorageUnavailableError {
  constructor(
    readonly fn: string,
    readonly code: string,
    readonly tries: number,
    options?: { cause?: unknown },
  ) {
    super(`database contention (${code}) in ${fn}: still failing after ${tries} tries`, options);
    this.name = 'StorageContentionError';
  }
}

export function isContention(error: unknown): error is StorageQueryError {
  return error instanceof StorageQueryError && CONTENTION_SQLSTATES.has(error.code);
}

export async function retryOnContention<T>(
  fn: string,
  work: () => Promise<T>,
  options: { logger?: Logger | undefined; policy?: ContentionRetryPolicy } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_CONTENTION_RETRY;
  for (let retry = 0; ; retry++) {
    try {
      return await work();
    } catch (error) {
      if (!isContention(error)) throw error;
      if (retry >= policy.retries) {
        throw new StorageContentionError(fn, error.code, retry + 1, { cause: error });
      }
      const delayMs = Math.round(
        Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry),
      );
      options.logger?.warn(
        { fn, sqlState: error.code, retry: retry + 1, of: policy.retries, delayMs },
        `Retrying ${fn} after ${error.code === '40P01' ? 'a deadlock' : 'a serialization failure'}`,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The same storage with every `call` retried on contention (for adapters that do not do it themselves). */
export function withContentionRetry<S extends Storage>(storage: S, logger?: Logger): S {
  const call = storage.call.bind(storage);
  return Object.assign(Object.create(storage) as S, {
    call: <T>(fn: string, args?: Record<string, unknown>) =>
      retryOnContention(fn, () => call<T>(fn, args), { logger }),
  });
}
