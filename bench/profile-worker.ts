import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchDatabase, preloadLeads } from './lib/database.js';
import { startWorkers } from './lib/leadrelay.js';
import { startReceivers } from './lib/receivers.js';
import { waitFor } from './lib/stats.js';

/**
 * `npx tsx bench/profile-worker.ts [--events 20000] [--concurrency 32]`
 *
 * Where a notification worker spends its CPU: the drain section's set-up (N preloaded
 * leads, all three channels to the local receivers) with one worker process under
 * `--cpu-prof`, then the profile's self time summed per function and per file. The
 * profile itself stays in bench/out/profile/ for Chrome DevTools.
 */
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    top: { type: 'string', default: '40' },
  },
});
const events = Number(args.events);
const root = join(import.meta.dirname, '..');
const distDir = join(root, 'node_modules', '.cache', 'leadrelay-bench', 'dist');
const profileDir = join(root, 'bench', 'out', 'profile', String(Date.now()));
mkdirSync(profileDir, { recursive: true });
execFileSync(process.execPath, [
  join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  '-p',
  join(root, 'tsconfig.build.json'),
  '--outDir',
  distDir,
]);

const db = await createBenchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
const receivers = await startReceivers();
try {
  // Time spent in each SQL function, for the database's share of the cost.
  await db.pool.query(`alter database ${db.name} set track_functions = 'all'`);
  await preloadLeads(db.pool, events);
  await db.pool.query('select pg_stat_reset()');
  const ctx = {
    db,
    receivers,
    distDir,
    log: (m: string) => process.stderr.write(`${m}\n`),
  } as unknown as Parameters<typeof startWorkers>[0];
  const [worker] = await startWorkers(ctx, 1, { WORKER_CONCURRENCY: args.concurrency }, [
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
  ]);
  const started = performance.now();
  await waitFor(() => receivers.total() >= events * 3, 600_000, 20);
  const seconds = (receivers.lastAt - receivers.firstAt) / 1000;
  const memory = worker!.memory();
  const cpuSeconds = processCpuSeconds(worker!.child.pid!);
  await worker!.stop();
  // CPU per event holds up on a busy machine, where events/s does not.
  process.stdout.write(
    `${events} events in ${seconds.toFixed(1)} s = ${(events / seconds).toFixed(0)} events/s ` +
      `(wall ${((performance.now() - started) / 1000).toFixed(1)} s); worker CPU ${cpuSeconds.toFixed(1)} s = ` +
      `${((1000 * cpuSeconds) / events).toFixed(2)} ms per event; RSS ${memory.rssMb.toFixed(0)} / peak ${memory.peakMb.toFixed(0)} MB\n`,
  );
  summarise(profileDir, Number(args.top));
  await printFunctionTimes(events);
} finally {
  await receivers.close();
  await db.drop();
}

async function printFunctionTimes(events: number) {
  // Statistics reach the views within a second or so of each backend's transaction end.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await db.pool.query<{ funcname: string; calls: number; total: number; self: number }>(
    `select funcname, calls::int, total_time as total, self_time as self
       from pg_stat_user_functions order by total_time desc limit 12`,
  );
  process.stdout.write('\nSQL functions (ms in total, ms per event)\n');
  for (const row of rows) {
    process.stdout.write(
      `${row.funcname.padEnd(36)} calls ${String(row.calls).padStart(7)}  total ${row.total.toFixed(0).padStart(7)} ms  ` +
        `self ${row.self.toFixed(0).padStart(7)} ms  ${(row.total / events).toFixed(3)} ms/event\n`,
    );
  }
}

/** utime + stime of a process from /proc (clock ticks of 1/100 s on Linux). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function summarise(dir: string, top: number) {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
  };
  const hits = new Map<number, number>();
  for (const sample of profile.samples) hits.set(sample, (hits.get(sample) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    const where = url.replace(/.*node_modules\//, 'nm/');
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${where}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + count);
    const pkg = where.startsWith('nm/')
      ? where
          .split('/')
          .slice(0, where.startsWith('nm/@') ? 3 : 2)
          .join('/')
      : where || node.callFrame.functionName;
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + count);
  }
  const print = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title} (share of ${total} samples)\n`);
    for (const [name, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * count) / total).toFixed(1).padStart(5)}%  ${name}\n`);
    }
  };
  print('self time by file or package', byFile);
  print('self time by function', byFunction);
  process.stdout.write(`\nprofile: ${join(dir, file)}\n`);
}
