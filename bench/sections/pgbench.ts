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
 * The physical reference for intake: pgbench running the API's own SQL directly, with
 * the same 64 clients and a unique lead per call (pgbench's random() per transaction),
 * prepared statements: capture_lead, then announce_lead_created after it commits (the
 * post-commit wake-up, see announce_lead_created in the foundation migration). What the API adds on top (HTTP,
 * validation, JSON, the pool) is the gap between the two.
 */
export const PGBENCH_SCRIPT = `\\set n random(1, 2000000000)
select capture_lead(jsonb_build_object('customerName', 'Pgbench Lead ' || :n, 'customerPhone', '+9715' || lpad((:n % 100000000)::text, 8, '0'), 'customerEmail', 'pgbench' || :n || '@example.com', 'intent', 'buy'), null, null, 5) as r \\gset
select announce_lead_created((:r::jsonb ->> 'eventId')::bigint, (:r::jsonb ->> 'id')::uuid);
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
