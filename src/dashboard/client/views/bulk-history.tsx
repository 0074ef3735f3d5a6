import { useEffect } from 'preact/hooks';
import type { BulkAction } from '../api/bulk.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { formatTime, plural } from './format.js';

/** A bulk action's progress: a bar over total, and the counts (changed, skipped, failed). */
export function BulkProgress({ action }: { action: BulkAction }) {
  const done = action.processed + action.skipped + action.failed;
  const percent = action.total === 0 ? 100 : Math.floor((done / action.total) * 100);
  const what = action.kind === 'undo' ? 'Undo' : describe(action);
  return (
    <div class="bulk-progress" data-testid="bulk-progress" data-status={action.status}>
      <div class="bulk-row">
        <span>
          {what}: <strong>{action.status}</strong>
        </span>
        <span data-testid="bulk-percent">{percent}%</span>
      </div>
      <progress max={100} value={percent} aria-label={`${what} progress`} />
      <p class="help">
        {plural(action.processed, 'lead')} changed, {action.skipped} skipped
        {Object.entries(action.skipReasons).length > 0 &&
          ` (${Object.entries(action.skipReasons)
            .map(([reason, n]) => `${n} ${reason}`)
            .join(', ')})`}
        {action.failed > 0 && `, ${action.failed} failed`}
        {action.error && ` — ${action.error}`}
      </p>
    </div>
  );
}

function describe(action: BulkAction): string {
  const detail = action.params.status ?? action.params.tag ?? '';
  return `${action.action.replace('_', ' ')}${detail ? ` ${detail}` : ''}`;
}

/** The action history: newest first, with Undo while the undo window is open. */
export function BulkHistory({ model }: { model: DashboardModel }) {
  const state = useStore(model.bulk.store);
  const team = useStore(model.team.store);
  const canBulk = team.me !== null && team.me.role !== 'agent';
  useEffect(() => {
    if (canBulk) void model.bulk.loadHistory().catch(() => {});
  }, [canBulk]);
  if (!canBulk || state.history.length === 0) return null;
  return (
    <section class="card bulk-history" aria-labelledby="bulk-history-heading">
      <div class="card-head">
        <h2 id="bulk-history-heading">Bulk actions</h2>
      </div>
      <table>
        <thead>
          <tr>
            <th scope="col">Action</th>
            <th scope="col">Status</th>
            <th scope="col">Leads</th>
            <th scope="col">By</th>
            <th scope="col">Started</th>
            <th scope="col">Undo</th>
          </tr>
        </thead>
        <tbody>
          {state.history.map((action) => (
            <tr key={action.id} data-bulk-id={action.id}>
              <td>{action.kind === 'undo' ? `undo of ${describe(action)}` : describe(action)}</td>
              <td>{action.status}</td>
              <td>
                {action.processed}/{action.total}
                {action.skipped > 0 && ` (${action.skipped} skipped)`}
              </td>
              <td>{action.actor.name}</td>
              <td>{formatTime(action.createdAt)}</td>
              <td>
                {action.undoable ? (
                  <button
                    type="button"
                    class="secondary"
                    title={`Until ${formatTime(action.undoExpiresAt)}`}
                    onClick={() => void model.bulk.undo(action.id)}
                  >
                    Undo
                  </button>
                ) : (
                  '–'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
