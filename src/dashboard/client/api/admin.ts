import type { ApiClient } from './client.js';
import type { Lead, LeadDetail, LeadFilters, LeadPage, LeadStatus, Overview, Stats } from './types.js';

/** The admin endpoints the dashboard uses, typed. A new view adds its calls in its own module. */
export const PAGE_SIZE = 50;
/** The API refuses larger pages (GET /api/admin/leads: limit ≤ 200). */
export const MAX_PAGE_SIZE = 200;

export function listLeads(api: ApiClient, filters: LeadFilters, cursor?: string | null, limit = PAGE_SIZE) {
  return api.request<LeadPage>('/api/admin/leads', {
    query: { ...filters, limit: Math.min(limit, MAX_PAGE_SIZE), cursor: cursor ?? undefined },
  });
}

export const getLead = (api: ApiClient, id: string) =>
  api.request<LeadDetail>(`/api/admin/leads/${encodeURIComponent(id)}`);

export const setStatus = (api: ApiClient, lead: Lead, status: LeadStatus) =>
  api.request<{ lead: Lead }>(`/api/admin/leads/${lead.id}`, {
    method: 'PATCH',
    body: { version: lead.version, status },
  });

export const addNote = (api: ApiClient, id: string, note: string) =>
  api.request(`/api/admin/leads/${id}/notes`, { method: 'POST', body: { note } });

export const completeTask = (api: ApiClient, taskId: number) =>
  api.request(`/api/admin/tasks/${taskId}/complete`, { method: 'POST', body: {} });

export const replayEvent = (api: ApiClient, eventId: number) =>
  api.request(`/api/admin/events/${eventId}/replay`, { method: 'POST', body: {} });

export const getStats = (api: ApiClient) => api.request<Stats>('/api/admin/stats');

export const getOverview = (api: ApiClient) => api.request<Overview>('/api/admin/overview');

export const streamToken = (api: ApiClient) =>
  api.request<{ token: string }>('/api/admin/stream-token', { method: 'POST', body: {} });

export const exportCsv = (api: ApiClient, filters: LeadFilters) =>
  api.fetch('/api/admin/leads/export.csv', { query: { ...filters } });
