import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { preloadLeads, truncateLeadTables } from '../lib/database.js';
import { startWorkers } from '../lib/leadrelay.js';
import { fmt, waitFor } from '../lib/stats.js';

/**
 * Paced digest: N leads preloaded, one worker with Slack's default pacing (60/min, burst
 * 5, digests above 5 waiting), against a Slack stand-in that takes one post per second
 * and answers 429 with Retry-After: 1 to the rest, as Slack's incoming webhooks do.
 * Telegram and email stay unpaced (their receivers take any rate). Measured: how many
 * Slack messages carried the N leads, how many posts were refused, and the time from
 * the first Slack message to the last lead reaching Slack.
 */
export interface PacedDigestResult {
  leads: number;
  leadsOnSlack: number;
  messages: number;
  refused: number;
  secondsToLastLead: number;
  dead: number;
}

/** Digest size cap (src/outbox/channel-queues.ts DIGEST_MAX) and the default burst. */
const DIGEST_MAX = 25;
const SLACK_BURST = 5;

export async function pacedDigest(ctx: BenchContext): Promise<PacedDigestResult> {
  const leads = ctx.sizes.pacedLeads;
  ctx.log(`paced digest: ${leads} leads, Slack stand-in at 1 post/s`);
  const slack = await startPacedSlack(1_000);
  await truncateLeadTables(ctx.db.pool);
  await preloadLeads(ctx.db.pool, leads);
  ctx.receivers.reset();
  const workers = await startWorkers(ctx, 1, {
    SLACK_WEBHOOK_URL: slack.url,
    SLACK_RATE_PER_MINUTE: '60',
    SLACK_BURST: String(SLACK_BURST),
  });
  try {
    await waitFor(() => slack.leads.size >= leads, ctx.quick ? 60_000 : 300_000, 50);
    await waitFor(async () => {
      const { rows } = await ctx.db.pool.query<{ n: number }>(
        'select count(*)::int as n from lead_events where processed = false',
      );
      return rows[0]!.n === 0;
    }, 30_000);
    const { rows } = await ctx.db.pool.query<{ n: number }>(
      `select count(*)::int as n from lead_events where outcome = 'dead'`,
    );
    const arrivals = [...slack.leads.values()];
    return {
      leads,
      leadsOnSlack: slack.leads.size,
      messages: slack.accepted,
      refused: slack.refused,
      secondsToLastLead: (Math.max(...arrivals) - slack.firstAt) / 1000,
      dead: rows[0]!.n,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    await slack.close();
  }
}

export function pacedDigestRows(ctx: BenchContext, result: PacedDigestResult) {
  ctx.commands.set(
    'paced',
    `preload ${result.leads} leads, 1 × notification worker with SLACK_RATE_PER_MINUTE 60, SLACK_BURST ${SLACK_BURST}, DIGEST_THRESHOLD 5 against a Slack stand-in taking 1 post/s (429 + Retry-After: 1 otherwise); telegram and email unpaced (bench/sections/paced-digest.ts)`,
  );
  const bound = Math.ceil(result.leads / DIGEST_MAX) + SLACK_BURST;
  ctx.rows.push({
    section: 'Paced digest',
    metric: `Slack messages carrying ${result.leads} leads (refused with 429)`,
    value: `${result.messages} (${result.refused})`,
    target: `≤ ${bound} = ⌈N/${DIGEST_MAX}⌉ + burst`,
    met: result.messages <= bound && result.leadsOnSlack === result.leads,
    how: ['paced'],
  });
  ctx.rows.push({
    section: 'Paced digest',
    metric: 'first Slack message → last lead on Slack (s); dead events',
    value: `${fmt(result.secondsToLastLead)}; ${result.dead}`,
    target: '0 dead',
    met: result.dead === 0,
    how: ['paced'],
  });
}

interface PacedSlack {
  url: string;
  accepted: number;
  refused: number;
  firstAt: number;
  /** lead id -> when the message carrying it was accepted. */
  leads: Map<string, number>;
  close(): Promise<void>;
}

const LEAD_IDS = /#\/leads\/([0-9a-f-]{36})/g;

async function startPacedSlack(intervalMs: number): Promise<PacedSlack> {
  let lastAccepted = Number.NEGATIVE_INFINITY;
  const slack: PacedSlack = {
    url: '',
    accepted: 0,
    refused: 0,
    firstAt: 0,
    leads: new Map(),
    close: () => closeHttp(server),
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const now = performance.now();
      if (now - lastAccepted < intervalMs) {
        slack.refused++;
        response.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' });
        response.end('rate_limited');
        return;
      }
      lastAccepted = now;
      if (slack.accepted++ === 0) slack.firstAt = now;
      for (const match of Buffer.concat(chunks).toString('utf8').matchAll(LEAD_IDS)) {
        if (!slack.leads.has(match[1]!)) slack.leads.set(match[1]!, now);
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  slack.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/TBENCH/BPACED/pacedWebhookPath`;
  return slack;
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
