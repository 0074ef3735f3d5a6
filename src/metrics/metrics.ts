import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus series leadrelay exposes, in one registry per process (not
 * prom-client's global one, so nothing a dependency registers leaks in). The API
 * records intake and request latency; the notification worker records sends and
 * batches through the small functions below, so its loop never touches prom-client.
 * Queue depth, age, dead events, SLA breaches and worker liveness are read from the
 * database at scrape time (see ops-snapshot.ts): they are true across all processes.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'leadrelay_' });

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const leadsAccepted = new Counter({
  name: 'leadrelay_leads_accepted_total',
  help: 'Leads accepted by the intake API (kind: new = stored, replay = idempotent repeat)',
  labelNames: ['source', 'kind'] as const,
  registers: [registry],
});

export const leadsRejected = new Counter({
  name: 'leadrelay_leads_rejected_total',
  help: 'Lead submissions refused, by reason (the error code of the response, or honeypot)',
  labelNames: ['source', 'reason'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'leadrelay_http_request_duration_seconds',
  help: 'HTTP request latency by route template, method and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const outboxDepth = new Gauge({
  name: 'leadrelay_outbox_depth',
  help: 'Outbox events not yet processed (pending, retrying or in flight)',
  registers: [registry],
});

export const outboxOldestAge = new Gauge({
  name: 'leadrelay_outbox_oldest_unprocessed_age_seconds',
  help: 'Age of the oldest unprocessed outbox event (0 when the outbox is drained)',
  registers: [registry],
});

export const outboxDeadEvents = new Gauge({
  name: 'leadrelay_outbox_dead_events',
  help: 'Outbox events that used up their attempts (replay them with `leadrelay replay`)',
  registers: [registry],
});

export const slaOpenBreaches = new Gauge({
  name: 'leadrelay_sla_open_breaches',
  help: 'Leads past their first-response SLA and still not contacted',
  registers: [registry],
});

export const slaBreaches = new Counter({
  name: 'leadrelay_sla_breaches_total',
  help: 'Leads marked SLA-breached by this process (sweep)',
  registers: [registry],
});

export const workers = new Gauge({
  name: 'leadrelay_workers',
  help: 'Notification workers by heartbeat state (live, stale = silent but not stopped, stopped in the last day)',
  labelNames: ['state'] as const,
  registers: [registry],
});

export const workerLastBeatAge = new Gauge({
  name: 'leadrelay_worker_last_heartbeat_age_seconds',
  help: 'Seconds since the most recent heartbeat of a running worker (absent when none runs)',
  registers: [registry],
});

export const opsSnapshotUp = new Gauge({
  name: 'leadrelay_ops_snapshot_up',
  help: '1 when the database answered the metrics snapshot at this scrape, 0 when it did not',
  registers: [registry],
});

export const notifications = new Counter({
  name: 'leadrelay_notifications_total',
  help: 'Notification attempts by channel and status (sent, failed, skipped, rate_limited)',
  labelNames: ['channel', 'status'] as const,
  registers: [registry],
});

export const notificationSendDuration = new Histogram({
  name: 'leadrelay_notification_send_duration_seconds',
  help: 'Time one send to one channel took, by channel and status',
  labelNames: ['channel', 'status'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});

export const workerBatchDuration = new Histogram({
  name: 'leadrelay_worker_batch_duration_seconds',
  help: 'Time the notification worker took for one claimed batch (send and record)',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const workerBatchEvents = new Counter({
  name: 'leadrelay_worker_batch_events_total',
  help: 'Outbox events handled in worker batches',
  registers: [registry],
});

export type NotificationStatus = 'sent' | 'failed' | 'skipped' | 'rate_limited';

/** Worker: one attempt on one channel. Call once per channel per event attempt. */
export function recordNotificationAttempt(
  channel: string,
  status: NotificationStatus,
  durationMs?: number | undefined,
): void {
  // One series for all webhook endpoints (`webhook:<id>` would grow without bound);
  // per-endpoint history is in notification_logs and GET /api/admin/webhooks/:id.
  const label = channel.startsWith('webhook:') ? 'webhook' : channel;
  notifications.inc({ channel: label, status });
  if (durationMs !== undefined && status !== 'skipped') {
    notificationSendDuration.observe({ channel: label, status }, durationMs / 1000);
  }
}

/** Worker: one batch claimed, sent and recorded. */
export function observeBatch(durationMs: number, events = 0): void {
  workerBatchDuration.observe(durationMs / 1000);
  if (events > 0) workerBatchEvents.inc(events);
}

/** SLA sweep: leads newly marked breached. */
export function recordSlaBreaches(count: number): void {
  if (count > 0) slaBreaches.inc(count);
}

export type LeadSource = 'chatbot' | 'contact_form';

export function recordLeadAccepted(source: LeadSource, kind: 'new' | 'replay'): void {
  leadsAccepted.inc({ source, kind });
}

export function recordLeadRejected(source: LeadSource, reason: string): void {
  leadsRejected.inc({ source, reason });
}

/** The exposition text and its content type. */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
