import type { BenchContext } from '../lib/context.js';
import { preloadLeads, truncateLeadTables } from '../lib/database.js';
import {
  describeGraphile,
  type GraphileSettings,
  startGraphileWorkers,
  startWorkers,
} from '../lib/leadrelay.js';
import type { BenchProcess } from '../lib/processes.js';
import { fmt, waitFor } from '../lib/stats.js';
import { pendingGraphileJobs } from '../peer/graphile-setup.js';

/**
 * Drain: preload N lead.created events (through capture_lead), start k worker
 * processes with all three channels pointed at the local receivers, and time from
 * the first notification any receiver gets to the last of the 3·N (Slack, Telegram,
 * email per event). Both systems are timed the same way, by the receivers, so process
 * start-up is left out for both.
 */
export interface DrainResult {
  workers: number;
  eventsPerSecond: number;
  notificationsPerSecond: number;
  seconds: number;
  /** Largest worker process's resident memory after the drain, and its peak. */
  rssMb: number;
  peakRssMb: number;
  complete: boolean;
}

async function drain(
  ctx: BenchContext,
  workers: number,
  start: () => Promise<BenchProcess[]>,
  pending: () => Promise<number>,
): Promise<DrainResult> {
  const events = ctx.sizes.drainEvents;
  await truncateLeadTables(ctx.db.pool);
  await preloadLeads(ctx.db.pool, events);
  ctx.receivers.reset();
  const processes = await start();
  try {
    const expected = events * 3;
    const timeoutMs = ctx.quick ? 60_000 : 600_000;
    const delivered = await waitFor(() => ctx.receivers.total() >= expected, timeoutMs, 20);
    const seconds = (ctx.receivers.lastAt - ctx.receivers.firstAt) / 1000;
    const recorded = await waitFor(async () => (await pending()) === 0, 30_000, 100);
    const memory = processes.map((p) => p.memory());
    const peakRssMb = Math.max(...memory.map((m) => m.peakMb));
    const rssMb = Math.max(...memory.map((m) => m.rssMb));
    return {
      workers,
      seconds,
      eventsPerSecond: ctx.receivers.counts.slack / seconds,
      notificationsPerSecond: ctx.receivers.total() / seconds,
      rssMb,
      peakRssMb,
      complete: delivered && recorded,
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

const pendingLeadEvents = (ctx: BenchContext) => async () => {
  const { rows } = await ctx.db.pool.query<{ n: number }>(
    'select count(*)::int as n from lead_events where processed = false',
  );
  return rows[0]!.n;
};

export async function drainLeadrelay(ctx: BenchContext, workers: number): Promise<DrainResult> {
  ctx.log(`drain: leadrelay, ${workers} worker(s), ${ctx.sizes.drainEvents} events`);
  return drain(ctx, workers, () => startWorkers(ctx, workers), pendingLeadEvents(ctx));
}

export async function drainGraphile(
  ctx: BenchContext,
  workers: number,
  settings: GraphileSettings,
): Promise<DrainResult> {
  ctx.log(`drain: graphile-worker (${describeGraphile(settings)}), ${workers} process(es)`);
  return drain(
    ctx,
    workers,
    () => startGraphileWorkers(ctx, workers, settings),
    () => pendingGraphileJobs(ctx.db.pool),
  );
}

export function drainRows(
  ctx: BenchContext,
  ours: DrainResult[],
  peer: { settings: GraphileSettings; results: DrainResult[] }[],
) {
  const events = ctx.sizes.drainEvents.toLocaleString('en-US');
  ctx.commands.set(
    'drain',
    `preload ${events} leads via capture_lead, then k × node dist/workers/notification-worker.js (WORKER_BATCH_SIZE 10, all channels to local receivers); timed by the receivers (bench/sections/drain.ts)`,
  );
  ctx.commands.set(
    'drain-peer',
    `same ${events} leads, each also enqueuing a graphile-worker job in its transaction; k × node --import tsx bench/peer/graphile-worker-process.ts`,
  );
  const bestPeer = Math.max(...peer.flatMap((p) => p.results.map((r) => r.eventsPerSecond)));
  const bestPeerConfig = peer.find((p) => p.results.some((r) => r.eventsPerSecond === bestPeer));
  const bestPeerRun = bestPeerConfig?.results.find((r) => r.eventsPerSecond === bestPeer);
  for (const result of ours) {
    const peerSame = peer.map((p) => p.results.find((r) => r.workers === result.workers));
    const peerBest = Math.max(...peerSame.map((r) => r?.eventsPerSecond ?? Number.NaN));
    ctx.rows.push({
      section: 'Drain',
      metric: `events/s (notifications/s), ${result.workers} worker process${result.workers > 1 ? 'es' : ''}`,
      value: `${fmt(result.eventsPerSecond)} (${fmt(result.notificationsPerSecond)})${result.complete ? '' : ' INCOMPLETE'}`,
      reference: Number.isFinite(peerBest) ? fmt(peerBest) : undefined,
      ratio: Number.isFinite(peerBest) ? `${fmt(result.eventsPerSecond / peerBest)}×` : undefined,
      how: ['drain', 'drain-peer'],
    });
  }
  const bestOurs = Math.max(...ours.map((r) => r.eventsPerSecond));
  if (peer.length === 0) return;
  const share = bestOurs / bestPeer;
  ctx.values.set('drain.best', bestOurs);
  ctx.values.set('drain.peerBest', bestPeer);
  ctx.rows.push({
    section: 'Drain',
    metric: 'best leadrelay ÷ best graphile-worker (events/s)',
    value: fmt(bestOurs),
    reference: bestPeerConfig
      ? `${fmt(bestPeer)} (${describeGraphile(bestPeerConfig.settings)}, ${bestPeerRun?.workers} proc)`
      : 'n/a',
    ratio: `${fmt(share)}×`,
    target: '≥ 1.5×',
    met: share >= 1.5,
    how: ['drain', 'drain-peer'],
  });
  for (const { settings, results } of peer) {
    ctx.notes.push(
      `graphile-worker drain with ${describeGraphile(settings)}: ${results
        .map(
          (r) => `${r.workers} proc ${fmt(r.eventsPerSecond)} events/s${r.complete ? '' : ' (incomplete)'}`,
        )
        .join(', ')}.`,
    );
  }
}
