import { bulkHealth } from '../bulk/bulk-ops.js';
import type { Config } from '../config.js';
import { type IntegrationHealth, integrationStore } from '../integrations/integration-store.js';
import { type OpsSnapshot, readOpsSnapshot } from '../metrics/ops-snapshot.js';
import type { Storage } from '../storage/storage.js';
import { MIGRATIONS_NOT_VERIFIABLE, pendingMigrationNames } from './migration-status.js';

/**
 * `leadrelay health`: what an operator (or a cron, or a deploy gate) asks before
 * trusting the pipeline. Each check is ok, warn (worth a look, not an outage) or fail;
 * any fail makes the command exit non-zero.
 *
 *   database    answers a ping
 *   migrations  every migration shipped with this build is applied
 *   worker      at least one worker heartbeat is fresh (WORKER_STALE_AFTER_SECONDS);
 *               a stale one (silent but never stopped cleanly) is a crash. Skipped
 *               with a warning when ENABLE_NOTIFICATION_WORKER=false.
 *   queue       depth <= HEALTH_MAX_QUEUE_DEPTH, oldest event <= HEALTH_MAX_QUEUE_AGE_SECONDS;
 *               dead events are a warning (replay them)
 *   channels    at least one notification channel is configured
 *   integrations  SMS / WhatsApp / HubSpot / webhooks: a paused integration (HubSpot's
 *               daily limit), stopped numbers (Twilio 21610), disabled or failing
 *               webhook endpoints are warnings
 *   bulk        a queued or running bulk action with no progress for 5 minutes fails
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface HealthCheck {
  name: 'database' | 'migrations' | 'worker' | 'queue' | 'channels' | 'integrations' | 'bulk';
  status: CheckStatus;
  detail: string;
}

export async function runHealthChecks(storage: Storage, config: Config): Promise<HealthCheck[]> {
  const checks: HealthCheck[] = [];
  try {
    const started = performance.now();
    await storage.call('leadrelay_ping');
    checks.push({
      name: 'database',
      status: 'ok',
      detail: `${storage.mode} answered in ${Math.round(performance.now() - started)} ms`,
    });
  } catch (error) {
    checks.push({ name: 'database', status: 'fail', detail: `unreachable: ${(error as Error).message}` });
    // Nothing else can be checked without the database; channels still can.
    checks.push(channelsCheck(config));
    return checks;
  }

  try {
    const pending = await pendingMigrationNames(storage);
    checks.push(
      pending === null
        ? { name: 'migrations', status: 'warn', detail: MIGRATIONS_NOT_VERIFIABLE }
        : pending.length === 0
          ? { name: 'migrations', status: 'ok', detail: 'all applied' }
          : {
              name: 'migrations',
              status: 'fail',
              detail: `pending: ${pending.join(', ')} (run leadrelay migrate)`,
            },
    );
  } catch (error) {
    checks.push({
      name: 'migrations',
      status: 'fail',
      detail: `cannot read history: ${(error as Error).message}`,
    });
  }

  let snapshot: OpsSnapshot | undefined;
  try {
    snapshot = await readOpsSnapshot(storage, config.ops.workerStaleAfterSeconds);
  } catch (error) {
    const detail = `cannot read ops_metrics_snapshot: ${(error as Error).message}`;
    checks.push({ name: 'worker', status: 'fail', detail }, { name: 'queue', status: 'fail', detail });
  }
  if (snapshot) checks.push(workerCheck(snapshot, config), queueCheck(snapshot, config));
  checks.push(channelsCheck(config));
  checks.push(await integrationsCheck(storage, config));
  checks.push(
    await bulkHealth(storage).then(
      (health): HealthCheck => ({ name: 'bulk', ...health }),
      (error: Error): HealthCheck => ({
        name: 'bulk',
        status: 'warn',
        detail: `cannot read bulk_stalled_actions: ${error.message}`,
      }),
    ),
  );
  return checks;
}

const OPT_OUT_NAMES: Record<string, string> = { sms: 'SMS', whatsapp: 'WhatsApp' };

async function integrationsCheck(storage: Storage, config: Config): Promise<HealthCheck> {
  const enabled = Object.entries(config.integrations)
    .filter(([name, settings]) => name !== 'webhooks' && settings !== undefined)
    .map(([name]) => name);
  let health: IntegrationHealth;
  try {
    health = await integrationStore(storage).health();
  } catch (error) {
    return {
      name: 'integrations',
      status: 'warn',
      detail: `cannot read integration_health: ${(error as Error).message}`,
    };
  }
  const warnings = [
    ...health.pauses.map(
      (p) => `${p.channel} paused until ${new Date(p.pausedUntil).toISOString()}: ${p.reason}`,
    ),
    ...Object.entries(health.optOuts).map(
      ([channel, n]) =>
        `${n} ${OPT_OUT_NAMES[channel] ?? channel} number${n === 1 ? '' : 's'} stopped (21610)`,
    ),
    ...(health.webhooks.disabled > 0 ? [`${health.webhooks.disabled} webhook endpoint(s) disabled`] : []),
    ...(health.webhooks.failing > 0 ? [`${health.webhooks.failing} webhook endpoint(s) failing`] : []),
  ];
  const summary = `enabled: ${enabled.join(', ') || 'none'}; webhook endpoints: ${health.webhooks.total}`;
  return warnings.length > 0
    ? { name: 'integrations', status: 'warn', detail: `${summary}; ${warnings.join('; ')}` }
    : { name: 'integrations', status: 'ok', detail: summary };
}

function workerCheck(snapshot: OpsSnapshot, config: Config): HealthCheck {
  if (!config.worker.enabled) {
    return { name: 'worker', status: 'warn', detail: 'ENABLE_NOTIFICATION_WORKER=false: nothing is sent' };
  }
  const w = snapshot.workers;
  if (!w)
    return {
      name: 'worker',
      status: 'fail',
      detail: 'no worker_heartbeats table (worker migration missing)',
    };
  const stale = w.stale > 0 ? `, ${w.stale} stale (crashed or cut off)` : '';
  if (w.live === 0) {
    return {
      name: 'worker',
      status: 'fail',
      detail: `no live worker (none beat in the last ${config.ops.workerStaleAfterSeconds} s${stale}; ${w.stopped} stopped in the last day)`,
    };
  }
  return {
    name: 'worker',
    status: w.stale > 0 ? 'warn' : 'ok',
    detail: `${w.live} live${stale}; last beat ${Math.round(w.lastBeatAgeSeconds ?? 0)} s ago`,
  };
}

function queueCheck(snapshot: OpsSnapshot, config: Config): HealthCheck {
  const { outboxDepth: depth, oldestUnprocessedAgeSeconds: age, deadEvents: dead } = snapshot;
  const summary = `depth ${depth}, oldest ${Math.round(age)} s, dead ${dead}`;
  if (depth > config.ops.maxQueueDepth || age > config.ops.maxQueueAgeSeconds) {
    return {
      name: 'queue',
      status: 'fail',
      detail: `${summary} (limits: depth ${config.ops.maxQueueDepth}, age ${config.ops.maxQueueAgeSeconds} s)`,
    };
  }
  if (dead > 0)
    return { name: 'queue', status: 'warn', detail: `${summary} (replay dead events: leadrelay replay)` };
  return { name: 'queue', status: 'ok', detail: summary };
}

function channelsCheck(config: Config): HealthCheck {
  const configured = Object.entries(config.channels)
    .filter(([, settings]) => settings !== undefined)
    .map(([name]) => name);
  if (configured.length === 0) {
    return {
      name: 'channels',
      status: 'fail',
      detail: 'no channel configured (SLACK_WEBHOOK_URL, EMAIL_HOST, TELEGRAM_BOT_TOKEN): leads alert nobody',
    };
  }
  const missing = Object.keys(config.channels).filter((name) => !configured.includes(name));
  return {
    name: 'channels',
    status: 'ok',
    detail: `configured: ${configured.join(', ')}${missing.length ? `; not configured: ${missing.join(', ')}` : ''}`,
  };
}
