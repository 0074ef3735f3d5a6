import { adminConversationStore } from '../conversations/conversation-store.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import { type Cursor, encodeCursor } from './cursor.js';

/**
 * The admin operations as plain functions over the storage interface: each is one SQL
 * function in supabase/migrations/20261122000300_admin_and_sla.sql, so it runs the
 * same on PGlite, Postgres and Supabase. SQLSTATEs become domain errors here
 * (LR404 -> NotFoundError, LR409 -> ConflictError); nothing here knows about HTTP.
 */
export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'won', 'lost'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export interface AdminLead {
  id: string;
  customerName: string | null;
  customerPhone: string | null;
  customerEmail: string | null;
  intent: string | null;
  message: string | null;
  source: string;
  status: LeadStatus;
  metadata: Record<string, unknown>;
  /** The owning team member's id. */
  assignedTo: string | null;
  assignee: { id: string; name: string } | null;
  mergedInto: string | null;
  slaDueAt: string | null;
  slaBreached: boolean;
  firstResponseAt: string | null;
  tags: string[];
  /** Set when archived (soft delete): hidden from the list and exports unless asked for. */
  archivedAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Visitor chat messages nobody marked read yet (issue 14; list and detail). */
  unreadCount?: number;
}

export interface LeadFilters {
  status?: LeadStatus | undefined;
  intent?: string | undefined;
  source?: string | undefined;
  slaBreached?: boolean | undefined;
  q?: string | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  /** Only leads of this team member. */
  assigneeId?: string | undefined;
  /** Only leads nobody owns. */
  unassigned?: boolean | undefined;
  /** Archived leads are left out unless `only` (just them) or `include` (both). */
  archived?: 'only' | 'include' | undefined;
}

export interface LeadPage {
  items: AdminLead[];
  /** Opaque cursor for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface LeadDetail {
  lead: AdminLead;
  inquiries: Record<string, unknown>[];
  timeline: Record<string, unknown>[];
  followUps: Record<string, unknown>[];
  events: Record<string, unknown>[];
  notifications: Record<string, unknown>[];
}

export interface LeadPatch {
  expectedVersion: number;
  status?: LeadStatus | undefined;
  /** A team member's id; undefined leaves the assignee alone; null clears it. */
  assignedTo?: string | null | undefined;
  note?: string | undefined;
  actor: string;
}

async function callAdmin<T>(storage: Storage, fn: string, args: Record<string, unknown>, what: string) {
  try {
    return await storage.call<T>(fn, args);
  } catch (error) {
    if (error instanceof StorageQueryError) {
      if (error.code === SqlState.notFound) throw new NotFoundError(what);
      if (error.code === SqlState.versionConflict) throw new ConflictError(error.message);
      if (error.code === SqlState.unprocessable) throw new UnprocessableError(error.message);
    }
    throw error;
  }
}

/** One keyset page of admin_list_leads; `next` is the raw cursor of the following page. */
function fetchLeadPage(storage: Storage, filters: LeadFilters, after: Cursor | undefined, limit: number) {
  return callAdmin<{ items: AdminLead[]; next: Cursor | null }>(
    storage,
    'admin_list_leads',
    {
      p_status: filters.status,
      p_intent: filters.intent,
      p_source: filters.source,
      p_sla_breached: filters.slaBreached,
      p_q: filters.q,
      p_created_from: filters.createdFrom,
      p_created_to: filters.createdTo,
      p_after_created_at: after?.createdAt,
      p_after_id: after?.id,
      p_limit: limit,
      p_assignee: filters.assigneeId,
      p_unassigned: filters.unassigned,
      p_archived: filters.archived,
    },
    'leads',
  );
}

export async function listLeads(
  storage: Storage,
  filters: LeadFilters,
  page: { after?: Cursor | undefined; limit: number },
): Promise<LeadPage> {
  const result = await fetchLeadPage(storage, filters, page.after, page.limit);
  const unread = await adminConversationStore(storage).unreadCounts(result.items.map((lead) => lead.id));
  return {
    items: result.items.map((lead) => ({ ...lead, unreadCount: unread[lead.id] ?? 0 })),
    nextCursor: result.next ? encodeCursor(result.next) : null,
  };
}

