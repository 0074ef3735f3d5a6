import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { truncateLeadTables } from '../lib/database.js';
import { BENCH_ADMIN_KEY, startApi } from '../lib/leadrelay.js';
import { openSse, type SseConnection } from '../lib/sse.js';
import { fmt, percentile, sleep, waitFor } from '../lib/stats.js';

/**
 * Conversations (issue 14, item 9), against `node dist/src/server.js` on Postgres:
 *
 * 1. History: `convHistory` messages bulk-inserted into chat_messages, 1,000 per
 *    conversation (triggers off, then VACUUM ANALYZE, as in the scale section).
 * 2. Live: `convConversations` chatbot leads (POST /api/chatbot/leads, so each has its
 *    token), one visitor stream per conversation and one admin stream. Each
 *    conversation exchanges two messages a second for `convSeconds`: a visitor message
 *    (POST /api/chatbot/conversations/:id/messages) and, half a second later, an agent
 *    reply (POST /api/admin/leads/:id/messages), sent on schedule without waiting for
 *    answers. After a first second of warm-up (not measured), on the harness's one clock: from the visitor's 201 to the admin
 *    stream's message.created for that message id, and from the agent's 201 to the
 *    visitor stream's message.created for that reply. An event that arrives before
 *    the harness has read the 201 counts as 0 ms (NOTIFY and the answer both follow
 *    the commit).
 * 3. Fetch: the latest 50 messages of a history conversation (1,000 messages each,
 *    `convHistory` in the table), GET /api/admin/leads/:id/messages, sequentially,
 *    random conversations; also chat_admin_messages() alone on one connection.
 */
export interface ConversationResult {
  exchanged: number;
  visitorToAdmin: number[];
  agentToVisitor: number[];
  failures: number;
  missing: number;
  fetchHttp: number[];
  fetchSql: number[];
  historyRows: number;
}

/** Each history conversation holds this many messages (so convHistory / 1,000 conversations). */
const PER_CONVERSATION = 1000;

async function fillHistory(ctx: BenchContext, messages: number): Promise<string[]> {
  const conversations = Math.max(1, Math.floor(messages / PER_CONVERSATION));
  const client = await ctx.db.pool.connect();
  try {
    await client.query("set session_replication_role = 'replica'");
    await client.query(
      `insert into conversations (id, created_at, updated_at, customer_name, customer_email, intent, source,
                                  status, sla_due_at)
       select gen_random_uuid(), now() - interval '2 days', now(), 'Chat history ' || g,
              'chat' || g || '@example.com', 'buy', 'chatbot', 'contacted', now()
         from generate_series(1, $1::int) g`,
      [conversations],
    );
    // Round-robin over the conversations, in chunks so no transaction holds a million rows.
    const chunk = 100_000;
    for (let start = 0; start < messages; start += chunk) {
      await client.query(
        `with c as (select id, row_number() over (order by id) - 1 as n from conversations
                     where customer_name like 'Chat history %')
         insert into chat_messages (conversation_id, role, sender_name, body, created_at, read_at, read_by)
         select c.id, r.role, case when r.role = 'agent' then 'Bench Agent' end,
                'History message ' || g || ': ' || repeat('lorem ipsum ', 1 + g % 8),
                now() - make_interval(secs => ($2::int - g)),
                case when r.role = 'visitor' then now() end, case when r.role = 'visitor' then 'bench' end
           from generate_series($1::int + 1, least($1::int + $3::int, $2::int)) g
           join c on c.n = g % $4::int
          cross join lateral (select (array['visitor', 'bot', 'agent'])[1 + g % 3] as role) r`,
        [start, messages, chunk, conversations],
      );
    }
  } finally {
    await client.query("set session_replication_role = 'origin'").catch(() => {});
    client.release();
  }
  await ctx.db.pool.query('vacuum analyze conversations, chat_messages');
  return ctx.db.pool
    .query<{ id: string }>(
      `select id::text from conversations where customer_name like 'Chat history %' order by id`,
    )
    .then((r) => r.rows.map((row) => row.id));
}

const fetchCount = (ctx: BenchContext) => (ctx.quick ? 50 : 300);

interface Chat {
  id: string;
  token: string;
  stream?: SseConnection;
}

