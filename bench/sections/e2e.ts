import { performance } from 'node:perf_hooks';
import type { BenchContext } from '../lib/context.js';
import { truncateLeadTables } from '../lib/database.js';
import { startApi } from '../lib/leadrelay.js';
import type { BenchProcess } from '../lib/processes.js';
import { percentile, sleep, waitFor } from '../lib/stats.js';

/**
 * End-to-end latency: a steady rate of unique leads into the running API (one every
 * 1000/rate ms, not waiting for answers), and for each lead the time from the moment
 * the harness has the API's 201 to the moment the Slack receiver (same process, same
 * clock) gets that lead's post. The worker side is whatever `startWorkers` starts.
 */
export interface LatencyResult {
  sent: number;
  measured: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export async function endToEnd(
  ctx: BenchContext,
  label: string,
  startWorkers: () => Promise<BenchProcess[]>,
): Promise<LatencyResult> {
  const { e2eRate: rate, e2eSeconds: seconds } = ctx.sizes;
  ctx.log(`end-to-end: ${label}, ${rate} leads/s for ${seconds} s`);
  await truncateLeadTables(ctx.db.pool);
  const api = await startApi(ctx);
  const workers = await startWorkers();
  ctx.receivers.reset();
  const accepted = new Map<string, number>();
  const inflight: Promise<void>[] = [];
  let failures = 0;
  try {
    const total = rate * seconds;
    const begin = performance.now();
    for (let i = 0; i < total; i++) {
      const due = begin + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(
        (async () => {
          try {
            const response = await fetch(`${api.url}/api/chatbot/leads`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                customerName: `E2E Lead ${label} ${i}`,
                customerPhone: `+9715${String(60_000_000 + i).padStart(8, '0')}`,
                customerEmail: `e2e${i}@example.com`,
                intent: 'buy',
              }),
            });
            const at = performance.now();
            const body = (await response.json()) as { id?: string };
            if (response.status === 201 && body.id) accepted.set(body.id, at);
            else failures++;
          } catch {
            failures++;
          }
        })(),
      );
    }
    await Promise.all(inflight);
    await waitFor(() => ctx.receivers.slackArrivals.size >= accepted.size, 30_000, 20);
    const latencies: number[] = [];
    for (const [id, at] of accepted) {
      const arrived = ctx.receivers.slackArrivals.get(id);
      if (arrived !== undefined) latencies.push(arrived - at);
    }
    if (failures > 0) ctx.notes.push(`End-to-end (${label}): ${failures} requests failed.`);
    return {
      sent: total,
      measured: latencies.length,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: Math.max(...latencies),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await api.stop();
  }
}