/** Every lead matching the filters, page by page (bounded memory: one page at a time). */
export async function* iterateLeads(
  storage: Storage,
  filters: LeadFilters,
  pageSize = 500,
): AsyncGenerator<AdminLead[]> {
  let after: Cursor | undefined;
  for (;;) {
    const result = await fetchLeadPage(storage, filters, after, pageSize);
    if (result.items.length > 0) yield result.items;
    if (!result.next) return;
    after = result.next;
  }
}

export async function getLead(storage: Storage, id: string): Promise<LeadDetail> {
  const detail = await callAdmin<LeadDetail>(storage, 'admin_get_lead', { p_id: id }, `Lead ${id}`);
  const unread = await adminConversationStore(storage).unreadCounts([id]);
  return { ...detail, lead: { ...detail.lead, unreadCount: unread[id] ?? 0 } };
}

export function updateLead(
  storage: Storage,
  id: string,
  patch: LeadPatch,
): Promise<{ lead: AdminLead; changed: boolean }> {
  return callAdmin(
    storage,
    'admin_update_lead',
    {
      p_id: id,
      p_expected_version: patch.expectedVersion,
      p_status: patch.status,
      p_assign: patch.assignedTo !== undefined,
      p_assigned_to: patch.assignedTo ?? undefined,
      p_note: patch.note,
      p_actor: patch.actor,
    },
    `Lead ${id}`,
  );
}

export function addNote(
  storage: Storage,
  id: string,
  note: string,
  actor: string,
): Promise<Record<string, unknown>> {
  return callAdmin(storage, 'admin_add_note', { p_id: id, p_note: note, p_actor: actor }, `Lead ${id}`);
}

export function completeTask(
  storage: Storage,
  taskId: number,
  actor: string,
): Promise<{ taskId: number; status: string; changed: boolean; completedAt: string | null }> {
  return callAdmin(storage, 'admin_complete_task', { p_task_id: taskId, p_actor: actor }, `Task ${taskId}`);
}

export interface NotificationFilters {
  status?: 'sent' | 'failed' | 'skipped' | 'rate_limited' | undefined;
  channel?: string | undefined;
  beforeId?: number | undefined;
  limit: number;
}

export function listNotifications(
  storage: Storage,
  filters: NotificationFilters,
): Promise<{ items: Record<string, unknown>[]; next: number | null }> {
  return callAdmin(
    storage,
    'admin_list_notifications',
    {
      p_status: filters.status,
      p_channel: filters.channel,
      p_before_id: filters.beforeId,
      p_limit: filters.limit,
    },
    'notifications',
  );
}

export function replayEvent(
  storage: Storage,
  eventId: number,
  actor: string,
): Promise<{ eventId: number; eventType: string; replayed: boolean }> {
  return callAdmin(
    storage,
    'admin_replay_event',
    { p_event_id: eventId, p_actor: actor },
    `Event ${eventId}`,
  );
}

export interface AdminStats {
  leadsToday: number;
  leadsThisWeek: number;
  unprocessedEvents: number;
  deadEvents: number;
  failedNotifications24h: number;
  openSlaBreaches: number;
  overdueNow: number;
  medianFirstResponseSeconds: number | null;
}

export function getStats(storage: Storage, now?: string): Promise<AdminStats> {
  return callAdmin(storage, 'admin_stats', { p_now: now }, 'stats');
}

export interface MergeResult {
  dryRun: boolean;
  id: string;
  from: string;
  moves: { inquiries: number; timeline: number; tasks: number; events: number; notifications: number };
}

/** Merges lead `from` into lead `id` (or, with dryRun, says what would move). */
export function mergeLeads(
  storage: Storage,
  id: string,
  from: string,
  options: { dryRun: boolean; actor: string },
): Promise<MergeResult> {
  return callAdmin(
    storage,
    'admin_merge_leads',
    { p_id: id, p_from: from, p_dry_run: options.dryRun, p_actor: options.actor },
    'Lead',
  );
}
