import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { withContentionRetry } from './contention-retry.js';
import { migrate } from './migrator.js';
import type { SqlStorage, Storage } from './storage.js';

/**
 * Opens the storage the configuration asks for. PGlite and Postgres are migrated on
 * open (unless `migrate: false`); Supabase projects are migrated with `supabase db push`.
 * Each adapter is imported only when chosen: a Postgres deployment never loads the
 * WASM database or supabase-js (memory is part of the API's budget).
 */
export async function openStorage(
  config: Config,
  logger: Logger,
  options: {
    migrate?: boolean;
    applicationName?: string;
    /**
     * Operator work (CLI migrate, cleanup, replay): no per-query timeout. The API's
     * DATABASE_QUERY_TIMEOUT_MS bounds a request; a migration or a purge of a month of
     * events may rightly take longer.
     */
    operational?: boolean;
  } = {},
): Promise<Storage> {
  const { storage: settings } = config;
  if (settings.mode === 'supabase') {
    const { openSupabaseStorage } = await import('./supabase-storage.js');
    // PostgREST passes 40001/40P01 through as the error code: retried like on Postgres.
    return withContentionRetry(
      openSupabaseStorage({
        url: settings.supabaseUrl!,
        serviceRoleKey: settings.supabaseServiceRoleKey!,
        // A fetch cannot go without a deadline; operator work gets a generous one.
        requestTimeoutMs: options.operational ? OPERATIONAL_REQUEST_TIMEOUT_MS : settings.queryTimeoutMs,
      }),
      logger,
    );
  }
  if (settings.mode === 'postgres') {
    const { openPostgresStorage } = await import('./postgres-storage.js');
    const open = (overrides: { poolMax?: number; queryTimeoutMs?: number } = {}) =>
      openPostgresStorage({
        connectionString: settings.databaseUrl!,
        poolMax: settings.poolMax,
        connectTimeoutMs: settings.connectTimeoutMs,
        queryTimeoutMs: options.operational ? NO_TIMEOUT : settings.queryTimeoutMs,
        logger,
        ...(options.applicationName ? { applicationName: options.applicationName } : {}),
        ...overrides,
      });
    if (options.migrate !== false) {
      // Migrations are operational work even when the API or a worker runs them at
      // start: one connection of their own, without the request timeout (a migration
      // may wait for the advisory lock while another process migrates).
      const migrator = open({ poolMax: 1, queryTimeoutMs: NO_TIMEOUT });
      try {
        await migrateAndLog(migrator, logger);
      } finally {
        await migrator.close();
      }
    }
    return open();
  }
  const { openPgliteStorage } = await import('./pglite-storage.js');
  const storage = await openPgliteStorage({ dataDir: join(settings.dataDir, 'pglite') });
  if (options.migrate !== false) await migrateAndLog(storage, logger);
  return storage;
}

/** Supabase rpc: how long an operator command's single call may take (a large purge). */
const OPERATIONAL_REQUEST_TIMEOUT_MS = 15 * 60_000;

/** node-postgres reads 0 as "no query_timeout" and then sends no statement_timeout. */
const NO_TIMEOUT = 0;

async function migrateAndLog(storage: SqlStorage, logger: Logger): Promise<void> {
  const applied = await migrate(storage);
  if (applied.length > 0) logger.info({ applied }, 'Database migrations applied');
}
