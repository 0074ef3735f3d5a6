import autocannon from 'autocannon';
import type { BenchContext } from '../lib/context.js';
import { truncateLeadTables } from '../lib/database.js';
import { startApi } from '../lib/leadrelay.js';
import { fmt } from '../lib/stats.js';

/**
 * Intake: POST /api/chatbot/leads with 64 connections and a unique lead per request,
 * first as fast as it goes (the maximum rate), then at half that rate (the latency a
 * loaded but not saturated API gives). Load comes from autocannon in the harness
 * process; the API is its own process, so its peak RSS is its own.
 *
 * Team variant (issue 12): the same maximum-rate load with assignment and returning-lead
 * detection off (ASSIGNMENT_STRATEGY=none, DUPLICATE_WINDOW_DAYS=0) and on (round robin
 * over 4 active members, 30-day window), alternated off/on/off/on in the same run so
 * drift on a shared machine hits both alike; the target is on ≥ 0.9 × off.
 */
export const INTAKE_CONNECTIONS = 64;

let sequence = 0;
/** A different lead every request: name, phone and email all unique. */
function uniqueLead(): string {
  const n = ++sequence;
  return JSON.stringify({
    customerName: `Bench Lead ${n}`,
    customerPhone: `+9715${String(50_000_000 + (n % 49_999_999)).padStart(8, '0')}`,
    customerEmail: `bench${n}@example.com`,
    intent: 'buy',
  });
}

async function load(url: string, seconds: number, overallRate?: number) {
  const result = await autocannon({
    url: `${url}/api/chatbot/leads`,
    connections: INTAKE_CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(overallRate ? { overallRate } : {}),
    requests: [{ setupRequest: (request) => ({ ...request, body: uniqueLead() }) }],
  });
  const ok = result['2xx'];
  return {
    rate: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    failed: result.non2xx + result.errors + result.timeouts,
    total: ok,
  };
}

/** Alternating off/on pairs; medians, because a shared 2-core machine swings a lot run to run. */
const TEAM_ROUNDS = 4;
const TEAM_OFF = { ASSIGNMENT_STRATEGY: 'none', DUPLICATE_WINDOW_DAYS: '0' };
const TEAM_ON = { ASSIGNMENT_STRATEGY: 'round_robin', DUPLICATE_WINDOW_DAYS: '30' };

/** Four active agents, no working hours or capacity: every lead is assigned. */
async function seedTeam(ctx: BenchContext) {
  await ctx.db.pool.query('truncate team_members, lead_inquiries, audit_logs restart identity cascade');
  await ctx.db.pool.query(
    `insert into team_members (name, email, role, token_hash, token_hint)
     select 'Bench Agent ' || g, 'agent' || g || '@bench.test', 'agent', md5('bench' || g), 'lrm_bnch'
       from generate_series(1, 4) g`,
  );
}

async function maxRate(ctx: BenchContext, env: Record<string, string>, seconds: number) {
  await truncateLeadTables(ctx.db.pool);
  const api = await startApi(ctx, env);
  try {
    await load(api.url, Math.min(3, seconds));
    return await load(api.url, seconds);
  } finally {
    await api.stop();
  }
}

/** Intake with assignment + returning-lead detection on versus off, alternated in one run. */
async function runTeamVariant(ctx: BenchContext, seconds: number) {
  await seedTeam(ctx);
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < TEAM_ROUNDS; round++) {
    off.push((await maxRate(ctx, TEAM_OFF, seconds)).rate);
    on.push((await maxRate(ctx, TEAM_ON, seconds)).rate);
  }
  const { rows } = await ctx.db.pool.query<{ assigned: number; total: number }>(
    'select count(assignee_id)::int as assigned, count(*)::int as total from conversations',
  );
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const ratio = median(on) / median(off);
  ctx.commands.set(
    'intake-team',
    `as intake, ${TEAM_ROUNDS} times each alternating: ASSIGNMENT_STRATEGY=none DUPLICATE_WINDOW_DAYS=0, then ASSIGNMENT_STRATEGY=round_robin DUPLICATE_WINDOW_DAYS=30 with 4 active team members (${seconds} s each after a 3 s warm-up)`,
  );
  ctx.values.set('intake.teamRatio', ratio);
  ctx.rows.push({
    section: 'Intake',
    metric: `leads/s with assignment + returning leads on / off (runs: on ${on.map(fmt).join(', ')}; off ${off.map(fmt).join(', ')})`,
    value: `median ${fmt(median(on))} / ${fmt(median(off))} = ${ratio.toFixed(2)}×`,
    target: '≥ 0.9×',
    met: ratio >= 0.9,
    how: ['intake-team'],
  });
  ctx.notes.push(
    `Team variant: the last "on" run assigned ${rows[0]!.assigned.toLocaleString('en-US')} of ${rows[0]!.total.toLocaleString('en-US')} leads.`,
  );
  await ctx.db.pool.query('truncate team_members, lead_inquiries, audit_logs restart identity cascade');
}

export async function runIntake(ctx: BenchContext): Promise<{ apiRate: number }> {
  const seconds = ctx.sizes.intakeSeconds;
  await truncateLeadTables(ctx.db.pool);
  const api = await startApi(ctx);
  try {
    ctx.log(`intake: warm-up, then ${seconds} s at full speed and ${seconds} s at half rate`);
    await load(api.url, Math.min(3, seconds));
    const full = await load(api.url, seconds);
    const half = await load(api.url, seconds, Math.max(1, Math.floor(full.rate / 2)));
    const memory = api.memory();
    const { rows } = await ctx.db.pool.query<{ n: number }>('select count(*)::int as n from conversations');

    const cmd = `autocannon -c ${INTAKE_CONNECTIONS} -d ${seconds} -m POST (unique JSON lead per request; bench/sections/intake.ts) against node dist/src/server.js (DATABASE_POOL_MAX 10, LOG_LEVEL info)`;
    ctx.commands.set('intake', cmd);
    ctx.commands.set(
      'intake-half',
      `${cmd}, with --overallRate ${Math.floor(full.rate / 2)} (half the maximum)`,
    );
    ctx.values.set('intake.rate', full.rate);
    ctx.values.set('intake.peakRssMb', memory.peakMb);
    ctx.values.set('intake.rssMb', memory.rssMb);
    ctx.rows.push(
      { section: 'Intake', metric: 'leads/s, 64 connections (max)', value: fmt(full.rate), how: ['intake'] },
      {
        section: 'Intake',
        metric: 'p50 / p99 latency at max rate (ms)',
        value: `${fmt(full.p50)} / ${fmt(full.p99)}`,
        how: ['intake'],
      },
      {
        section: 'Intake',
        metric: `p50 / p99 latency at half rate, ${fmt(half.rate)}/s (ms)`,
        value: `${fmt(half.p50)} / ${fmt(half.p99)}`,
        target: 'p99 ≤ 25 ms',
        met: half.p99 <= 25,
        how: ['intake-half'],
      },
    );
    const failed = full.failed + half.failed;
    ctx.notes.push(
      `Intake stored ${rows[0]!.n.toLocaleString('en-US')} leads; ${failed} requests were not answered 2xx.`,
    );
  } finally {
    await api.stop();
  }
  await runTeamVariant(ctx, Math.max(2, Math.round(seconds / 2)));
  return { apiRate: ctx.values.get('intake.rate') ?? 0 };
}
