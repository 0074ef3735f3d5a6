import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type BenchContext, FULL_SIZES, QUICK_SIZES } from './lib/context.js';
import { createBenchDatabase } from './lib/database.js';
import {
  describeGraphile,
  type GraphileSettings,
  startGraphileWorkers,
  startWorkers,
} from './lib/leadrelay.js';
import { startReceivers } from './lib/receivers.js';
import { describeMachine, renderTable, writeResults } from './lib/report.js';
import { fmt } from './lib/stats.js';
import { disableGraphileEnqueue, enableGraphileEnqueue } from './peer/graphile-setup.js';
import { bulkRows, measureBulk } from './sections/bulk.js';
import { conversationRows, measureConversations } from './sections/conversations.js';
import { type DrainResult, drainGraphile, drainLeadrelay, drainRows } from './sections/drain.js';
import { endToEnd, type LatencyResult } from './sections/e2e.js';
import { runIntake } from './sections/intake.js';
import { pacedDigest, pacedDigestRows } from './sections/paced-digest.js';
import { PGBENCH_SCRIPT, runPgbench } from './sections/pgbench.js';
import { measureScale, scaleRows } from './sections/scale.js';

/**
 * `npm run bench [-- --quick] [-- --out file] [-- --only intake,drain,...]`
 *
 * Creates its own database next to DATABASE_URL's (default the local `test`), runs
 * every section against it, prints one table, writes bench/RESULTS.md (quick mode:
 * bench/out/RESULTS-quick.md) and drops the database.
 */
const SECTIONS = ['intake', 'drain', 'e2e', 'peer', 'paced', 'scale', 'conversations', 'bulk'] as const;
type Section = (typeof SECTIONS)[number];

const root = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = args.quick || process.env.BENCH_QUICK === '1';
const only = new Set((args.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()) as Section[]);
const outDir = join(root, 'bench', 'out');
const outFile = args.out ?? (quick ? join(outDir, 'RESULTS-quick.md') : join(root, 'bench', 'RESULTS.md'));
const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const started = performance.now();
const loadAtStart = loadavg();
const log = (message: string) =>
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`,
  );

// The benchmark runs its own build of the API and worker, so it never races a
// developer's `dist/` and always measures the code in the working tree.
mkdirSync(outDir, { recursive: true });
// Outside bench/ so linters never see the compiled copy.
const distDir = join(root, 'node_modules', '.cache', 'leadrelay-bench', 'dist');
log('building the API and worker into node_modules/.cache/leadrelay-bench/dist');
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    distDir,
  ],
  {
    stdio: 'inherit',
  },
);

const db = await createBenchDatabase(baseUrl);
log(`database ${db.name} created and migrated`);
const receivers = await startReceivers();
// BENCH_DRAIN_EVENTS and BENCH_WORKERS (e.g. "1,4") shrink a run while investigating;
// RESULTS.md states the sizes used.
const sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
if (process.env.BENCH_DRAIN_EVENTS) sizes.drainEvents = Number(process.env.BENCH_DRAIN_EVENTS);
if (process.env.BENCH_WORKERS) sizes.workerCounts = process.env.BENCH_WORKERS.split(',').map(Number);
// BENCH_CONV_SECONDS and BENCH_CONV_HISTORY shrink the conversations section the same way.
if (process.env.BENCH_CONV_SECONDS) sizes.convSeconds = Number(process.env.BENCH_CONV_SECONDS);
if (process.env.BENCH_CONV_HISTORY) sizes.convHistory = Number(process.env.BENCH_CONV_HISTORY);
const ctx: BenchContext = {
  quick,
  sizes,
  db,
  receivers,
  distDir,
  rows: [],
  commands: new Map(),
  notes: [],
  values: new Map(),
  log,
};

/** A section that throws leaves a FAILED row and the run goes on. */
async function section(name: string, work: () => Promise<void>) {
  try {
    await work();
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`${name} FAILED: ${error instanceof Error ? error.stack : message}`);
    ctx.rows.push({ section: name, metric: 'FAILED', value: message.replaceAll('|', '/'), how: [] });
  }
}

const GRAPHILE_CONFIGS: GraphileSettings[] = [
  { concurrency: 10, localQueueSize: -1, completeBatchDelayMs: -1 },
  { concurrency: 10, localQueueSize: 20, completeBatchDelayMs: 0 },
];

let interrupted = false;
const cleanup = async () => {
  await receivers.close().catch(() => {});
  await db.drop().catch((error) => log(`could not drop ${db.name}: ${error}`));
};
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: dropping the bench database');
  void cleanup().then(() => process.exit(130));
});

const ours: DrainResult[] = [];
const peer: { settings: GraphileSettings; results: DrainResult[] }[] = [];
let ourLatency: LatencyResult | undefined;
let peerLatency: LatencyResult | undefined;
try {
  if (only.has('intake')) {
    await section('Intake', async () => {
      const { apiRate } = await runIntake(ctx);
      await runPgbench(ctx, outDir, apiRate);
    });
  }
  if (only.has('drain')) {
    await section('Drain', async () => {
      for (const workers of ctx.sizes.workerCounts) ours.push(await drainLeadrelay(ctx, workers));
    });
  }
  if (only.has('e2e')) {
    await section('End-to-end', async () => {
      ourLatency = await endToEnd(ctx, 'leadrelay', () => startWorkers(ctx, 1));
    });
  }
  if (only.has('peer')) {
    await section('Peer', async () => {
      await enableGraphileEnqueue(db.pool, db.url);
      try {
        // Quick mode: only the batched configuration, to stay within CI's time.
        for (const settings of quick ? GRAPHILE_CONFIGS.slice(1) : GRAPHILE_CONFIGS) {
          const results = [];
          for (const workers of ctx.sizes.workerCounts)
            results.push(await drainGraphile(ctx, workers, settings));
          peer.push({ settings, results });
        }
        const latencySettings = GRAPHILE_CONFIGS[0]!;
        peerLatency = await endToEnd(ctx, 'graphile-worker', () =>
          startGraphileWorkers(ctx, 1, latencySettings),
        );
        ctx.commands.set(
          'e2e-peer',
          `the same load with the lead's graphile-worker job committed in its transaction; 1 × graphile-worker-process.ts (${describeGraphile(latencySettings)}, LISTEN wake-up)`,
        );
        const peerMemory = peer.flatMap((p) => p.results).filter((r) => r.workers === 1);
        if (peerMemory.length > 0) {
          ctx.rows.push({
            section: 'Memory',
            metric: 'graphile-worker process RSS after drain, 1 process (MB, now / peak)',
            value: '',
            reference: `${fmt(peerMemory[0]!.rssMb)} / ${fmt(peerMemory[0]!.peakRssMb)}`,
            how: ['drain-peer', 'rss'],
          });
        }
      } finally {
        await disableGraphileEnqueue(db.pool);
      }
    });
  }
  if (ours.length > 0) drainRows(ctx, ours, peer);
  if (ourLatency || peerLatency) latencyRows(ourLatency, peerLatency);
  if (only.has('paced')) {
    await section('Paced digest', async () => pacedDigestRows(ctx, await pacedDigest(ctx)));
  }
  if (only.has('scale')) {
    await section('Scale', async () => {
      const [small, large] = ctx.sizes.scaleRows;
      const a = await measureScale(ctx, small);
      const b = await measureScale(ctx, large);
      scaleRows(ctx, a, b);
    });
  }
  if (only.has('conversations')) {
    await section('Conversations', async () => conversationRows(ctx, await measureConversations(ctx)));
  }
  if (only.has('bulk')) {
    await section('Bulk actions', async () => bulkRows(ctx, await measureBulk(ctx)));
  }
  memoryRows();

  const machine = await describeMachine(ctx);
  const invocation = `npm run bench${quick ? ' -- --quick' : ''}`;
  writeResults(ctx, machine, outFile, {
    invocation,
    pgbenchScript: PGBENCH_SCRIPT,
    durationS: (performance.now() - started) / 1000,
    load: `${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end (1, 5, 15 min)`,
  });
  const { table, commands } = renderTable(ctx);
  process.stdout.write(
    `\n${machine.cores} cores, ${machine.memoryGb} GiB, Node ${machine.node}, ${machine.postgres}\n\n${table}\n\n${commands}\n\nWritten to ${outFile}\n`,
  );
} finally {
  await cleanup();
}

