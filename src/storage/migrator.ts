import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import type { SqlStorage } from './storage.js';

/**
 * Applies supabase/migrations/*.sql in name order, each file in its own transaction,
 * recording what ran in leadrelay_schema_migrations. An advisory lock serialises
 * concurrent migrators (an API and a worker starting together). Supabase projects use
 * `supabase db push` on the same files instead.
 */
export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATION_LOCK_KEY = 7_420_115;

export const MIGRATIONS_DIR = join(packageRoot(), 'supabase', 'migrations');

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const sql = readFileSync(join(dir, file), 'utf8');
      const [version = file, ...rest] = file.replace(/\.sql$/, '').split('_');
      return { version, name: rest.join('_'), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const TRACKING_TABLE_SQL = `
  create table if not exists leadrelay_schema_migrations (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  );
  alter table leadrelay_schema_migrations enable row level security;
  revoke all on table leadrelay_schema_migrations from public;
`;

export async function migrate(
  storage: SqlStorage,
  migrations: Migration[] = readMigrations(),
): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await storage.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.exec(TRACKING_TABLE_SQL);
      const done = await tx.query('select 1 from leadrelay_schema_migrations where version = $1', [
        migration.version,
      ]);
      if (done.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query(
        'insert into leadrelay_schema_migrations (version, name, checksum) values ($1, $2, $3)',
        [migration.version, migration.name, migration.checksum],
      );
      return true;
    });
    if (ran) applied.push(`${migration.version}_${migration.name}`);
  }
  return applied;
}

/** Migrations on disk that the database has not applied yet (readiness checks use this). */
export async function pendingMigrations(
  storage: SqlStorage,
  migrations: Migration[] = readMigrations(),
): Promise<string[]> {
  const table = await storage.query<{ exists: boolean }>(
    `select to_regclass('leadrelay_schema_migrations') is not null as exists`,
  );
  if (!table[0]?.exists) return migrations.map((m) => `${m.version}_${m.name}`);
  const rows = await storage.query<{ version: string }>('select version from leadrelay_schema_migrations');
  const done = new Set(rows.map((row) => row.version));
  return migrations.filter((m) => !done.has(m.version)).map((m) => `${m.version}_${m.name}`);
}
