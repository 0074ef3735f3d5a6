import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { type BenchProcess, freePort, startProcess } from './processes.js';
import { channelEnv } from './receivers.js';
import { waitFor } from './stats.js';

/** The admin key is required outside embedded mode; the benchmark never calls admin routes. */
export const BENCH_ADMIN_KEY = 'bench-admin-key-not-a-secret-0123456789';

/** Settings every process under test shares. LOG_LEVEL info as in production. */
function baseEnv(ctx: BenchContext): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: ctx.db.url,
    ADMIN_API_KEY: BENCH_ADMIN_KEY,
    LOG_LEVEL: 'info',
    // The V8 setting production uses (render.yaml, npm start): a 4 MB young generation
    // keeps peak RSS under load ~60 MB lower at the same throughput. The peer gets it too.
    NODE_OPTIONS: '--max-semi-space-size=4',
  };
}

export interface ApiProcess extends BenchProcess {
  url: string;
}

/**
 * The API as production runs it (`node dist/src/server.js`), with the per-IP lead
 * limit lifted (every request comes from 127.0.0.1) and stdout (pino) sent nowhere.
 */
export async function startApi(ctx: BenchContext, env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort();
  const api = startProcess('api', process.execPath, [join(ctx.distDir, 'src', 'server.js')], {
    ...baseEnv(ctx),
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_LEADS_PER_MINUTE: '1000000',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  const up = await waitFor(
    async () => {
      try {
        return (await fetch(`${url}/health`)).ok;
      } catch {
        return false;
      }
    },
    30_000,
    100,
  );
  if (!up) {
    await api.stop();
    throw new Error(`API did not become healthy\n${api.tail()}`);
  }
  return Object.assign(api, { url });
}

/**
 * Provider pacing off: the receivers take any rate and graphile-worker paces nothing,
 * so the drain and end-to-end sections compare the pipelines themselves. The paced
 * case (bench/sections/paced-digest.ts) turns Slack's pacing on.
 */
export const UNPACED_ENV: Record<string, string> = {
  SLACK_RATE_PER_MINUTE: '0',
  TELEGRAM_RATE_PER_MINUTE: '0',
  EMAIL_RATE_PER_MINUTE: '0',
};

/** n notification worker processes (`node dist/workers/notification-worker.js`), all channels on. */
export async function startWorkers(
  ctx: BenchContext,
  n: number,
  env: Record<string, string> = {},
  /** Node flags NODE_OPTIONS refuses (e.g. --cpu-prof, for bench/profile-worker.ts). */
  nodeArgs: string[] = [],
): Promise<BenchProcess[]> {
  const workers = Array.from({ length: n }, (_, i) =>
    startProcess(
      `worker-${i + 1}`,
      process.execPath,
      [...nodeArgs, join(ctx.distDir, 'workers', 'notification-worker.js')],
      {
        ...baseEnv(ctx),
        ...channelEnv(ctx.receivers),
        ...UNPACED_ENV,
        ...env,
      },
    ),
  );
  // A worker writes its heartbeat row, then LISTENs, then claims: n live rows = n ready.
  const ready = await waitFor(async () => {
    const { rows } = await ctx.db.pool.query<{ n: number }>(
      'select count(*)::int as n from worker_heartbeats where stopped_at is null',
    );
    return rows[0]!.n >= n;
  }, 30_000);
  if (!ready) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw new Error(`workers did not start\n${workers.map((w) => w.tail()).join('\n')}`);
  }
  return workers;
}

export interface GraphileSettings {
  concurrency: number;
  /** graphile-worker's localQueue.size (-1: off). */
  localQueueSize: number;
  /** completeJobBatchDelay in ms (-1: off). */
  completeBatchDelayMs: number;
}

export function describeGraphile(settings: GraphileSettings): string {
  const parts = [`concurrency ${settings.concurrency}`];
  if (settings.localQueueSize > 0) parts.push(`localQueue ${settings.localQueueSize}`);
  if (settings.completeBatchDelayMs >= 0)
    parts.push(`completeJobBatchDelay ${settings.completeBatchDelayMs}`);
  return parts.join(', ');
}

/** n graphile-worker runner processes (bench/peer/graphile-worker-process.ts). */
export async function startGraphileWorkers(
  ctx: BenchContext,
  n: number,
  settings: GraphileSettings,
): Promise<BenchProcess[]> {
  const entry = join(import.meta.dirname, '..', 'peer', 'graphile-worker-process.ts');
  const workers = Array.from({ length: n }, (_, i) =>
    startProcess(
      `graphile-${i + 1}`,
      process.execPath,
      ['--import', 'tsx', entry],
      {
        ...baseEnv(ctx),
        ...channelEnv(ctx.receivers),
        GRAPHILE_CONCURRENCY: String(settings.concurrency),
        GRAPHILE_LOCAL_QUEUE_SIZE: String(settings.localQueueSize),
        GRAPHILE_COMPLETE_BATCH_DELAY_MS: String(settings.completeBatchDelayMs),
      },
      { captureStdout: true },
    ),
  );
  try {
    await Promise.all(workers.map((worker) => worker.waitForOutput('graphile-worker ready', 60_000)));
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  }
  return workers;
}
