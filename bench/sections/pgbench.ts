import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BenchContext } from '../lib/context.js';
import { libpqArgs, truncateLeadTables } from '../lib/database.js';
import { fmt, ratio } from '../lib/stats.js';
import { INTAKE_CONNECTIONS } from './intake.js';

const run = promisify(execFile);

/**
 * The physical reference for intake: pgbench calling capture_lead directly, with the
 * same 64 clients and a unique lead per call (pgbench's random() per transaction),
 * prepared statements. What the API adds on top (HTTP, validation, JSON, the pool) is
 * the gap between the two.
 */
export const PGBENCH_SCRIPT = `\\set n random(1, 2000000000)
select capture_lead(jsonb_build_object('customerName', 'Pgbench Lead ' || :n, 'customerPhone', '+9715' || lpad((:n % 100000000)::text, 8, '0'), 'customerEmail', 'pgbench' || :n || '@example.com', 'intent', 'buy'), null, null, 5);
`;

/**
 * What-if: the same capture with its NOTIFYs sent after the commit, as separate
 * statements. PostgreSQL (up to 16) serialises the commits of transactions that
 * NOTIFY on one global lock held across the WAL flush, so capture_lead's two
 * in-transaction NOTIFYs (the worker wake-up and the admin feed's trigger) cap intake
 * at about one commit per fsync. Bench database only: a copy of capture_lead without
 * its pg_notify, the admin trigger disabled, both notifications sent after commit.
 */
export const PGBENCH_QUIET_SCRIPT = `\\set n random(1, 2000000000)
select bench_capture_lead_quiet(jsonb_build_object('customerName', 'Pgbench Lead ' || :n, 'customerPhone', '+9715' || lpad((:n % 100000000)::text, 8, '0'), 'customerEmail', 'pgbench' || :n || '@example.com', 'intent', 'buy'), null, null, 5) as r \\gset
select pg_notify('lead_events', (:r::jsonb ->> 'eventId')), pg_notify('leadrelay_admin', json_build_object('kind', 'lead.created', 'id', :r::jsonb ->> 'id')::text);
`;

async function pgbench(ctx: BenchContext, script: string) {
  const { args, dbname, env } = libpqArgs(ctx.db.url);
  const { stdout } = await run(
    process.env.PGBENCH ?? 'pgbench',
    [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(INTAKE_CONNECTIONS),
      '-j',
      '2',
      '-T',
      String(ctx.sizes.pgbenchSeconds),
      '-f',
      script,
      ...args,
      dbname,
    ],
    { env: { ...process.env, ...env }, maxBuffer: 1 << 20 },
  );
  return {
    tps: Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? Number.NaN),
    latency: Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN),
  };
}

export async function runQuietPgbench(ctx: BenchContext, outDir: string) {
  await truncateLeadTables(ctx.db.pool);
  const { rows } = await ctx.db.pool.query<{ def: string }>(
    "select pg_get_functiondef('capture_lead(jsonb, text, text, integer)'::regprocedure) as def",
  );
  const quiet = rows[0]!.def
    .replace('public.capture_lead(', 'public.bench_capture_lead_quiet(')
    .replace(/perform pg_notify\('lead_events'[^;]*;/, '');
  await ctx.db.pool.query(quiet);
  await ctx.db.pool.query('alter table conversations disable trigger conversations_admin_notify');
  const script = join(outDir, 'capture_lead_notify_after_commit.pgbench');
  writeFileSync(script, PGBENCH_QUIET_SCRIPT);
  ctx.log('pgbench: what-if, NOTIFY after commit');
  try {
    const { tps, latency } = await pgbench(ctx, script);
    ctx.commands.set(
      'pgbench-quiet',
      `pgbench -n -M prepared -c ${INTAKE_CONNECTIONS} -j 2 -T ${ctx.sizes.pgbenchSeconds} -f bench/out/capture_lead_notify_after_commit.pgbench (capture_lead without its NOTIFY, admin trigger off, both NOTIFYs as a separate statement after commit; bench database only)`,
    );
    ctx.values.set('pgbench.quietTps', tps);
    const base = ctx.values.get('pgbench.tps') ?? Number.NaN;
    ctx.rows.push({
      section: 'Intake',
      metric: 'what-if: same capture, NOTIFYs sent after commit (calls/s)',
      value: '',
      reference: `${fmt(tps)} (avg ${fmt(latency)} ms)`,
      ratio: `${fmt(tps / base)}× today's pgbench`,
      how: ['pgbench-quiet'],
    });
  } finally {
    await ctx.db.pool.query('alter table conversations enable trigger conversations_admin_notify');
    await ctx.db.pool.query('drop function if exists bench_capture_lead_quiet(jsonb, text, text, integer)');
  }
}

export async function runPgbench(ctx: BenchContext, outDir: string, apiRate: number) {
  await truncateLeadTables(ctx.db.pool);
  const script = join(outDir, 'capture_lead.pgbench');
  writeFileSync(script, PGBENCH_SCRIPT);
  const seconds = ctx.sizes.pgbenchSeconds;
  ctx.log(`pgbench: ${seconds} s, ${INTAKE_CONNECTIONS} clients`);
  const { tps, latency } = await pgbench(ctx, script);
  ctx.commands.set(
    'pgbench',
    `pgbench -n -M prepared -c ${INTAKE_CONNECTIONS} -j 2 -T ${seconds} -f bench/out/capture_lead.pgbench <bench db> (script below)`,
  );
  ctx.values.set('pgbench.tps', tps);
  const share = ratio(apiRate, tps);
  ctx.rows.push(
    {
      section: 'Intake',
      metric: 'capture_lead calls/s, pgbench 64 clients',
      value: '',
      reference: `${fmt(tps)} (avg ${fmt(latency)} ms)`,
      how: ['pgbench'],
    },
    {
      section: 'Intake',
      metric: 'API leads/s ÷ pgbench calls/s',
      value: fmt(apiRate),
      reference: fmt(tps),
      ratio: `${fmt(share * 100, 0)}%`,
      target: '≥ 50%',
      met: share >= 0.5,
      how: ['intake', 'pgbench'],
    },
  );
}
