import type { AdminLead, LeadFilters } from '../admin/admin-store.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import type { Principal } from '../team/principal.js';

/**
 * Bulk actions over the storage interface: each operation is one SQL function of
 * supabase/migrations/20261201233000_bulk_actions.sql (the snapshot, the batches, the
 * lease and the undo live there). SQLSTATEs become domain errors; nothing here knows
 * about HTTP or the worker loop.
 */
export const BULK_ACTIONS = ['set_status', 'assign', 'add_tag', 'remove_tag', 'archive', 'erase'] as const;
export type BulkActionName = (typeof BULK_ACTIONS)[number];
/** Actions that need a confirmToken from their dry run. */
export const DESTRUCTIVE_ACTIONS: readonly BulkActionName[] = ['archive', 'erase'];

export type BulkStatus = 'queued' | 'running' | 'completed' | 'failed' | 'undone';

/** Which leads: explicit ids, or the lead list's filters. */
export type BulkTarget = { ids: string[] } | { filter: LeadFilters };

export interface BulkParams {
  status?: string;
  assignedTo?: string | null;
  tag?: string;
}

export interface BulkWarning {
  code: 'unchanged' | 'not_found' | 'no_leads' | 'not_undoable';
  count: number;
  message: string;
}

export interface BulkPreview {
  action: BulkActionName;
  count: number;
  /** Leads the action would really change (count minus those already so). */
  changes: number;
  sample: AdminLead[];
  warnings: BulkWarning[];
  undoable: boolean;
  destructive: boolean;
}

export interface BulkAction {
  id: string;
  kind: BulkActionName | 'undo';
  action: BulkActionName;
  params: BulkParams;
  target: Record<string, unknown>;
  undoOf: string | null;
  undoneBy: string | null;
  status: BulkStatus;
  total: number;
  processed: number;
  skipped: number;
  skipReasons: Partial<Record<'conflict' | 'unchanged' | 'missing', number>>;
  failed: number;
  attempts: number;
  error: string | null;
  actor: { id: string | null; name: string; role: string };
  createdAt: string;
  startedAt: string | null;
  progressedAt: string | null;
  finishedAt: string | null;
  undoExpiresAt: string | null;
  undoPurgedAt: string | null;
  undoable: boolean;
}

/** What one batch call answered: more to do, finished, or the lease is someone else's. */
export interface BatchOutcome {
  state: 'continue' | 'done' | 'lost';
  action: BulkAction;
}

export interface FailureOutcome {
  state: 'retry' | 'failed' | 'lost';
  action: BulkAction;
}

async function callBulk<T>(storage: Storage, fn: string, args: Record<string, unknown>): Promise<T> {
  try {
    return await storage.call<T>(fn, args);
  } catch (error) {
    if (error instanceof StorageQueryError) {
      if (error.code === SqlState.notFound) throw new NotFoundError('Bulk action');
      if (error.code === SqlState.versionConflict) throw new ConflictError(error.message);
      if (error.code === SqlState.unprocessable) throw new UnprocessableError(error.message);
    }
    throw error;
  }
}

/** The target as the SQL functions read it (camel-case filter keys, nothing undefined). */
export function targetJson(target: BulkTarget): Record<string, unknown> {
  if ('ids' in target) return { ids: [...new Set(target.ids)] };
  const filter = Object.fromEntries(Object.entries(target.filter).filter(([, value]) => value !== undefined));
  return { filter };
}

const actorJson = (principal: Principal) => ({
  id: principal.id,
  name: principal.name,
  role: principal.role,
});

export function bulkStore(storage: Storage) {
  return {
    preview: (action: BulkActionName, target: BulkTarget, params: BulkParams) =>
      callBulk<BulkPreview>(storage, 'bulk_preview', {
        p_action: action,
        p_target: targetJson(target),
        p_params: params,
      }),
    count: (target: BulkTarget) =>
      callBulk<{ count: number }>(storage, 'bulk_count_leads', { p_target: targetJson(target) }),
    create: (
      action: BulkActionName,
      target: BulkTarget,
      params: BulkParams,
      principal: Principal,
      undoDays: number,
    ) =>
      callBulk<BulkAction>(storage, 'bulk_create_action', {
        p_action: action,
        p_target: targetJson(target),
        p_params: params,
        p_actor: actorJson(principal),
        p_undo_days: undoDays,
      }),
    createUndo: (id: string, principal: Principal) =>
      callBulk<BulkAction>(storage, 'bulk_create_undo', { p_id: id, p_actor: actorJson(principal) }),
    get: (id: string) => callBulk<BulkAction>(storage, 'bulk_get_action', { p_id: id }),
    list: (page: { before?: { createdAt: string; id: string } | undefined; limit: number }) =>
      callBulk<{ items: BulkAction[]; next: { createdAt: string; id: string } | null }>(
        storage,
        'bulk_list_actions',
        { p_before_created_at: page.before?.createdAt, p_before_id: page.before?.id, p_limit: page.limit },
      ),

    // The engine's calls (src/bulk/bulk-runner.ts).
    claim: async (workerId: string, leaseSeconds: number) =>
      (
        await callBulk<{ action: BulkAction | null }>(storage, 'bulk_claim_action', {
          p_worker: workerId,
          p_lease_seconds: leaseSeconds,
        })
      ).action,
    runBatch: (id: string, workerId: string, batchSize: number, leaseSeconds: number) =>
      callBulk<BatchOutcome>(storage, 'bulk_run_batch', {
        p_id: id,
        p_worker: workerId,
        p_batch_size: batchSize,
        p_lease_seconds: leaseSeconds,
      }),
    batchFailed: (id: string, workerId: string, error: string, maxAttempts: number, batchSize: number) =>
      callBulk<FailureOutcome>(storage, 'bulk_batch_failed', {
        p_id: id,
        p_worker: workerId,
        p_error: error,
        p_max_attempts: maxAttempts,
        p_batch_size: batchSize,
      }),
    release: (id: string, workerId: string) =>
      callBulk<{ released: boolean }>(storage, 'bulk_release_action', { p_id: id, p_worker: workerId }),

    // Operations (leadrelay cleanup, leadrelay health).
    purgeUndoData: (options: { dryRun: boolean; now?: Date | undefined }) =>
      callBulk<{ dryRun: boolean; actions: number; items: number }>(storage, 'bulk_purge_undo_data', {
        p_now: options.now?.toISOString(),
        p_dry_run: options.dryRun,
      }),
    stalled: (stalledAfterSeconds: number) =>
      callBulk<{
        open: number;
        stalled: {
          id: string;
          action: string;
          status: string;
          processed: number;
          total: number;
          since: string;
        }[];
      }>(storage, 'bulk_stalled_actions', { p_stalled_after_seconds: stalledAfterSeconds }),
  };
}

export type BulkStore = ReturnType<typeof bulkStore>;
