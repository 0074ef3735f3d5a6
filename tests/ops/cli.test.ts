import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CliIo, runCli } from '../../src/cli/leadrelay.js';
import { captureLead } from '../../src/leads/capture-lead.js';
import { openPgliteStorage } from '../../src/storage/pglite-storage.js';
import type { SqlStorage } from '../../src/storage/storage.js';
import {
  createPostgresDatabase,
  createTestDatabase,
  describeEachDatabase,
  dropPostgresDatabase,
  hasPostgres,
  type TestDatabase,
} from '../helpers/databases.js';

/**
 * Every `leadrelay` subcommand, run in-process through runCli against a real database
 * (PGlite in a temp DATA_DIR, and Postgres when TEST_DATABASE_URL is set). `api` and
 * `worker` start long-lived processes: they run as child processes in dist-start.test.ts.
 */
const SUBCOMMANDS = ['migrate', 'api', 'worker', 'replay', 'health', 'cleanup', 'sla-check'];

interface Run {
  code: number | 'running';
  out: string;
  err: string;
}

async function cli(env: Record<string, string>, ...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = {
    // No ADMIN_API_KEY: only the API needs it, not the operator's commands.
    env: { LOG_LEVEL: 'warn', ...env },
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

const lead = (n: number) => ({
  customerName: `Cli Person ${n}`,
  customerEmail: `cli${n}@example.com`,
  source: 'chatbot' as const,
  metadata: {},
});

describe('leadrelay --help', () => {
  it('documents every subcommand', async () => {
    const top = await cli({}, '--help');
    expect(top.code).toBe(0);
    for (const name of SUBCOMMANDS) {
      expect(top.out).toContain(name);
      const help = await cli({}, name, '--help');
      expect(help.code, name).toBe(0);
      expect(help.out).toContain(`Usage: leadrelay ${name}`);
    }
  });

  it('refuses bad usage with exit code 2', async () => {
    expect((await cli({}, 'nope')).code).toBe(2);
    expect((await cli({}, 'cleanup', '--older-than-days', 'x')).code).toBe(2);
    expect((await cli({}, 'replay')).err).toContain('exactly one of');
    expect((await cli({ PORT: 'not-a-port' }, 'health')).code).toBe(2);
  });
});

describeEachDatabase('leadrelay subcommands', (kind) => {
  let db: TestDatabase | undefined;
  let dataDir: string;
  let env: Record<string, string>;

  /** Works on the database between CLI runs (PGlite's folder is one process's at a time). */
  async function onDatabase<T>(work: (storage: SqlStorage) => Promise<T>): Promise<T> {
    if (db) return work(db.storage);
    const storage = await openPgliteStorage({ dataDir: join(dataDir, 'pglite') });
    try {
      return await work(storage);
    } finally {
      await storage.close();
    }
  }
  const count = (storage: SqlStorage, sql: string) =>
    storage.query<{ n: number }>(`select count(*)::int as n ${sql}`).then((rows) => rows[0]!.n);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'leadrelay-cli-'));
    if (kind === 'postgres') {
      db = await createTestDatabase('postgres', { poolMax: 3 });
      env = { DATABASE_URL: db.url! };
    } else {
      // Start from the run's migrated template, unpacked into DATA_DIR/pglite.
      const storage = await openPgliteStorage({
        dataDir: join(dataDir, 'pglite'),
        loadDataDir: new Blob([readFileSync(inject('pgliteTemplatePath'))]),
      });
      await storage.close();
      env = { DATA_DIR: dataDir };
    }
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrate applies pending migrations to an empty database, then has nothing to do', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'leadrelay-cli-empty-'));
    const url = kind === 'postgres' ? await createPostgresDatabase({ empty: true }) : undefined;
    const target: Record<string, string> = url ? { DATABASE_URL: url } : { DATA_DIR: emptyDir };
    try {
      const first = await cli(target, 'migrate');
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/Applied \d+ migration\(s\)/);
      expect(first.out).toContain('20261122000400_ops_metrics');
      const second = await cli(target, 'migrate');
      expect(second.out).toBe('Database is up to date.\n');
    } finally {
      if (url) await dropPostgresDatabase(url);
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });

  it('health fails on a stopped worker and passes with a live one and a channel', async () => {
    const channel = { SLACK_WEBHOOK_URL: 'https://hooks.slack.invalid/services/T/B/x' };
    // A worker that started, then stopped cleanly (and none other runs).
    await onDatabase(async (s) => {
      for (const stopping of [false, true]) {
        await s.call('beat_worker', {
          p_worker_id: 'w-stopped',
          p_host: 'h',
          p_pid: 1,
          p_lease_seconds: 60,
          p_stopping: stopping,
          p_held_event_ids: [],
        });
      }
    });
    const stopped = await cli({ ...env, ...channel }, 'health');
    expect(stopped.code).toBe(1);
    expect(stopped.out).toMatch(/FAIL\s+worker\s+no live worker/);
    expect(stopped.out).toContain('UNHEALTHY');

    const noChannel = await cli(env, 'health', '--json');
    const report = JSON.parse(noChannel.out) as {
      healthy: boolean;
      checks: { name: string; status: string }[];
    };
    expect(report.healthy).toBe(false);
    expect(report.checks.find((c) => c.name === 'channels')?.status).toBe('fail');

    await onDatabase((s) =>
      s.call('beat_worker', {
        p_worker_id: 'w-live',
        p_host: 'h',
        p_pid: 2,
        p_lease_seconds: 60,
        p_stopping: false,
        p_held_event_ids: [],
      }),
    );
    const healthy = await cli({ ...env, ...channel }, 'health');
    expect(healthy.out).toMatch(/OK\s+worker\s+1 live/);
    expect(healthy.code, healthy.out).toBe(0);

    await onDatabase((s) =>
      captureLead(s, lead(100), { slaMinutes: 5 }).then(() => captureLead(s, lead(101), { slaMinutes: 5 })),
    );
    const deep = await cli({ ...env, ...channel, HEALTH_MAX_QUEUE_DEPTH: '1' }, 'health');
    expect(deep.code).toBe(1);
    expect(deep.out).toMatch(/FAIL\s+queue\s+depth \d+/);
  });

  it('health fails when the database is unreachable', async () => {
    const down = await cli(
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', DATABASE_CONNECT_TIMEOUT_MS: '500' },
      'health',
    );
    expect(down.code).toBe(1);
    expect(down.out).toMatch(/FAIL\s+database/);
  });

  it('cleanup --dry-run counts and changes nothing; cleanup deletes old processed events only', async () => {
    const before = await onDatabase(async (s) => {
      const old = await captureLead(s, lead(200), { slaMinutes: 5 });
      await captureLead(s, lead(201), { slaMinutes: 5 }); // pending: never purged
      await s.query(
        `update lead_events set processed = true, outcome = 'delivered', processed_at = now() - interval '40 days'
          where id = $1`,
        [old.eventId],
      );
      await s.query(
        `insert into notification_logs (event_id, channel, status, attempt) values ($1, 'slack', 'sent', 1)`,
        [old.eventId],
      );
      return { events: await count(s, 'from lead_events'), logs: await count(s, 'from notification_logs') };
    });

    const dry = await cli(env, 'cleanup', '--older-than-days', '30', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/would delete 1 delivered event\(s\) and 1 notification log\(s\)/);
    const afterDry = await onDatabase(async (s) => ({
      events: await count(s, 'from lead_events'),
      logs: await count(s, 'from notification_logs'),
    }));
    expect(afterDry).toEqual(before);

    const real = await cli(env, 'cleanup', '--older-than-days', '30');
    expect(real.code).toBe(0);
    expect(real.out).toContain('Deleted 1 delivered event(s)');
    const after = await onDatabase(async (s) => ({
      events: await count(s, 'from lead_events'),
      logs: await count(s, 'from notification_logs'),
    }));
    expect(after).toEqual({ events: before.events - 1, logs: before.logs - 1 });
  });

  it('cleanup keeps dead events unless --include-dead', async () => {
    const dead = await onDatabase(async (s) => {
      const old = await captureLead(s, lead(250), { slaMinutes: 5 });
      await s.query(
        `update lead_events set processed = true, outcome = 'dead', processed_at = now() - interval '40 days'
          where id = $1`,
        [old.eventId],
      );
      return old.eventId;
    });
    const stillThere = () => onDatabase((s) => count(s, `from lead_events where id = ${Number(dead)}`));
    expect((await cli(env, 'cleanup', '--older-than-days', '30')).out).toContain(
      'Deleted 0 delivered event(s)',
    );
    expect(await stillThere()).toBe(1);
    const dry = await cli(env, 'cleanup', '--older-than-days', '30', '--include-dead', '--dry-run');
    expect(dry.out).toMatch(/would delete 1 processed event\(s\), dead ones included,/);
    const real = await cli(env, 'cleanup', '--older-than-days', '30', '--include-dead');
    expect(real.code).toBe(0);
    expect(real.out).toContain('Deleted 1 processed event(s), dead ones included,');
    expect(await stillThere()).toBe(0);
  });

  it('replay --channel queues the alerts one channel skipped, and only once', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const eventId = await onDatabase(async (s) => {
      const skipped = await captureLead(s, lead(260), { slaMinutes: 5 });
      const sent = await captureLead(s, lead(261), { slaMinutes: 5 });
      await s.query(
        `update lead_events set processed = true, outcome = 'delivered', processed_at = now() where id = any($1)`,
        [[skipped.eventId, sent.eventId]],
      );
      await s.query(
        `insert into notification_logs (event_id, channel, status, attempt, error) values
           ($1, 'slack', 'skipped', 1, 'channel not configured'), ($1, 'email', 'sent', 1, null),
           ($2, 'slack', 'skipped', 1, 'channel not configured'), ($2, 'slack', 'sent', 2, null)`,
        [skipped.eventId, sent.eventId],
      );
      return Number(skipped.eventId);
    });
    const run = await cli(env, 'replay', '--channel', 'slack', '--since', since);
    expect(run.code).toBe(0);
    expect(run.out).toBe(`Queued 1 event(s) for slack again: ${eventId}.\n`);
    expect(run.err).toContain('slack is not configured in this environment (SLACK_WEBHOOK_URL)');
    const row = await onDatabase(
      async (s) =>
        (
          await s.query<{ processed: boolean; replay_channels: string[]; attempts: number }>(
            'select processed, replay_channels, attempts from lead_events where id = $1',
            [eventId],
          )
        )[0],
    );
    expect(row).toEqual({ processed: false, replay_channels: ['slack'], attempts: 0 });
    // Pending now: a second run finds nothing to queue.
    const again = await cli(env, 'replay', '--channel', 'slack', '--since', since);
    expect(again.out).toContain('nothing queued');
    // An unknown channel is bad usage (sms, whatsapp, hubspot and webhook:<id> are channels now).
    expect((await cli(env, 'replay', '--channel', 'fax', '--all')).code).toBe(2);
    expect((await cli(env, 'replay', '--channel', 'slack', '--failed-since', since)).code).toBe(2);
    expect((await cli(env, 'replay', '--since', since)).err).toContain('--since goes with --channel');
  });

  it('replay re-queues dead events with a progress bar', async () => {
    const ids = await onDatabase(async (s) => {
      const made: number[] = [];
      for (let n = 0; n < 12; n++)
        made.push(Number((await captureLead(s, lead(300 + n), { slaMinutes: 5 })).eventId));
      await s.query(
        `update lead_events set processed = true, outcome = 'dead', attempts = 8, processed_at = now() where id = any($1)`,
        [made],
      );
      return made;
    });
    const run = await cli(env, 'replay', '--all');
    expect(run.code).toBe(0);
    expect(run.out).toContain('Queued 12 dead event(s) again');
    expect(run.err).toContain('replay: 0/12 (0%)');
    expect(run.err).toContain('replay: 12/12 (100%)');
    const stillDead = await onDatabase((s) =>
      count(s, `from lead_events where id = any('{${ids.join(',')}}') and outcome = 'dead'`),
    );
    expect(stillDead).toBe(0);
    expect((await cli(env, 'replay', '--event', String(ids[0]))).code).toBe(1); // no longer dead
  });

  it('sla-check marks overdue leads breached once', async () => {
    await onDatabase(async (s) => {
      const captured = await captureLead(s, lead(400), { slaMinutes: 5 });
      await s.query(`update conversations set sla_due_at = now() - interval '1 minute' where id = $1`, [
        captured.id,
      ]);
    });
    const first = await cli(env, 'sla-check');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/Marked [1-9]\d* lead\(s\) SLA-breached/);
    const second = await cli(env, 'sla-check');
    expect(second.out).toBe('No lead is past its first-response SLA.\n');
  });
});

if (!hasPostgres) {
  describe('leadrelay on Postgres', () => {
    it.skip('needs TEST_DATABASE_URL', () => {});
  });
}
