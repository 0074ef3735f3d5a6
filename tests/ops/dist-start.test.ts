import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY } from '../helpers/app.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../helpers/databases.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The compiled build runs without a TypeScript runtime: `node dist/src/server.js` on
 * the embedded database answers /health, serves /metrics on METRICS_PORT, drains a
 * lead through the in-process worker and stops on SIGTERM within its grace. On
 * Postgres, `leadrelay api` and `leadrelay worker` run as the blueprint starts them.
 * CI builds first (`npm run build`); locally the build is refreshed when stale.
 */
const root = join(import.meta.dirname, '..', '..');
const GRACE_MS = 5_000;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'src', 'cli', 'leadrelay.js')).mtimeMs;
  } catch {}
  const sources = Math.max(newestMtime(join(root, 'src')), newestMtime(join(root, 'workers')));
  if (built < sources) {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: root });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

function start(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, args, {
    cwd: root,
    // A clean environment: nothing of the test runner's (DATABASE_URL, REDIS_URL) leaks in.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: tmpdir(),
      ADMIN_API_KEY: TEST_ADMIN_KEY,
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, output: () => output, exited };
}

async function stop(running: Running): Promise<{ code: number | null; ms: number }> {
  const sent = Date.now();
  running.child.kill('SIGTERM');
  const { code, at } = await running.exited;
  return { code, ms: at - sent };
}

const metricValue = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

const lead = { customerName: 'Dist Person', customerEmail: 'dist@example.com', intent: 'buy' };

beforeAll(() => ensureBuilt(), 120_000);

describe('node dist/src/server.js on the embedded database', () => {
  let dataDir: string;
  let api: Running | undefined;

  afterAll(() => {
    api?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, answers /health, exposes metrics on METRICS_PORT, drains a lead and stops on SIGTERM', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-dist-'));
    const port = await freePort();
    const metricsPort = await freePort();
    api = start(['dist/src/server.js'], {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATA_DIR: dataDir,
      API_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      WORKER_SHUTDOWN_GRACE_MS: '1000',
      WORKER_POLL_INTERVAL_MS: '200',
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health`)).ok, {
      timeoutMs: 60_000,
      message: `/health (output: ${api.output()})`,
    });
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    // With METRICS_PORT, /metrics lives only there.
    expect(
      (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } })).status,
    ).toBe(404);
    const docs = await fetch(`${base}/docs/json`);
    expect(docs.status).toBe(200);

    const created = await fetch(`${base}/api/chatbot/leads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(lead),
    });
    expect(created.status).toBe(201);

    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const drained = await waitFor(
      async () => {
        const text = await (await fetch(metricsUrl)).text();
        return metricValue(text, 'leadrelay_outbox_depth') === 0 ? text : undefined;
      },
      { timeoutMs: 20_000, message: 'the in-process worker to drain the outbox' },
    );
    expect(drained).toMatch(/leadrelay_leads_accepted_total\{source="chatbot",kind="new"\} 1/);
    expect(drained).toContain('leadrelay_http_request_duration_seconds_bucket');
    expect(metricValue(drained, 'leadrelay_ops_snapshot_up')).toBe(1);

    const stopped = await stop(api);
    expect(stopped.code, api.output()).toBe(0);
    expect(stopped.ms).toBeLessThan(GRACE_MS + 1_000);
    expect(api.output()).toContain('Shutting down');
  }, 90_000);
});

describe.runIf(hasPostgres)(
  'leadrelay api + leadrelay worker on Postgres (as render.yaml starts them)',
  () => {
    let db: TestDatabase;
    const running: Running[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('postgres', { poolMax: 2 });
    });
    afterAll(async () => {
      for (const r of running) r.child.kill('SIGKILL');
      await db?.close();
    });

    it('the worker serves its own metrics, beats, and both stop gracefully on SIGTERM', async () => {
      const port = await freePort();
      const workerMetrics = await freePort();
      const common = { DATABASE_URL: db.url!, API_SHUTDOWN_GRACE_MS: String(GRACE_MS) };
      const api = start(['dist/src/cli/leadrelay.js', 'api'], { ...common, PORT: String(port) });
      const worker = start(['dist/src/cli/leadrelay.js', 'worker'], {
        ...common,
        METRICS_PORT: String(workerMetrics),
        WORKER_SHUTDOWN_GRACE_MS: '1000',
        WORKER_POLL_INTERVAL_MS: '200',
      });
      running.push(api, worker);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, {
        timeoutMs: 30_000,
        message: `API ready (output: ${api.output()})`,
      });
      const created = await fetch(`${base}/api/contact`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Pg Person', email: 'pg@example.com', message: 'Hello' }),
      });
      expect(created.status).toBe(201);
      const text = await waitFor(
        async () => {
          const body = await (await fetch(`http://127.0.0.1:${workerMetrics}/metrics`)).text();
          return metricValue(body, 'leadrelay_outbox_depth') === 0 &&
            /leadrelay_workers\{state="live"\} 1/.test(body)
            ? body
            : undefined;
        },
        { timeoutMs: 30_000, message: `worker to drain the outbox (output: ${worker.output()})` },
      );
      expect(text).toContain('# TYPE leadrelay_notifications_total counter');

      const [apiStop, workerStop] = await Promise.all([stop(api), stop(worker)]);
      expect(apiStop.code, api.output()).toBe(0);
      expect(workerStop.code, worker.output()).toBe(0);
      expect(apiStop.ms).toBeLessThan(GRACE_MS + 1_000);
    }, 90_000);
  },
);
