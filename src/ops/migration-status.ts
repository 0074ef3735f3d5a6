import { type Migration, pendingMigrations, readMigrations } from '../storage/migrator.js';
import { isSqlStorage, type Storage } from '../storage/storage.js';

/**
 * Which migrations shipped with this build the database has not applied. PGlite and
 * Postgres read leadrelay_schema_migrations directly; in Supabase mode (rpc only) the
 * SQL function leadrelay_schema_versions() also reads `supabase db push`'s history.
 * If that function itself is missing, its migration (and maybe others) is pending.
 */
let shipped: Migration[] | undefined;

export const MIGRATIONS_NOT_VERIFIABLE =
  'migration history not readable by this role (supabase db push history): not verified';

/** The migration files of this build, read once (they do not change while running). */
export function shippedMigrations(): Migration[] {
  shipped ??= readMigrations();
  return shipped;
}

/**
 * Pending migrations, or null when no migration history is readable by this role (a
 * hosted Supabase project migrated with `supabase db push`: service_role may not read
 * supabase_migrations), so the caller reports "not verifiable" instead of failing.
 */
export async function pendingMigrationNames(
  storage: Storage,
  migrations: Migration[] = shippedMigrations(),
): Promise<string[] | null> {
  if (isSqlStorage(storage)) return pendingMigrations(storage, migrations);
  let applied: Set<string>;
  try {
    const versions = await storage.call<string[] | null>('leadrelay_schema_versions');
    if (versions === null) return null;
    applied = new Set(versions);
  } catch (error) {
    // PostgREST: PGRST202 "function not found"; anything else is a real failure.
    if ((error as { code?: unknown }).code === 'PGRST202') {
      return migrations.filter((m) => m.version >= '20261122000400').map((m) => `${m.version}_${m.name}`);
    }
    throw error;
  }
  return migrations.filter((m) => !applied.has(m.version)).map((m) => `${m.version}_${m.name}`);
}
