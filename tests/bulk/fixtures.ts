import type { FastifyInstance } from 'fastify';
import { type BulkRunner, createBulkRunner } from '../../src/bulk/bulk-runner.js';
import type { BulkAction } from '../../src/bulk/bulk-store.js';
import type { SqlStorage, Storage } from '../../src/storage/storage.js';
import { auth } from '../admin/fixtures.js';
import { testConfig } from '../helpers/app.js';
import { captureLogs } from '../helpers/logs.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Bulk-action test helpers. Leads are inserted with plain SQL (one statement for
 * thousands: the intake path has its own tests); each gets a distinct created_at so
 * the list's order is fixed.
 */
export async function seedLeads(
  storage: SqlStorage,
  count: number,
  options: { source?: string; status?: string; name?: string } = {},
): Promise<string[]> {
  const rows = await storage.query<{ id: string }>(
    `insert into conversations (customer_name, customer_email, source, status, created_at)
     select $2 || ' ' || g, 'bulk' || g || '.' || md5(random()::text) || '@example.com', $3, $4,
            now() - make_interval(secs => g)
       from generate_series(1, $1::int) g
     returning id`,
    [count, options.name ?? 'Bulk Lead', options.source ?? 'bulk-test', options.status ?? 'new'],
  );
  return rows.map((row) => row.id);
}

/** A bulk runner in this process, polling fast, with a batch size of the test's choosing. */
export async function startRunner(
  storage: Storage,
  env: Record<string, string> = {},
  workerId?: string,
): Promise<BulkRunner> {
  const config = testConfig({ WORKER_POLL_INTERVAL_MS: '50', WORKER_LEASE_SECONDS: '5', ...env });
  const runner = createBulkRunner({
    storage,
    config,
    logger: captureLogs('info').logger,
    ...(workerId ? { workerId } : {}),
  });
  await runner.start();
  return runner;
}

export async function postBulk(
  app: FastifyInstance,
  payload: Record<string, unknown>,
  headers: Record<string, string> = auth,
) {
  return app.inject({ method: 'POST', url: '/api/admin/bulk-actions', headers, payload });
}

export async function getAction(app: FastifyInstance, id: string): Promise<BulkAction> {
  return (await app.inject({ method: 'GET', url: `/api/admin/bulk-actions/${id}`, headers: auth })).json();
}

/** Waits until the action reaches one of the given statuses. */
export function waitForStatus(
  app: FastifyInstance,
  id: string,
  statuses: string[] = ['completed'],
  timeoutMs = 30_000,
): Promise<BulkAction> {
  return waitFor(
    async () => {
      const action = await getAction(app, id);
      return statuses.includes(action.status) ? action : undefined;
    },
    { timeoutMs, intervalMs: 50, message: `bulk action ${id} to be ${statuses.join(' or ')}` },
  );
}