function latencyRows(ours: LatencyResult | undefined, peer: LatencyResult | undefined) {
  const { e2eRate, e2eSeconds } = ctx.sizes;
  ctx.commands.set(
    'e2e',
    `${e2eRate} leads/s for ${e2eSeconds} s (fetch, unique leads) into node dist/src/server.js + 1 × notification worker; time from the harness getting the 201 to the Slack receiver getting that lead's post (bench/sections/e2e.ts)`,
  );
  const pair = (name: string, a: number | undefined, b: number | undefined) => {
    const r = a === undefined || b === undefined ? Number.NaN : a / b;
    ctx.rows.push({
      section: 'End-to-end',
      metric: `${name} latency, 201 → Slack post (ms)`,
      value: a === undefined ? 'n/a' : fmt(a),
      reference: b === undefined ? 'n/a' : fmt(b),
      ratio: Number.isFinite(r) ? `${fmt(r)}×` : undefined,
      ...(name === 'p99' ? { target: '≤ graphile-worker (≤ 1.0×)', met: r <= 1 } : {}),
      how: ['e2e', 'e2e-peer'],
    });
  };
  pair('p50', ours?.p50, peer?.p50);
  pair('p95', ours?.p95, peer?.p95);
  pair('p99', ours?.p99, peer?.p99);
  pair('max', ours?.max, peer?.max);
  ctx.notes.push(
    `End-to-end: leadrelay measured ${ours?.measured ?? 0} of ${ours?.sent ?? 0} leads, graphile-worker ${peer?.measured ?? 0} of ${peer?.sent ?? 0}.`,
  );
}

function memoryRows() {
  ctx.commands.set('rss', 'VmRSS (now) and VmHWM (peak) from /proc/<pid>/status of the process under test');
  const apiRss = ctx.values.get('intake.rssMb');
  if (apiRss !== undefined) {
    ctx.rows.push({
      section: 'Memory',
      metric: 'API RSS after intake (MB, now / peak)',
      value: `${fmt(apiRss)} / ${fmt(ctx.values.get('intake.peakRssMb') ?? Number.NaN)}`,
      target: 'peak ≤ 150 MB',
      met: (ctx.values.get('intake.peakRssMb') ?? Number.POSITIVE_INFINITY) <= 150,
      how: ['intake', 'rss'],
    });
  }
  for (const result of ours) {
    ctx.rows.push({
      section: 'Memory',
      metric: `worker RSS after drain, ${result.workers} process${result.workers > 1 ? 'es' : ''} (MB, largest, now / peak)`,
      value: `${fmt(result.rssMb)} / ${fmt(result.peakRssMb)}`,
      how: ['drain', 'rss'],
    });
  }
}
