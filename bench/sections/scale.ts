import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { truncateLeadTables } from '../lib/database.js';
import { fmt, median } from '../lib/stats.js';

/**
 * Scale: does the cost of the hot queries grow with history? With n rows in
 * conversations and lead_events (all but a fixed backlog already processed, each with
 * its three notification_logs rows), time
 *   - one claim of a batch of 10 (claim_lead_events, rolled back so every repeat sees
 *     the same backlog),
 *   - the admin leads list (admin_list_leads, 50 a page): page 1 and page 100 (its
 *     keyset cursor found by walking 99 pages first).
 * The history is bulk-inserted with triggers off (session_replication_role = replica);
 * then VACUUM ANALYZE, as autovacuum would have done on a real database.
 */
export interface ScaleResult {
  rows: number;
  claimMs: number;
  firstPageMs: number;
  hundredthPageMs: number;
}

async function fill(ctx: BenchContext, rows: number) {
  const pending = ctx.sizes.scalePending;
  const client = await ctx.db.pool.connect();
  try {
    await client.query("set session_replication_role = 'replica'");
    await client.query(
      `insert into conversations (id, created_at, updated_at, customer_name, customer_phone, customer_email,
                                  intent, source, status, sla_due_at)
       select gen_random_uuid(), t, t, 'History ' || g, '+9715' || lpad(g::text, 8, '0'),
              'history' || g || '@example.com', 'buy', 'chatbot',
              (array['new','contacted','qualified','won','lost'])[1 + g % 5], t + interval '5 minutes'
         from generate_series(1, $1::int) g,
              lateral (select now() - make_interval(secs => ($1::int - g) * 2)) as x(t)`,
      [rows],
    );
    await client.query(
      `insert into lead_events (event_type, conversation_id, payload, processed, outcome, attempts,
                                next_attempt_at, processed_at, created_at)
       select 'lead.created', c.id,
              jsonb_build_object('conversationId', c.id, 'customerName', c.customer_name,
                                 'customerPhone', c.customer_phone, 'customerEmail', c.customer_email,
                                 'intent', c.intent, 'source', c.source, 'createdAt', c.created_at),
              not pend, case when pend then null else 'delivered' end, case when pend then 0 else 1 end,
              c.created_at, case when pend then null else c.created_at end, c.created_at
         from (select c.*, row_number() over (order by c.created_at desc) <= $1 as pend
                 from conversations c) c
        order by c.created_at`,
      [pending],
    );
    await client.query(
      `insert into notification_logs (event_id, channel, status, attempt, provider_status, duration_ms, created_at)
       select e.id, ch, 'sent', 1, 200, 5, e.processed_at
         from lead_events e, unnest(array['slack','email','telegram']) ch
        where e.processed`,
    );
  } finally {
    await client.query("set session_replication_role = 'origin'").catch(() => {});
    client.release();
  }
  await ctx.db.pool.query('vacuum analyze conversations, lead_events, notification_logs');
}

async function timeIt(repeats: number, work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeats + 3; i++) {
    const start = performance.now();
    await work();
    if (i >= 3) samples.push(performance.now() - start);
  }
  return median(samples);
}

interface Cursor {
  createdAt: string;
  id: string;
}

export async function measureScale(ctx: BenchContext, rows: number): Promise<ScaleResult> {
  ctx.log(`scale: filling ${rows.toLocaleString('en-US')} rows`);
  await truncateLeadTables(ctx.db.pool);
  await fill(ctx, rows);
  const client = await ctx.db.pool.connect();
  const repeats = ctx.sizes.scaleRepeats;
  try {
    const claimSamples: number[] = [];
    for (let i = 0; i < repeats + 3; i++) {
      await client.query('begin');
      const start = performance.now();
      await client.query(
        'select claim_lead_events(p_worker_id => $1, p_batch_size => 10, p_lease_seconds => 60)',
        ['bench-scale'],
      );
      if (i >= 3) claimSamples.push(performance.now() - start);
      await client.query('rollback');
    }
    const page = async (cursor?: Cursor) => {
      const { rows: result } = await client.query<{ result: { items: unknown[]; next: Cursor | null } }>(
        'select admin_list_leads(p_after_created_at => $1, p_after_id => $2, p_limit => 50) as result',
        [cursor?.createdAt ?? null, cursor?.id ?? null],
      );
      return result[0]!.result;
    };
    const firstPageMs = await timeIt(repeats, () => page());
    let cursor: Cursor | undefined;
    for (let i = 1; i < 100; i++) {
      const next = (await page(cursor)).next;
      if (!next) throw new Error(`admin list ended at page ${i} with ${rows} rows`);
      cursor = next;
    }
    const hundredthPageMs = await timeIt(repeats, () => page(cursor));
    return { rows, claimMs: median(claimSamples), firstPageMs, hundredthPageMs };
  } finally {
    client.release();
  }
}

export function scaleRows(ctx: BenchContext, small: ScaleResult, large: ScaleResult) {
  const label = (n: number) => n.toLocaleString('en-US');
  ctx.commands.set(
    'scale',
    `median of ${ctx.sizes.scaleRepeats} calls on one connection after bulk history + VACUUM ANALYZE; ${ctx.sizes.scalePending} pending events (bench/sections/scale.ts)`,
  );
  const row = (metric: string, a: number, b: number) => {
    const r = b / a;
    ctx.rows.push({
      section: 'Scale',
      metric: `${metric} (ms), ${label(small.rows)} → ${label(large.rows)} rows`,
      value: `${fmt(a)} → ${fmt(b)}`,
      ratio: `${fmt(r)}×`,
      target: '≤ 1.3×',
      met: r <= 1.3,
      how: ['scale'],
    });
  };
  row('claim of one batch of 10', small.claimMs, large.claimMs);
  row('admin leads list, page 1', small.firstPageMs, large.firstPageMs);
  row('admin leads list, page 100', small.hundredthPageMs, large.hundredthPageMs);
}
