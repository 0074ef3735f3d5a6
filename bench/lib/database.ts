import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/storage/migrator.js';
import { openPostgresStorage } from '../../src/storage/postgres-storage.js';

/**
 * The benchmark's own database: created next to DATABASE_URL's database (which is
 * only used to run CREATE/DROP DATABASE, never touched otherwise), migrated with
 * leadrelay's migrator, dropped at the end.
 */
export interface BenchDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export async function createBenchDatabase(baseUrl: string): Promise<BenchDatabase> {
  const name = `leadrelay_bench_${randomBytes(4).toString('hex')}`;
  await adminQuery(baseUrl, `create database ${name}`);
  const url = withDatabase(baseUrl, name);
  const storage = openPostgresStorage({
    connectionString: url,
    poolMax: 2,
    connectTimeoutMs: 5_000,
    queryTimeoutMs: 600_000,
  });
  try {
    await migrate(storage);
  } finally {
    await storage.close();
  }
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'leadrelay-bench' });
  pool.on('error', () => {});
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end().catch(() => {});
      await adminQuery(baseUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function adminQuery(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Empties every leadrelay table (between runs, so each starts from the same state). */
export async function truncateLeadTables(pool: pg.Pool) {
  await pool.query(
    `truncate conversations, lead_events, conversation_timeline, follow_up_tasks, notification_logs,
              worker_heartbeats restart identity cascade`,
  );
}

/**
 * n leads through capture_lead (so each has its lead.created event, timeline entry,
 * follow-up task and NOTIFY), in chunks of 5,000 per transaction, then VACUUM ANALYZE
 * so the workers start with fresh statistics.
 */
export async function preloadLeads(pool: pg.Pool, n: number) {
  for (let start = 0; start < n; start += 5_000) {
    const count = Math.min(5_000, n - start);
    await pool.query(
      `select count(capture_lead(jsonb_build_object(
                'customerName', 'Preload ' || g,
                'customerPhone', '+9715' || lpad(g::text, 8, '0'),
                'customerEmail', 'preload' || g || '@example.com',
                'intent', 'buy'), null, null, 5))
         from generate_series($1::int, $2::int) g`,
      [start + 1, start + count],
    );
  }
  await pool.query('vacuum analyze conversations, lead_events, conversation_timeline, follow_up_tasks');
}

/** Connection parameters for libpq tools (pgbench) from a postgres:// URL. */
export function libpqArgs(url: string): { args: string[]; dbname: string; env: Record<string, string> } {
  const parsed = new URL(url);
  const args = ['-h', parsed.hostname || '127.0.0.1', '-p', parsed.port || '5432'];
  if (parsed.username) args.push('-U', decodeURIComponent(parsed.username));
  const dbname = decodeURIComponent(parsed.pathname.slice(1));
  const env: Record<string, string> = {};
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  return { args, dbname, env };
}
