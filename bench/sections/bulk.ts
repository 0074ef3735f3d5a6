import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { truncateLeadTables } from '../lib/database.js';
import { BENCH_ADMIN_KEY, startApi, startWorkers } from '../lib/leadrelay.js';
import { fmt, percentile, sleep } from '../lib/stats.js';

/**
 * Bulk actions (issue 15, item 7), against `node dist/src/server.js` and one
 * `node dist/workers/notification-worker.js` (which runs the bulk engine) on Postgres:
 *
 * 1. `BENCH_BULK_LEADS` leads (default 100,000; 5,000 with --quick) inserted with one
 *    SQL statement, then VACUUM ANALYZE.
 * 2. POST /api/admin/bulk-actions set_status (filter: those leads) → 202; timed from the
 *    POST (which takes the snapshot) until GET /api/admin/bulk-actions/:id says completed.
 * 3. POST /api/admin/bulk-actions/:id/undo, timed the same way.
 * 4. Throughout both: the worker's VmRSS every 250 ms (growth = max − before), and
 *    intake latency: one POST /api/chatbot/leads every 100 ms, sequential.
 */
export interface BulkResult {
  leads: number;
  runSeconds: number;
  undoSeconds: number;
  processed: number;
  undone: number;
  rssBeforeMb: number;
  rssMaxMb: number;
  intakeMs: number[];
  intakeFailures: number;
}

const headers = { authorization: `Bearer ${BENCH_ADMIN_KEY}`, 'content-type': 'application/json' };

export async function measureBulk(ctx: BenchContext): Promise<BulkResult> {
  const leads = Number(process.env.BENCH_BULK_LEADS ?? (ctx.quick ? 5_000 : 100_000));
  await truncateLeadTables(ctx.db.pool);
  await ctx.db.pool.query(
    `insert into conversations (customer_name, customer_email, intent, source, status, created_at)
     select 'Bulk bench ' || g, 'bulkbench' || g || '@example.com', 'buy', 'bulk-bench', 'new',
            now() - make_interval(secs => g)
       from generate_series(1, $1::int) g`,
    [leads],
  );
  await ctx.db.pool.query('vacuum analyze conversations');
  const api = await startApi(ctx);
  const [worker] = await startWorkers(ctx, 1);
  const stop = { done: false };
  const rss: number[] = [];
  const intakeMs: number[] = [];
  let intakeFailures = 0;
  try {
    await sleep(1000);
    const rssBeforeMb = worker!.memory().rssMb;
    const sampler = (async () => {
      while (!stop.done) {
        rss.push(worker!.memory().rssMb);
        await sleep(250);
      }
    })();
    const intake = (async () => {
      for (let i = 0; !stop.done; i++) {
        const started = performance.now();
        try {
          const response = await fetch(`${api.url}/api/chatbot/leads`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              customerName: `Bulk intake ${i}`,
              customerEmail: `bulkintake${i}@example.com`,
              intent: 'buy',
            }),
          });
          await response.arrayBuffer();
          if (response.status === 201) intakeMs.push(performance.now() - started);
          else intakeFailures++;
        } catch {
          intakeFailures++;
        }
        await sleep(100);
      }
    })();

    const timed = async (start: () => Promise<Response>) => {
      const began = performance.now();
      const response = await start();
      const body = (await response.json()) as { id?: string };
      if (response.status !== 202 || !body.id) throw new Error(`bulk action refused: ${response.status}`);
      for (;;) {
        const state = (await (
          await fetch(`${api.url}/api/admin/bulk-actions/${body.id}`, { headers })
        ).json()) as { status: string; processed: number; error: string | null };
        if (state.status === 'completed') return { seconds: (performance.now() - began) / 1000, ...state };
        if (state.status === 'failed') throw new Error(`bulk action failed: ${state.error}`);
        if (performance.now() - began > 600_000) throw new Error('bulk action did not finish in 10 minutes');
        await sleep(200);
      }
    };
    ctx.log(`bulk: set_status on ${leads} leads`);
    let actionId = '';
    const run = await timed(async () => {
      const response = await fetch(`${api.url}/api/admin/bulk-actions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          action: 'set_status',
          target: { filter: { source: 'bulk-bench' } },
          params: { status: 'contacted' },
          dryRun: false,
        }),
      });
      const clone = response.clone();
      actionId = ((await clone.json()) as { id: string }).id;
      return response;
    });
    ctx.log(`bulk: undo of ${actionId}`);
    const undo = await timed(() =>
      fetch(`${api.url}/api/admin/bulk-actions/${actionId}/undo`, { method: 'POST', headers, body: '{}' }),
    );
    stop.done = true;
    await Promise.all([sampler, intake]);
    return {
      leads,
      runSeconds: run.seconds,
      undoSeconds: undo.seconds,
      processed: run.processed,
      undone: undo.processed,
      rssBeforeMb,
      rssMaxMb: Math.max(rssBeforeMb, ...rss),
      intakeMs,
      intakeFailures,
    };
  } finally {
    stop.done = true;
    await worker?.stop();
    await api.stop();
  }
}

export function bulkRows(ctx: BenchContext, r: BulkResult): void {
  const scaled = r.leads >= 100_000;
  ctx.commands.set(
    'bulk',
    `bench/sections/bulk.ts: ${r.leads} leads, BULK_BATCH_SIZE 500, 1 worker process; set_status via POST /api/admin/bulk-actions, then its undo; worker VmRSS every 250 ms; one intake POST every 100 ms meanwhile`,
  );
  const section = 'Bulk actions';
  ctx.rows.push(
    {
      section,
      metric: `set_status on ${r.leads.toLocaleString('en')} leads (s)`,
      value: `${fmt(r.runSeconds)} (${r.processed} changed)`,
      target: '≤ 60 s for 100,000',
      met: scaled ? r.runSeconds <= 60 : undefined,
      how: ['bulk'],
    },
    {
      section,
      metric: `its undo (s)`,
      value: `${fmt(r.undoSeconds)} (${r.undone} restored)`,
      target: '≤ 60 s for 100,000',
      met: scaled ? r.undoSeconds <= 60 : undefined,
      how: ['bulk'],
    },
    {
      section,
      metric: 'worker RSS growth during both (MB)',
      value: `${fmt(r.rssMaxMb - r.rssBeforeMb)} (${fmt(r.rssBeforeMb)} → max ${fmt(r.rssMaxMb)})`,
      target: '≤ 50 MB',
      met: r.rssMaxMb - r.rssBeforeMb <= 50,
      how: ['bulk', 'rss'],
    },
    {
      section,
      metric: 'intake latency meanwhile p50 / p99 (ms)',
      value: `${fmt(percentile(r.intakeMs, 50))} / ${fmt(percentile(r.intakeMs, 99))} (${r.intakeMs.length} leads, ${r.intakeFailures} failed)`,
      how: ['bulk'],
    },
  );
}