export async function measureConversations(ctx: BenchContext): Promise<ConversationResult> {
  const { convConversations: n, convSeconds: seconds, convHistory: history } = ctx.sizes;
  const fetches = fetchCount(ctx);
  await truncateLeadTables(ctx.db.pool);
  await ctx.db.pool.query('truncate chat_messages restart identity cascade');
  ctx.log(`conversations: filling ${history.toLocaleString('en-US')} history messages`);
  const historyIds = await fillHistory(ctx, history);
  const { rows: counted } = await ctx.db.pool.query<{ n: number }>(
    'select count(*)::int as n from chat_messages',
  );
  const historyRows = counted[0]!.n;

  const api = await startApi(ctx, {
    RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE: '1000000',
    RATE_LIMIT_CHAT_READS_PER_MINUTE: '1000000',
    RATE_LIMIT_ADMIN_PER_MINUTE: '1000000',
    // Follow-up alerts are the worker's business; none runs here.
    MESSAGE_ALERT_COOLDOWN_SECONDS: '120',
  });
  const admin = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
  const streams: SseConnection[] = [];
  const visitorSent = new Map<string, number>();
  const agentSent = new Map<string, number>();
  const seenByAdmin = new Map<string, number>();
  const seenByVisitor = new Map<string, number>();
  const warmup = new Set<string>();
  let failures = 0;
  try {
    ctx.log(`conversations: ${n} conversations, two messages a second each for ${seconds} s`);
    const chats: Chat[] = [];
    for (let i = 0; i < n; i++) {
      const response = await fetch(`${api.url}/api/chatbot/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerName: `Bench Chat ${i}`,
          customerEmail: `bench-chat-${i}@example.com`,
          transcript: [{ role: 'visitor', text: 'Hello, I saw the flat on your site.' }],
        }),
      });
      const body = (await response.json()) as { id: string; conversationToken?: string };
      if (response.status !== 201 || !body.conversationToken) {
        throw new Error(`capture answered ${response.status} ${JSON.stringify(body)}`);
      }
      chats.push({ id: body.id, token: body.conversationToken });
    }

    const adminToken = (await (
      await fetch(`${api.url}/api/admin/stream-token`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { token: string };
    streams.push(
      await openSse(
        `${api.url}/api/admin/stream?token=${encodeURIComponent(adminToken.token)}`,
        {},
        (event) => {
          if (event.type !== 'message') return;
          const data = JSON.parse(event.data) as { kind: string; messageId?: string; role?: string };
          if (data.kind === 'message.created' && data.role === 'visitor' && data.messageId) {
            if (!seenByAdmin.has(data.messageId)) seenByAdmin.set(data.messageId, event.at);
          }
        },
      ),
    );
    for (const chat of chats) {
      chat.stream = await openSse(
        `${api.url}/api/chatbot/conversations/${chat.id}/stream`,
        { authorization: `Bearer ${chat.token}` },
        (event) => {
          if (event.type !== 'message') return;
          const data = JSON.parse(event.data) as { kind: string; message?: { id: string } };
          if (data.kind === 'message.created' && data.message) {
            if (!seenByVisitor.has(data.message.id)) seenByVisitor.set(data.message.id, event.at);
          }
        },
      );
      streams.push(chat.stream);
    }

    const visitorSays = async (chat: Chat, k: number) => {
      try {
        const response = await fetch(`${api.url}/api/chatbot/conversations/${chat.id}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${chat.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ text: `Visitor message ${k}: is the parking included?` }),
        });
        const at = performance.now();
        const body = (await response.json()) as { id?: string };
        if (response.status === 201 && body.id) {
          visitorSent.set(body.id, at);
          if (k < 2 * n) warmup.add(body.id);
        } else failures++;
      } catch {
        failures++;
      }
    };
    const agentSays = async (chat: Chat, k: number) => {
      try {
        const response = await fetch(`${api.url}/api/admin/leads/${chat.id}/messages`, {
          method: 'POST',
          headers: { ...admin, 'content-type': 'application/json' },
          body: JSON.stringify({ text: `Agent reply ${k}: yes, one space in the garage.` }),
        });
        const at = performance.now();
        const body = (await response.json()) as { message?: { id: string } };
        if (response.status === 201 && body.message) {
          agentSent.set(body.message.id, at);
          if (k < 2 * n) warmup.add(body.message.id);
        } else failures++;
      } catch {
        failures++;
      }
    };

    // 2·n messages a second: slot k goes to conversation k mod n, visitor in the first
    // half of each second, agent in the second.
    const total = 2 * n * seconds;
    const inflight: Promise<void>[] = [];
    const begin = performance.now();
    for (let k = 0; k < total; k++) {
      const due = begin + (k * 1000) / (2 * n);
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const chat = chats[k % n]!;
      inflight.push(Math.floor(k / n) % 2 === 0 ? visitorSays(chat, k) : agentSays(chat, k));
    }
    await Promise.all(inflight);
    await waitFor(
      () =>
        [...visitorSent.keys()].every((id) => seenByAdmin.has(id)) &&
        [...agentSent.keys()].every((id) => seenByVisitor.has(id)),
      10_000,
      20,
    );
    // The first second warms up (JIT, the API's pool opening connections): not measured.
    const latencies = (sent: Map<string, number>, seen: Map<string, number>) => {
      const out: number[] = [];
      for (const [id, at] of sent) {
        if (warmup.has(id)) continue;
        const arrived = seen.get(id);
        if (arrived !== undefined) out.push(Math.max(0, arrived - at));
      }
      return out;
    };
    const visitorToAdmin = latencies(visitorSent, seenByAdmin);
    const agentToVisitor = latencies(agentSent, seenByVisitor);
    const unseen = (sent: Map<string, number>, seen: Map<string, number>) =>
      [...sent.keys()].filter((id) => !seen.has(id)).length;
    const missing = unseen(visitorSent, seenByAdmin) + unseen(agentSent, seenByVisitor);
    for (const stream of streams) stream.close();
    streams.length = 0;

    ctx.log(`conversations: latest 50 of ${fetches} random history conversations`);
    const fetchHttp: number[] = [];
    for (let i = 0; i < fetches + 10; i++) {
      const id = historyIds[Math.floor(Math.random() * historyIds.length)]!;
      const start = performance.now();
      const response = await fetch(`${api.url}/api/admin/leads/${id}/messages?limit=50`, { headers: admin });
      const page = (await response.json()) as { items?: unknown[] };
      const took = performance.now() - start;
      if (response.status !== 200 || page.items?.length !== 50) {
        throw new Error(`latest-50 fetch answered ${response.status} with ${page.items?.length} items`);
      }
      if (i >= 10) fetchHttp.push(took);
    }
    const fetchSql: number[] = [];
    const client = await ctx.db.pool.connect();
    try {
      for (let i = 0; i < fetches + 10; i++) {
        const id = historyIds[Math.floor(Math.random() * historyIds.length)]!;
        const start = performance.now();
        await client.query('select chat_admin_messages(p_conversation_id => $1, p_limit => 50)', [id]);
        if (i >= 10) fetchSql.push(performance.now() - start);
      }
    } finally {
      client.release();
    }
    return {
      exchanged: total,
      visitorToAdmin,
      agentToVisitor,
      failures,
      missing,
      fetchHttp,
      fetchSql,
      historyRows,
    };
  } finally {
    for (const stream of streams) stream.close();
    await api.stop();
  }
}

