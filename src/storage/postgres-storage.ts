import pg from 'pg';
import type { Logger } from '../logger.js';
import { retryOnContention } from './contention-retry.js';
import { toStorageError } from './sql-errors.js';
import type { SqlExecutor } from './sql-executor.js';
import { callFunction, type SqlStorage } from './storage.js';

export interface PostgresOptions {
  connectionString: string;
  poolMax: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  logger?: Logger;
  applicationName?: string;
}

const LISTEN_RETRY_MAX_MS = 10_000;

/**
 * Any PostgreSQL through a pool (node-postgres). Timeouts on connecting and on each
 * query turn an unreachable or hanging database into a StorageUnavailableError within
 * seconds instead of a hang.
 */
export function openPostgresStorage(options: PostgresOptions): SqlStorage & { pool: pg.Pool } {
  const clientConfig = {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName ?? 'leadrelay',
  };
  const pool = new pg.Pool({
    ...clientConfig,
    max: options.poolMax,
    idleTimeoutMillis: 30_000,
    query_timeout: options.queryTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a
  // handler that would crash the process. The next checkout simply reconnects.
  pool.on('error', (error) => options.logger?.warn({ err: error }, 'Idle database connection lost'));

  const query = async <R extends Record<string, unknown>>(text: string, params: unknown[] = []) => {
    try {
      return (await pool.query<R>(text, params)).rows;
    } catch (error) {
      throw toStorageError(error);
    }
  };

  const closers = new Set<() => Promise<void>>();

  return {
    mode: 'postgres',
    pool,
    query,
    // Deadlocks and serialization failures are retried (contention-retry.ts says why that is safe).
    call: (fn, args) =>
      retryOnContention(fn, () => callFunction(query, fn, args), { logger: options.logger }),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toStorageError(error);
      }
      let broken = false;
      try {
        await client.query('begin');
        const result = await work({
          query: async (text, params = []) => (await client.query(text, params)).rows,
          exec: async (sql) => {
            await client.query(sql);
          },
        });
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {
          broken = true;
        });
        throw toStorageError(error);
      } finally {
        client.release(broken);
      }
    },
    async listen(channel, onNotify) {
      const subscription = listenWithReconnect(clientConfig, channel, onNotify, options.logger);
      const stop = async () => {
        closers.delete(stop);
        await subscription.stop();
      };
      closers.add(stop);
      await subscription.ready;
      return stop;
    },
    async close() {
      await Promise.all([...closers].map((stop) => stop()));
      await pool.end();
    },
  };
}

/**
 * LISTEN needs a session of its own (a pooled or transaction-pooled connection would
 * lose it). When the connection drops, reconnect with backoff; after every (re)connect
 * `onNotify('')` tells the listener it may have missed notifications and should look.
 */
function listenWithReconnect(
  clientConfig: pg.ClientConfig,
  channel: string,
  onNotify: (payload: string) => void,
  logger?: Logger,
): { ready: Promise<void>; stop: () => Promise<void> } {
  let stopped = false;
  let client: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let delayMs = 250;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const scheduleReconnect = () => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delayMs);
    delayMs = Math.min(delayMs * 2, LISTEN_RETRY_MAX_MS);
  };

  const connect = async () => {
    const next = new pg.Client(clientConfig);
    next.on('error', (error) => {
      logger?.warn({ err: error, channel }, 'LISTEN connection lost; reconnecting');
      void next.end().catch(() => {});
      scheduleReconnect();
    });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
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
    delayMs = 250;
    markReady();
    onNotify('');
  };

  void connect();
  return {
    ready,
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => {});
    },
  };
}
