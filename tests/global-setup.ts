import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/storage/migrator.js';
import { openPgliteStorage } from '../src/storage/pglite-storage.js';
import { openPostgresStorage } from '../src/storage/postgres-storage.js';
import { databaseUrlFor } from './helpers/database-url.js';

/**
 * Migrates each database kind once per run into a template; every test file then
 * starts from a copy (PGlite: a data-dir tarball; Postgres: CREATE DATABASE ... TEMPLATE).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    testRunId: string;
    pgliteTemplatePath: string;
    postgresTemplateName: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  project.provide('testRunId', runId);

  const pglite = await openPgliteStorage();
  await migrate(pglite);
  const dump = await pglite.db.dumpDataDir('gzip');
  const templatePath = join(tmpdir(), `leadrelay-pglite-template-${runId}.tgz`);
  writeFileSync(templatePath, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
  project.provide('pgliteTemplatePath', templatePath);

  const adminUrl = process.env.TEST_DATABASE_URL;
  const templateName = `leadrelay_tpl_${runId}`;
  project.provide('postgresTemplateName', adminUrl ? templateName : '');
  if (adminUrl) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${templateName}`);
    const storage = openPostgresStorage({
      connectionString: databaseUrlFor(adminUrl, templateName),
      poolMax: 1,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 60_000,
    });
    await migrate(storage);
    await storage.close();
    await admin.end();
  }

  return async () => {
    rmSync(templatePath, { force: true });
    if (!adminUrl || process.env.KEEP_TEST_DATABASES) return;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1 or datname = $2`,
      [`leadrelay_t_${runId}_%`, templateName],
    );
    for (const { datname } of rows) {
      await admin.query(`drop database if exists ${datname} with (force)`);
    }
    await admin.end();
  };
}
