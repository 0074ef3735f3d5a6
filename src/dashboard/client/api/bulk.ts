import type { ApiClient } from './client.js';
import type { Lead, LeadFilters } from './types.js';

/** The bulk-action endpoints (docs/bulk-actions.md) the leads view uses. */
export type BulkActionName = 'set_status' | 'assign' | 'add_tag' | 'remove_tag' | 'archive' | 'erase';
export const DESTRUCTIVE: readonly BulkActionName[] = ['archive', 'erase'];

export type BulkTarget = { ids: string[] } | { filter: LeadFilters };

export interface BulkParams {
  status?: string;
  assignedTo?: string | null;
  tag?: string;
}

export interface BulkRequest {
  action: BulkActionName;
  target: BulkTarget;
  params: BulkParams;
}

export interface BulkPreview {
  action: BulkActionName;
  count: number;
  changes: number;
  sample: Lead[];
  warnings: { code: string; count: number; message: string }[];
  undoable: boolean;
  destructive: boolean;
  confirmToken: string | null;
  confirmExpiresAt: string | null;
}

export interface BulkAction {
  id: string;
  kind: BulkActionName | 'undo';
  action: BulkActionName;
  params: BulkParams;
  undoOf: string | null;
  undoneBy: string | null;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'undone';
  total: number;
  processed: number;
  skipped: number;
  skipReasons: Record<string, number>;
  failed: number;
  error: string | null;
  actor: { name: string };
  createdAt: string;
  finishedAt: string | null;
  undoExpiresAt: string | null;
  undoable: boolean;
}

export const previewBulk = (api: ApiClient, request: BulkRequest) =>
  api.request<BulkPreview>('/api/admin/bulk-actions', { method: 'POST', body: { ...request, dryRun: true } });

export const runBulk = (api: ApiClient, request: BulkRequest, confirmToken: string | null) =>
  api.request<BulkAction>('/api/admin/bulk-actions', {
    method: 'POST',
    body: { ...request, dryRun: false, ...(confirmToken ? { confirmToken } : {}) },
  });

export const getBulk = (api: ApiClient, id: string) =>
  api.request<BulkAction>(`/api/admin/bulk-actions/${encodeURIComponent(id)}`);

export const listBulk = (api: ApiClient, limit = 10) =>
  api.request<{ items: BulkAction[] }>('/api/admin/bulk-actions', { query: { limit } });

export const undoBulk = (api: ApiClient, id: string) =>
  api.request<BulkAction>(`/api/admin/bulk-actions/${encodeURIComponent(id)}/undo`, {
    method: 'POST',
    body: {},
  });

export const countMatching = (api: ApiClient, filters: LeadFilters) =>
  api.request<{ count: number }>('/api/admin/bulk-actions/count', { query: { ...filters } });
