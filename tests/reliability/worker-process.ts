import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { SqlStorage } from '../../src/storage/storage.js';
import { runLogFile } from '../helpers/logs.js';

/**
 * A notification worker as its own process (`node --import tsx workers/notification-worker.ts`,
 * what `npm run worker` runs), for the reliability tests that kill it or cut its database.
 * Its log output goes to the run's log file, so the end-of-run audit searches it for secrets.
 */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  output: string[];
  exited: Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'workers/notification-worker.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const file = runLogFile();
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(...text.split('\n').filter(Boolean));
    appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, pid: child.pid ?? -1, output, exited };
}

/** The worker's id once it has written its first heartbeat (it is up), else undefined. */
export async function workerIdOf(storage: SqlStorage, worker: WorkerProcess): Promise<string | undefined> {
  const rows = await storage.query<{ id: string }>(
    'select id from worker_heartbeats where pid = $1 order by started_at desc limit 1',
    [worker.pid],
  );
  return rows[0]?.id;
}

/** Small seeded PRNG (mulberry32), so a failing run's fault schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Conversation ids named in the lead links of what a receiver accepted. */
export function leadIdsIn(texts: string[]): string[] {
  return texts.map((text) => /#\/leads\/([0-9a-f-]{36})/.exec(text)?.[1] ?? 'unknown');
}
