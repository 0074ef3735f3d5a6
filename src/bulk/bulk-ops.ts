import type { Storage } from '../storage/storage.js';
import { bulkStore } from './bulk-store.js';

/**
 * The operator's side of bulk actions: `leadrelay cleanup` (undo data past its window)
 * and `leadrelay health` (an open action that stopped moving).
 */
export const BULK_STALL_SECONDS = 5 * 60;

/** Removes (or, dry, counts) the per-lead undo data of actions whose undo window has passed. */
export async function purgeExpiredUndoData(storage: Storage, options: { dryRun: boolean }): Promise<string> {
  const result = await bulkStore(storage).purgeUndoData({ dryRun: options.dryRun });
  return options.dryRun
    ? `Dry run: would remove the undo data of ${result.actions} bulk action(s) (${result.items} lead snapshot row(s)) past UNDO_EXPIRY_DAYS. Nothing changed.\n`
    : `Removed the undo data of ${result.actions} bulk action(s) (${result.items} lead snapshot row(s)) past UNDO_EXPIRY_DAYS; they can no longer be undone.\n`;
}

export interface BulkHealth {
  status: 'ok' | 'fail';
  detail: string;
}

/** Open actions without progress for BULK_STALL_SECONDS: no worker is running them. */
export async function bulkHealth(storage: Storage): Promise<BulkHealth> {
  const { open, stalled } = await bulkStore(storage).stalled(BULK_STALL_SECONDS);
  if (stalled.length === 0) return { status: 'ok', detail: `${open} open bulk action(s), none stalled` };
  const list = stalled
    .map(
      (action) =>
        `${action.id} (${action.action}, ${action.status}, ${action.processed}/${action.total} since ${action.since})`,
    )
    .join('; ');
  return {
    status: 'fail',
    detail: `${stalled.length} bulk action(s) made no progress for ${BULK_STALL_SECONDS / 60} minutes (is a worker running?): ${list}`,
  };
}
