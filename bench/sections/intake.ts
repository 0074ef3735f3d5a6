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
    return { apiRate: full.rate };
  } finally {
    await api.stop();
  }
}
