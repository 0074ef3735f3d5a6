#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { purgeExpiredUndoData } from '../bulk/bulk-ops.js';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import { runHealthChecks } from '../ops/health-report.js';
import { slaAutomationOf, sweepSlaBreaches } from '../sla/sla-sweeper.js';
import { migrate } from '../storage/migrator.js';
import { openStorage } from '../storage/open-storage.js';
import { isSqlStorage, type Storage } from '../storage/storage.js';
import { type CliContext, type CliIo, type CliResult, positiveInt, UsageError } from './cli-context.js';
import { cleanupLeadRetention, registerEraseCommand } from './erase.js';
import { registerReplayCommand } from './replay.js';

export type { CliIo, CliResult } from './cli-context.js';

/**
 * `leadrelay`: one command for operating leadrelay (package bin; `npx leadrelay` or
 * `node dist/src/cli/leadrelay.js`). Every subcommand reads the same environment as
 * the API (see .env.example) and has --help. Exit codes: 0 ok, 1 failure (or an
 * unhealthy check), 2 bad usage or configuration.
 *
 * On the embedded default (PGlite) the database belongs to one process: stop the API
 * before running migrate, replay, cleanup or sla-check against DATA_DIR.
 */
const processIo: CliIo = {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

export async function runCli(argv: string[], io: CliIo = processIo): Promise<CliResult> {
  let result: CliResult = 0;
  const config = (): Config => {
    try {
      // Only the API serves the admin routes; no other subcommand needs ADMIN_API_KEY.
      return loadConfig(io.env, { needsAdminKey: false });
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
  };
  /**
   * Opens storage without migrating (health must see pending migrations, not fix them)
   * and without the API's per-query timeout: a migration, a purge or a replay of
   * thousands of events may rightly take longer than a request may.
   */
  const withStorage = async <T>(cfg: Config, work: (storage: Storage) => Promise<T>): Promise<T> => {
    const logger = createLogger(cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, process.stderr);
    const storage = await openStorage(cfg, logger, {
      migrate: false,
      applicationName: 'leadrelay-cli',
      operational: true,
    });
    try {
      return await work(storage);
    } finally {
      await storage.close();
    }
  };

  const program = new Command('leadrelay')
    .description('Operate leadrelay: migrations, API, worker, replay, health, retention, SLA sweep')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('migrate')
    .description('Apply pending SQL migrations to PGlite (DATA_DIR) or DATABASE_URL')
    .action(async () => {
      const cfg = config();
      if (cfg.storage.mode === 'supabase') {
        io.err('Supabase mode: apply the migrations with `supabase db push` (see docs/deploy.md).\n');
        result = 1;
        return;
      }
      await withStorage(cfg, async (storage) => {
        if (!isSqlStorage(storage)) throw new Error('storage cannot run SQL migrations');
        const applied = await migrate(storage);
        io.out(
          applied.length
            ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}\n`
            : 'Database is up to date.\n',
        );
      });
    });

  program
    .command('api')
    .description('Run the HTTP API (same as node dist/src/server.js); SIGTERM stops it gracefully')
    .action(async () => {
      await import('../server.js');
      result = 'running';
    });

  program
    .command('worker')
    .description(
      'Run the notification worker (Postgres or Supabase); with METRICS_PORT it serves /metrics too',
    )
    .action(async () => {
      const cfg = config();
      if (cfg.ops.metrics.enabled && cfg.ops.metrics.port !== undefined && cfg.storage.mode !== 'pglite') {
        const logger = createLogger('warn', process.stderr);
        const storage = await openStorage(cfg, logger, {
          migrate: false,
          applicationName: 'leadrelay-metrics',
        });
        const server = await startMetricsServer({
          port: cfg.ops.metrics.port,
          host: cfg.host,
          storage,
          staleAfterSeconds: cfg.ops.workerStaleAfterSeconds,
        });
        io.err(`leadrelay worker: metrics on :${server.port}/metrics\n`);
      }
      // The worker module runs itself on import and owns the process's signals and exit.
      await import('../../workers/notification-worker.js');
      result = 'running';
    });

  const ctx: CliContext = {
    io,
    config,
    withStorage,
    setResult: (value) => {
      result = value;
    },
  };
  registerReplayCommand(program, ctx);
  registerEraseCommand(program, ctx);

  program
    .command('health')
    .description(
      'Check database, migrations, worker heartbeats, queue depth and channels; exit 1 if any fails',
    )
    .option('--json', 'print the checks as JSON')
    .action(async (options: { json?: boolean }) => {
      const cfg = config();
      const checks = await withStorage(cfg, (storage) => runHealthChecks(storage, cfg)).catch(
        (error: Error) => [
          { name: 'database' as const, status: 'fail' as const, detail: `cannot open: ${error.message}` },
        ],
      );
      const healthy = checks.every((check) => check.status !== 'fail');
      if (options.json) {
        io.out(`${JSON.stringify({ healthy, checks }, null, 2)}\n`);
      } else {
        for (const check of checks)
          io.out(`${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(10)}  ${check.detail}\n`);
        io.out(healthy ? 'healthy\n' : 'UNHEALTHY\n');
      }
      result = healthy ? 0 : 1;
    });

  program
    .command('cleanup')
    .description(
      'Retention: delete delivered events (and their notification logs) older than N days, bulk-action undo data past UNDO_EXPIRY_DAYS, and leads closed longer ago than LEAD_RETENTION_DAYS',
    )
    .option('--older-than-days <days>', 'age cut-off in days (default RETENTION_DAYS, 30)', positiveInt)
    .option('--include-dead', 'delete dead events too (they are kept by default, so they can be replayed)')
    .option('--dry-run', 'count what would be deleted; change nothing')
    .addHelpText(
      'after',
      '\nPending and in-flight events are never touched; dead ones only with --include-dead (purge_processed_events).',
    )
    .action(async (options: { olderThanDays?: number; includeDead?: boolean; dryRun?: boolean }) => {
      const cfg = config();
      const days = options.olderThanDays ?? cfg.ops.retentionDays;
      const cutoff = new Date(Date.now() - days * 86_400_000);
      const args = { p_older_than: cutoff.toISOString(), p_include_dead: Boolean(options.includeDead) };
      const what = options.includeDead ? 'processed event(s), dead ones included,' : 'delivered event(s)';
      await withStorage(cfg, async (storage) => {
        if (options.dryRun) {
          const counts = await storage.call<{ events: number; notificationLogs: number }>(
            'ops_count_purgeable_events',
            args,
          );
          io.out(
            `Dry run: would delete ${counts.events} ${what} and ${counts.notificationLogs} notification log(s) older than ${cutoff.toISOString()} (${days} days). Nothing changed.\n`,
          );
          io.out(await purgeExpiredUndoData(storage, { dryRun: true }));
          await cleanupLeadRetention(storage, cfg.ops.leadRetentionDays, true, io);
          return;
        }
        const purged = await storage.call<{ deleted_events: number }>('purge_processed_events', args);
        io.out(
          `Deleted ${purged.deleted_events} ${what} (with their notification logs) older than ${cutoff.toISOString()} (${days} days).\n`,
        );
        io.out(await purgeExpiredUndoData(storage, { dryRun: false }));
        await cleanupLeadRetention(storage, cfg.ops.leadRetentionDays, false, io);
      });
    });

  program
    .command('sla-check')
    .description('Run the SLA sweep once: mark overdue leads breached and emit their escalation events')
    .action(async () => {
      const cfg = config();
      await withStorage(cfg, async (storage) => {
        const swept = await sweepSlaBreaches(storage, { automation: slaAutomationOf(cfg) });
        io.out(
          swept.breached === 0
            ? 'No lead is past its first-response SLA.\n'
            : `Marked ${swept.breached} lead(s) SLA-breached; escalation events emitted:\n  ${swept.ids.join('\n  ')}\n`,
        );
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return result;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError) {
      io.err(`leadrelay: ${error.message}\n`);
      return 2;
    }
    io.err(`leadrelay: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runCli(process.argv.slice(2)).then((result) => {
    if (result !== 'running') process.exit(result);
  });
}
