/**
 * The database-side cost of assignment + returning-lead detection, isolated from HTTP
 * and the load generator: capture_lead from 16 concurrent connections, in
 * alternating blocks with the features off (assignment none, window 0) and on (round
 * robin over 4 members, 30-day window), every lead unique. Usage (a throwaway database):
 *   npx tsx bench/team-capture-cost.ts postgres://postgres@127.0.0.1:5432/postgres
 */
import pg from 'pg';
import { migrate } from '../src/storage/migrator.js';
import { openPostgresStorage } from '../src/storage/postgres-storage.js';

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BLOCK = 640;
const CONCURRENCY = 16;
const ROUNDS = 6;
const name = `leadrelay_team_cost_${process.pid}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
try {
  const storage = openPostgresStorage({
    connectionString: url.toString(),
    poolMax: CONCURRENCY,
    connectTimeoutMs: 3000,
    queryTimeoutMs: 30_000,
  });
  await migrate(storage);
  await storage.query(
    `insert into team_members (name, email, role, token_hash, token_hint)
     select 'Agent ' || g, 'a' || g || '@bench.test', 'agent', md5('t' || g), 'lrm_x' from generate_series(1, 4) g`,
  );
  let n = 0;
  const capture = (options: Record<string, unknown>) => {
    n += 1;
    return storage.call('capture_lead', {
      p_lead: {
        customerName: `Cost ${n}`,
        customerEmail: `cost${n}@example.com`,
        customerPhone: `+9715${String(10_000_000 + n)}`,
        source: 'chatbot',
        metadata: {},
      },
      p_idempotency_key: null,
      p_fingerprint: null,
      p_sla_minutes: 5,
      p_options: options,
    });
  };
  // CONCURRENCY callers at once, like the API's pool under load (group commit applies).
  const block = async (options: Record<string, unknown>) => {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < BLOCK / CONCURRENCY; i++) await capture(options);
      }),
    );
    return (BLOCK / (performance.now() - started)) * 1000;
  };
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    off.push(await block({ assignment: 'none', duplicateWindowDays: 0 }));
    on.push(await block({ assignment: 'round_robin', duplicateWindowDays: 30 }));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log(
    JSON.stringify({
      block: BLOCK,
      off: off.map(Math.round),
      on: on.map(Math.round),
      ratio: +(median(on) / median(off)).toFixed(3),
    }),
  );
  await storage.close();
} finally {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
