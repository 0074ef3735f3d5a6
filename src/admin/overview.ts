import type { Storage } from '../storage/storage.js';

/**
 * The dashboard overview: leads per day, by source and intent, SLA compliance and
 * channel health, from one SQL function (admin_overview in
 * supabase/migrations/20261201000300_dashboard_overview.sql), so every storage mode
 * shows the same numbers.
 */
export interface CountByKey {
  key: string;
  count: number;
}

export interface ChannelHealth {
  channel: string;
  sent: number;
  failed: number;
  skipped: number;
  /** 95th percentile send time of the last 24 h, ms; null without timed attempts. */
  p95Ms: number | null;
  lastFailedAt: string | null;
}

export interface Overview {
  generatedAt: string;
  days: number;
  since: string;
  total: number;
  leadsPerDay: { day: string; count: number }[];
  bySource: CountByKey[];
  sourceOtherCount: number;
  byIntent: CountByKey[];
  intentOtherCount: number;
  sla: {
    decided: number;
    withinSla: number;
    breached: number;
    pending: number;
    /** withinSla / decided, 0..1; null when nothing is decided yet. */
    compliance: number | null;
    medianFirstResponseSeconds: number | null;
  };
  channels: ChannelHealth[];
}

export function getOverview(storage: Storage, options: { days?: number; now?: string } = {}) {
  return storage.call<Overview>('admin_overview', { p_now: options.now, p_days: options.days });
}
