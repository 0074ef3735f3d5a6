import pg from 'pg';
import type { Logger } from '../logger.js';
import type { ListenOptions } from './storage.js';

/**
 * LISTEN on a session of its own (a pooled or transaction-pooled connection would lose
 * it), kept alive through every way a connection dies:
 *
 * - Closed or reset (server restart, proxy drop): pg emits 'error' or 'end'; reconnect
 *   with backoff (250 ms doubling to 10 s).
 * - Half-open (a NAT or load balancer forgot the flow; the far end is gone but nothing
 *   says so): no event ever fires and NOTIFYs silently stop, so the worker falls back to
 *   polling and dashboards stay "Live" but stale. TCP keepalive (keepAlive: true) lets
 *   the kernel notice eventually, on its own schedule (minutes to hours); so every
 *   `checkIntervalMs` the connection is also asked `select 1`, and one that does not
 *   answer within `checkTimeoutMs` is dropped and replaced.
 *
 * After every reconnect `onReconnect` runs: notifications sent while the connection was
 * down are lost, so the subscriber should look for itself (the worker claims, the admin
 * feed tells dashboards to resync). The first connect does not count; a first connect
 * that failed and later succeeds does.
 */
export interface ListenSettings {
  checkIntervalMs: number;
  checkTimeoutMs: number;
}

export const DEFAULT_LISTEN_SETTINGS: ListenSettings = { checkIntervalMs: 15_000, checkTimeoutMs: 5_000 };
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export function listenWithReconnect(
  clientConfig: pg.ClientConfig,
  channel: string,
  onNotify: (payload: string) => void,
  options: ListenOptions & { logger?: Logger | undefined; settings?: ListenSettings | undefined } = {},
): { ready: Promise<void>; stop: () => Promise<void> } {
  const { logger } = options;
  const settings = options.settings ?? DEFAULT_LISTEN_SETTINGS;
  let stopped = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let checkTimer: NodeJS.Timeout | undefined;
  let checking = false;
  let delayMs = RETRY_MIN_MS;
  /** Whether a reconnect must be announced: true once listen() has resolved. */
  let announce = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = () => {
      announce = true;
      resolve();
    };
  });

  const scheduleReconnect = () => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delayMs);
    delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
  };

  /** Drops `dead` (if it is still the current connection) and connects again. */
  const replace = (dead: pg.Client, reason: string, error?: unknown) => {
    if (dead !== client) return; // an old connection's late event: already replaced
    client = undefined;
    logger?.warn({ err: error, channel, reason }, 'LISTEN connection lost; reconnecting');
    // Not awaited: on a half-open socket end() waits for an answer that never comes.
    void dead.end().catch(() => {});
    scheduleReconnect();
  };

  const connect = async () => {
    const next = new pg.Client({
      ...clientConfig,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    });
    next.on('error', (error) => replace(next, 'error', error));
    next.on('end', () => replace(next, 'closed'));
    next.on('notification', (message) => {
      if (message.channel === channel && next === client) onNotify(message.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`listen "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      logger?.warn({ err: error, channel }, 'LISTEN connection failed; retrying');
      void next.end().catch(() => {});
      markReady();
      scheduleReconnect();
      return;
    }
    if (stopped) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    delayMs = RETRY_MIN_MS;
    const reconnected = announce;
    markReady();
    if (reconnected) {
      logger?.info({ channel }, 'LISTEN connection re-established');
      options.onReconnect?.();
    }
  };

  /** The periodic question that catches a half-open connection. */
  const check = async () => {
    const current = client;
    if (!current || checking || stopped) return;
    checking = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        current.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer in ${settings.checkTimeoutMs} ms`)),
            settings.checkTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      replace(current, 'check failed', error);
    } finally {
      clearTimeout(timer);
      checking = false;
    }
  };

  checkTimer = setInterval(() => void check(), settings.checkIntervalMs);
  checkTimer.unref();
  void connect();
  return {
    ready,
    async stop() {
      stopped = true;
      clearInterval(checkTimer);
      if (retryTimer) clearTimeout(retryTimer);
      const last = client;
      client = undefined;
      // Bounded: a half-open connection never answers the goodbye.
      await Promise.race([
        last?.end().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
      ]);
    },
  };
}
