import type { ApiClient } from './client.js';
import type { Lead } from './types.js';

/** The team and audit endpoints the Team and Audit views and the reassign control use. */
export interface TeamMember {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'agent';
  capacity: number | null;
  active: boolean;
  openLeads: number;
  tokenHint: string;
  slackUserId: string | null;
  version: number;
}

export interface AuditEntry {
  id: number;
  actorName: string;
  actorRole: 'owner' | 'admin' | 'agent';
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  status: 'success' | 'failure';
  httpStatus: number | null;
  createdAt: string;
}

export const listTeam = (api: ApiClient) => api.request<{ items: TeamMember[] }>('/api/admin/team');

export const addMember = (api: ApiClient, body: { name: string; email: string; role: 'admin' | 'agent' }) =>
  api.request<{ member: TeamMember; token: string }>('/api/admin/team', { method: 'POST', body });

export const updateMember = (api: ApiClient, id: string, body: Record<string, unknown>) =>
  api.request<TeamMember>(`/api/admin/team/${encodeURIComponent(id)}`, { method: 'PATCH', body });

export const rotateToken = (api: ApiClient, id: string) =>
  api.request<{ member: TeamMember; token: string }>(`/api/admin/team/${encodeURIComponent(id)}/token`, {
    method: 'POST',
    body: {},
  });

export const reassign = (api: ApiClient, lead: Lead, assignedTo: string | null) =>
  api.request<{ lead: Lead }>(`/api/admin/leads/${lead.id}`, {
    method: 'PATCH',
    body: { version: lead.version, assignedTo },
  });

export const listAudit = (api: ApiClient, cursor?: string | null) =>
  api.request<{ items: AuditEntry[]; nextCursor: string | null }>('/api/admin/audit', {
    query: { limit: 50, cursor: cursor ?? undefined },
  });

export interface Me {
  id: string | null;
  name: string;
  role: 'owner' | 'admin' | 'agent';
}

export const getMe = (api: ApiClient) => api.request<Me>('/api/admin/me');

export const listAssignees = (api: ApiClient) =>
  api.request<{ items: { id: string; name: string; active: boolean }[] }>('/api/admin/assignees');