export function conversationRows(ctx: BenchContext, r: ConversationResult) {
  const { convConversations: n, convSeconds: seconds } = ctx.sizes;
  ctx.commands.set(
    'conversations',
    `${n} conversations × 2 messages/s (visitor POST, agent POST half a second later) for ${seconds} s (the first second not measured) into node dist/src/server.js, ${n} visitor SSE streams + 1 admin SSE stream in the harness; time from the harness reading the 201 to the stream event with that message id (bench/sections/conversations.ts)`,
  );
  ctx.commands.set(
    'conversations-fetch',
    `GET /api/admin/leads/<id>/messages?limit=50 (latest page), ${fetchCount(ctx)} sequential requests (after 10 warm-up) over random conversations of ${PER_CONVERSATION.toLocaleString('en-US')} messages each, ${r.historyRows.toLocaleString('en-US')} rows in chat_messages; SQL: chat_admin_messages() alone on one connection`,
  );
  const latency = (metric: string, samples: number[]) => {
    ctx.rows.push({
      section: 'Conversations',
      metric: `${metric}, p50 / p99 (ms)`,
      value: `${fmt(percentile(samples, 50))} / ${fmt(percentile(samples, 99))}`,
      target: 'p99 ≤ 100 ms',
      met: samples.length > 0 && percentile(samples, 99) <= 100,
      how: ['conversations'],
    });
  };
  latency("visitor's 201 → admin stream event", r.visitorToAdmin);
  latency("agent's 201 → visitor stream event", r.agentToVisitor);
  ctx.rows.push({
    section: 'Conversations',
    metric: `latest 50 messages, ${r.historyRows.toLocaleString('en-US')} in the table: HTTP p50 / p99 (ms)`,
    value: `${fmt(percentile(r.fetchHttp, 50))} / ${fmt(percentile(r.fetchHttp, 99))}`,
    reference: `SQL ${fmt(percentile(r.fetchSql, 50))} / ${fmt(percentile(r.fetchSql, 99))}`,
    target: 'p99 ≤ 20 ms',
    met: percentile(r.fetchHttp, 99) <= 20,
    how: ['conversations-fetch'],
  });
  ctx.notes.push(
    `Conversations: ${r.exchanged} messages sent, ${r.failures} failed, ${r.missing} accepted but never seen on a stream; ${r.visitorToAdmin.length} + ${r.agentToVisitor.length} latencies measured.`,
  );
}
