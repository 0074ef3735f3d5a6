import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from './stats.js';

/**
 * Child processes under test (the API, notification workers, graphile-worker
 * runners), each started with an explicit environment (nothing inherited but PATH
 * and HOME, so a developer's .env cannot change the numbers), with its memory read
 * from /proc: VmRSS now and VmHWM, the peak resident set since it started.
 */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  /** Resident memory in MB: now, and the peak so far. */
  memory(): { rssMb: number; peakMb: number };
  /** Last lines the process wrote to stderr (and stdout, when captured). */
  tail(): string;
  /** Resolves when a stdout line contains `text`. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { captureStdout?: boolean } = {},
): BenchProcess {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      for (const waiter of [...waiters]) {
        if (line.includes(waiter.text)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    }
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    name,
    child,
    memory: () => readMemory(child.pid),
    tail: () => lines.join('\n'),
    waitForOutput(text, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name}: no "${text}" within ${timeoutMs} ms\n${lines.join('\n')}`)),
          timeoutMs,
        );
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ text, resolve: done });
        void exit.then(() => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${child.exitCode})\n${lines.join('\n')}`));
        });
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(15_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exit;
      }
    },
  };
}

function readMemory(pid: number | undefined): { rssMb: number; peakMb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: Number.NaN, peakMb: Number.NaN };
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
