import pg from 'pg';
import type { Logger } from '../logger.js';
import { retryOnContention } from './contention-retry.js';
import { type ListenSettings, listenWithReconnect } from './postgres-listen.js';
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
  /** How often the LISTEN connection is checked (tests shorten it); see postgres-listen.ts. */
  listen?: ListenSettings;
}

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
    async listen(channel, onNotify, listenOptions = {}) {
      const subscription = listenWithReconnect(clientConfig, channel, onNotify, {
        ...listenOptions,
        logger: options.logger,
        settings: options.listen,
      });
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
