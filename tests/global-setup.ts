import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/storage/migrator.js';
import { openPgliteStorage } from '../src/storage/pglite-storage.js';
import { openPostgresStorage } from '../src/storage/postgres-storage.js';
import { databaseUrlFor } from './helpers/database-url.js';
import { TEST_PII, TEST_SECRETS } from './helpers/secrets.js';

/**
 * Tokens issued at random during the run, found by their shape: conversation tokens
 * (lrc_…, issue 14) and the conversation stream tokens (expiry.view.signature).
 */
const TOKEN_SHAPES = /lrc_[\w-]{43}|\b\d{13}\.\d{1,19}\.[\w-]{43}\b/;

/** Searches every log line captured during the run for known secrets and raw PII. */
function findLeaks(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const needles = [...Object.values(TEST_SECRETS), ...TEST_PII];
  const leaks: string[] = [];
  let lines = 0;
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      lines++;
      const found = needles.find((needle) => line.includes(needle)) ?? TOKEN_SHAPES.exec(line)?.[0];
      if (found) leaks.push(`  ${found.slice(0, 12)}… in: ${line.slice(0, 300)}`);
    }
  }
  process.stdout.write(
    `log audit: ${lines} log lines searched for ${needles.length} secrets and contact details and for token shapes, ${leaks.length} leaks\n`,
  );
  return leaks.slice(0, 20);
}

/**
 * Migrates each database kind once per run into a template; every test file then
 * starts from a copy (PGlite: a data-dir tarball; Postgres: CREATE DATABASE ... TEMPLATE).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    testRunId: string;
    pgliteTemplatePath: string;
    postgresTemplateName: string;
    runLogDir: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString('hex');
  project.provide('testRunId', runId);
  const runLogDir = join(tmpdir(), `leadrelay-test-logs-${runId}`);
  project.provide('runLogDir', runLogDir);

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
    const leaks = findLeaks(runLogDir);
    rmSync(runLogDir, { recursive: true, force: true });
    if (leaks.length > 0) {
      process.stderr.write(
        `Secrets or unmasked contact details found in the test run's logs:\n${leaks.join('\n')}\n`,
      );
      // A teardown error alone does not fail the run; the exit code does.
      process.exitCode = 1;
    }
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
