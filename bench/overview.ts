import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createBenchDatabase } from './lib/database.js';

/**
 * `npm run bench:overview [-- --leads 1000000]`
 *
 * How long the dashboard's overview (admin_overview, one call per refresh) takes on a
 * big table. Creates its own database next to DATABASE_URL's (default the local
 * `test`), fills it with --leads leads, then times the call in two shapes of history:
 *   year:   the leads spread evenly over 365 days (the 14-day window holds ~1/26 of them)
 *   recent: every lead inside the 14-day window (the worst case: the window is the table)
 * with 24 h of delivery attempts (3 channels, one attempt per lead of the last day).
 * Rows are written with generate_series, not capture_lead: the timing is of the read.
 * Prints the median and the slowest of 15 calls after 3 warm-ups, then drops the database.
 */
const { values: args } = parseArgs({ options: { leads: { type: 'string', default: '1000000' } } });
const leads = Number(args.leads);
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (message: string) => process.stderr.write(`[overview bench] ${message}\n`);

async function main() {
  const db = await createBenchDatabase(baseUrl);
  try {
    for (const [shape, spanDays] of [
      ['year', 365],
      ['recent', 14],
    ] as const) {
      log(`${shape}: writing ${leads} leads over ${spanDays} days`);
      await db.pool.query('truncate conversations, lead_events, notification_logs restart identity cascade');
      const fill = performance.now();
      for (let start = 0; start < leads; start += 100_000) {
        const count = Math.min(100_000, leads - start);
        await db.pool.query(
          `insert into conversations (customer_name, customer_email, intent, source, status,
                                      created_at, sla_due_at, first_response_at, sla_breached)
           select 'Bench ' || g, 'bench' || g || '@example.com',
                  (array['buy', 'rent', 'sell', 'invest', 'other', null])[1 + g % 6],
                  (array['chatbot', 'contact_form', 'google', 'facebook'])[1 + g % 4],
                  case when g % 3 = 0 then 'new' else 'contacted' end,
                  t.created, t.created + interval '5 minutes',
                  case when g % 3 = 0 then null else t.created + (g % 11) * interval '1 minute' end,
                  g % 3 = 0
             from generate_series($1::bigint, $2::bigint) g,
                  -- A scattered but deterministic spread over the span (random() in a
                  -- lateral subquery would be evaluated once for every row).
                  lateral (select now() - ((g * 7919) % $4)::float8 / $4 * $3::float8 * interval '1 day'
                                  as created) t`,
          [start + 1, start + count, spanDays, leads],
        );
      }
      const { rows } = await db.pool.query<{ id: string }>(
        `insert into lead_events (event_type, conversation_id, processed, outcome)
         select 'lead.created', id, true, 'delivered' from conversations
          where created_at >= now() - interval '1 day' returning id`,
      );
      await db.pool.query(
        `insert into notification_logs (event_id, channel, status, attempt, duration_ms, created_at)
         select e.id, ch, case when e.id % 50 = 0 then 'failed' else 'sent' end, 1,
                50 + (e.id % 400), now() - random() * interval '24 hours'
           from lead_events e, unnest(array['slack', 'email', 'telegram']) ch`,
      );
      await db.pool.query('vacuum analyze conversations');
      await db.pool.query('vacuum analyze notification_logs');
      log(
        `${shape}: filled in ${((performance.now() - fill) / 1000).toFixed(0)} s (${rows.length} events in 24 h)`,
      );

      const times: number[] = [];
      for (let i = 0; i < 18; i++) {
        const began = performance.now();
        await db.pool.query('select admin_overview()');
        if (i >= 3) times.push(performance.now() - began);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      const window = await db.pool.query<{ n: string }>(
        `select count(*) as n from conversations where created_at >= date_trunc('day', now()) - interval '13 days'`,
      );
      process.stdout.write(
        `admin_overview, ${leads} leads (${shape}: ${window.rows[0]!.n} in the 14-day window): ` +
          `median ${median.toFixed(1)} ms, slowest ${times.at(-1)!.toFixed(1)} ms of ${times.length} calls\n`,
      );
    }
  } finally {
    await db.drop();
  }
}

await main();
