/**
 * What the admin API returns, as the dashboard reads it. Kept apart from the server's
 * types on purpose: the browser build must not pull in server modules.
 */
export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export interface Lead {
  id: string;
  customerName: string | null;
  customerPhone: string | null;
  customerEmail: string | null;
  intent: string | null;
  message: string | null;
  source: string;
  status: LeadStatus;
  /** The owning team member's id. */
  assignedTo: string | null;
  assignee?: { id: string; name: string } | null;
  slaDueAt: string | null;
  slaBreached: boolean;
  firstResponseAt: string | null;
  /** Visitor messages no agent has read yet (issue 14). */
  unreadCount?: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface LeadPage {
  items: Lead[];
  nextCursor: string | null;
}

export interface TimelineEntry {
  id: number;
  type: string;
  title: string;
  details: Record<string, unknown> | null;
  actor: string;
  createdAt: string;
}

export interface FollowUp {
  id: number;
  type: string;
  title: string;
  status: 'open' | 'done' | 'cancelled';
  dueAt: string;
  completedAt: string | null;
  completedBy: string | null;
}

export interface LeadEvent {
  id: number;
  type: string;
  processed: boolean;
  outcome: 'delivered' | 'dead' | null;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  processedAt: string | null;
}

export interface NotificationAttempt {
  id: number;
  eventId: number;
  eventType: string;
  channel: string;
  status: 'sent' | 'failed' | 'skipped' | 'rate_limited';
  attempt: number;
  error: string | null;
  providerStatus: number | null;
  durationMs: number | null;
  createdAt: string;
}

export interface Inquiry {
  id: number;
  source: string;
  customerName: string | null;
  intent: string | null;
  message: string | null;
  createdAt: string;
}

export interface LeadDetail {
  lead: Lead;
  /** Later submissions of a returning visitor (team API). */
  inquiries?: Inquiry[];
  timeline: TimelineEntry[];
  followUps: FollowUp[];
  events: LeadEvent[];
  notifications: NotificationAttempt[];
}

export interface Stats {
  leadsToday: number;
  leadsThisWeek: number;
  unprocessedEvents: number;
  deadEvents: number;
  failedNotifications24h: number;
  openSlaBreaches: number;
  overdueNow: number;
  medianFirstResponseSeconds: number | null;
}

export interface CountByKey {
  key: string;
  count: number;
}

export interface ChannelHealth {
  channel: string;
  sent: number;
  failed: number;
  skipped: number;
  p95Ms: number | null;
  lastFailedAt: string | null;
}

export interface Overview {
  generatedAt: string;
  days: number;
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
    compliance: number | null;
    medianFirstResponseSeconds: number | null;
  };
  channels: ChannelHealth[];
}

/** The list filters, as they appear in the URL. */
export interface LeadFilters {
  status?: LeadStatus;
  q?: string;
  sla_breached?: 'true' | 'false';
  /** A member id, `me` or `unassigned`. */
  assignedTo?: string;
}
