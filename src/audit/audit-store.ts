import type { Storage } from '../storage/storage.js';
import type { Principal } from '../team/principal.js';

/**
 * The audit log (seed 001's audit_logs): one row per admin mutation, successful or
 * refused, naming the signed-in principal. Details hold field names, codes and ids,
 * never secrets or contact data (callers build them from allow-listed values).
 */
export interface AuditEntry {
  principal: Principal;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  status: 'success' | 'failure';
  httpStatus: number;
  details: Record<string, unknown>;
  clientIp: string | null;
  requestId: string | null;
}

export function recordAudit(storage: Storage, entry: AuditEntry): Promise<{ id: number }> {
  return storage.call('audit_record', {
    p_entry: {
      actorId: entry.principal.id,
      actorName: entry.principal.name,
      actorRole: entry.principal.role,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      status: entry.status,
      httpStatus: entry.httpStatus,
      details: entry.details,
      clientIp: entry.clientIp,
      requestId: entry.requestId,
    },
  });
}

export interface AuditFilters {
  actorId?: string | undefined;
  /** An exact action (`lead.update`) or a prefix ending in a dot (`team.`). */
  action?: string | undefined;
  status?: 'success' | 'failure' | undefined;
  from?: string | undefined;
  to?: string | undefined;
  before?: { createdAt: string; id: number } | undefined;
  limit: number;
}

export interface AuditPage {
  items: Record<string, unknown>[];
  next: { createdAt: string; id: number } | null;
}

export function listAudit(storage: Storage, filters: AuditFilters): Promise<AuditPage> {
  return storage.call('admin_list_audit', {
    p_actor_id: filters.actorId,
    p_action: filters.action,
    p_status: filters.status,
    p_from: filters.from,
    p_to: filters.to,
    p_before_created_at: filters.before?.createdAt,
    p_before_id: filters.before?.id,
    p_limit: filters.limit,
  });
}
