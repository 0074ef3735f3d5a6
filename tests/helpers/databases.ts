import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import { databaseUrlFor } from './database-url.js';

/**
 * Test databases. Every database suite runs on PGlite, and also on real Postgres when
 * TEST_DATABASE_URL is set. Each database is a fresh, migrated copy of the run's
 * template, dropped at the end of the run.
 */
export type DatabaseKind = 'pglite' | 'postgres';

export interface TestDatabase {
  kind: DatabaseKind;
  storage: SqlStorage;
  /** Connection URL (Postgres only): for child processes and extra pools. */
  url?: string;
  close(): Promise<void>;
}

export const databaseKinds: DatabaseKind[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

export const hasPostgres = Boolean(process.env.TEST_DATABASE_URL);

function uniqueName(prefix: string): string {
  return `leadrelay_t_${inject('testRunId')}_${prefix}_${randomBytes(4).toString('hex')}`;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A new Postgres database; migrated (from the template) unless `empty`. Returns its URL. */
export async function createPostgresDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = uniqueName(options.empty ? 'empty' : 'db');
  const template = options.empty ? 'template0' : inject('postgresTemplateName');
  await adminQuery(`create database ${name} template ${template}`);
  return databaseUrlFor(adminUrl, name);
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  if (process.env.KEEP_TEST_DATABASES) return;
  const name = new URL(url).pathname.slice(1);
  await adminQuery(`drop database if exists ${name} with (force)`);
}

export async function createTestDatabase(
  kind: DatabaseKind,
  options: { poolMax?: number } = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const storage = await openPgliteStorage({
      loadDataDir: new Blob([readFileSync(inject('pgliteTemplatePath'))]),
    });
    return { kind, storage, close: () => storage.close() };
  }
  const url = await createPostgresDatabase();
  const storage = openPostgresStorage({
    connectionString: url,
    poolMax: options.poolMax ?? 20,
    connectTimeoutMs: 3000,
    queryTimeoutMs: 15_000,
  });
  return {
    kind,
    storage,
    url,
    async close() {
      await storage.close();
      await dropPostgresDatabase(url);
    },
  };
}

/** Runs the suite once per available database kind, named after it. */
export function describeEachDatabase(name: string, suite: (kind: DatabaseKind) => void): void {
  for (const kind of databaseKinds) {
    describe(`${name} [${kind}]`, () => suite(kind));
  }
}
