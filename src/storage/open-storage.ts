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
  options: { migrate?: boolean; applicationName?: string } = {},
): Promise<Storage> {
  const { storage: settings } = config;
  let storage: SqlStorage;
  if (settings.mode === 'supabase') {
    const { openSupabaseStorage } = await import('./supabase-storage.js');
    // PostgREST passes 40001/40P01 through as the error code: retried like on Postgres.
    return withContentionRetry(
      openSupabaseStorage({
        url: settings.supabaseUrl!,
        serviceRoleKey: settings.supabaseServiceRoleKey!,
        requestTimeoutMs: settings.queryTimeoutMs,
      }),
      logger,
    );
  }
  if (settings.mode === 'postgres') {
    const { openPostgresStorage } = await import('./postgres-storage.js');
    storage = openPostgresStorage({
      connectionString: settings.databaseUrl!,
      poolMax: settings.poolMax,
      connectTimeoutMs: settings.connectTimeoutMs,
      queryTimeoutMs: settings.queryTimeoutMs,
      logger,
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    });
  } else {
    const { openPgliteStorage } = await import('./pglite-storage.js');
    storage = await openPgliteStorage({ dataDir: join(settings.dataDir, 'pglite') });
  }
  if (options.migrate !== false) {
    const applied = await migrate(storage);
    if (applied.length > 0) logger.info({ applied }, 'Database migrations applied');
  }
  return storage;
}
