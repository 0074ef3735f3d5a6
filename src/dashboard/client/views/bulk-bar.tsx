import { useState } from 'preact/hooks';
import { type BulkActionName, type BulkParams, type BulkRequest, DESTRUCTIVE } from '../api/bulk.js';
import { LEAD_STATUSES, type LeadFilters } from '../api/types.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { BulkProgress } from './bulk-history.js';
import { plural } from './format.js';

/**
 * The bulk toolbar above the leads table: how many are selected (rows, or "all N
 * matching this filter"), the action menu, then the dry run's preview (count, sample,
 * warnings), a confirmation step (for archive and erase: an explicit tick), and the
 * progress of the action once it runs.
 */
const ACTION_LABELS: Record<BulkActionName, string> = {
  set_status: 'Set status',
  assign: 'Assign to',
  add_tag: 'Add tag',
  remove_tag: 'Remove tag',
  archive: 'Archive',
  erase: 'Erase (GDPR)',
};

interface Props {
  model: DashboardModel;
  filters: LeadFilters;
  pageIds: string[];
  /** The list has more pages than loaded: offering "all matching" makes sense. */
  more: boolean;
}

export function BulkBar({ model, filters, pageIds, more }: Props) {
  const state = useStore(model.bulk.store);
  const team = useStore(model.team.store);
  const [action, setAction] = useState<BulkActionName>('set_status');
  const [status, setStatus] = useState<string>('contacted');
  const [assignee, setAssignee] = useState<string>('');
  const [tag, setTag] = useState('');
  const { selection } = state;
  const selected = selection.allMatching ? selection.allMatching.count : selection.ids.length;
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selection.ids.includes(id));

  if (selected === 0 && state.step === 'idle') {
    return state.current ? <BulkProgress action={state.current} /> : null;
  }

  const params = (): BulkParams => {
    if (action === 'set_status') return { status };
    if (action === 'assign') return { assignedTo: assignee || null };
    if (action === 'add_tag' || action === 'remove_tag') return { tag: tag.trim() };
    return {};
  };
  const request = (): BulkRequest => ({
    action,
    target: selection.allMatching ? { filter: selection.allMatching.filters } : { ids: selection.ids },
    params: params(),
  });

  return (
    <section class="bulk-bar" aria-label="Bulk actions">
      <div class="bulk-row">
        <strong data-testid="bulk-selected">{plural(selected, 'lead')} selected</strong>
        {!selection.allMatching && allOnPage && (more || pageIds.length > 0) && (
          <button type="button" class="link" onClick={() => void model.bulk.selectAllMatching(filters)}>
            Select all matching this filter
          </button>
        )}
        {selection.allMatching && <span class="help">every lead matching the current filters</span>}
        <button type="button" class="link" onClick={() => model.bulk.clearSelection()}>
          Clear selection
        </button>
      </div>
      {state.step === 'idle' || state.step === 'previewing' ? (
        <form
          class="bulk-row"
          onSubmit={(event) => {
            event.preventDefault();
            void model.bulk.preview(request());
          }}
        >
          <label for="bulk-action">Action</label>
          <select
            id="bulk-action"
            value={action}
            onChange={(event) => setAction(event.currentTarget.value as BulkActionName)}
          >
            {(Object.keys(ACTION_LABELS) as BulkActionName[]).map((name) => (
              <option key={name} value={name}>
                {ACTION_LABELS[name]}
              </option>
            ))}
          </select>
          {action === 'set_status' && (
            <select aria-label="New status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              {LEAD_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
          {action === 'assign' && (
            <select
              aria-label="Assign to"
              value={assignee}
              onChange={(e) => setAssignee(e.currentTarget.value)}
            >
              <option value="">Nobody (unassign)</option>
              {team.assignees.map((member) => (
                <option key={member.id} value={member.id}>
                  {member.name}
                </option>
              ))}
            </select>
          )}
          {(action === 'add_tag' || action === 'remove_tag') && (
            <input
              aria-label="Tag"
              required
              maxLength={50}
              value={tag}
              onInput={(e) => setTag(e.currentTarget.value)}
            />
          )}
          <button type="submit" disabled={state.step === 'previewing'}>
            {state.step === 'previewing' ? 'Previewing…' : 'Preview'}
          </button>
        </form>
      ) : (
        <BulkPreviewPanel model={model} />
      )}
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
      {state.current && <BulkProgress action={state.current} />}
    </section>
  );
}

function BulkPreviewPanel({ model }: { model: DashboardModel }) {
  const state = useStore(model.bulk.store);
  const [understood, setUnderstood] = useState(false);
  const preview = state.preview;
  if (!preview || !state.request) return null;
  const label = ACTION_LABELS[preview.action];
  const destructive = DESTRUCTIVE.includes(preview.action);
  const detail = state.request.params.status ?? state.request.params.tag ?? '';
  return (
    <section class="bulk-preview" aria-label="Preview">
      <p data-testid="bulk-preview-count">
        <strong>{label}</strong> {detail && <code>{detail}</code>}: {plural(preview.count, 'lead')} match,{' '}
        {plural(preview.changes, 'lead')} would change.{' '}
        {preview.undoable ? 'Can be undone.' : <strong>Cannot be undone.</strong>}
      </p>
      {preview.warnings.length > 0 && (
        <ul class="bulk-warnings">
          {preview.warnings.map((warning) => (
            <li key={warning.code}>{warning.message}</li>
          ))}
        </ul>
      )}
      {preview.sample.length > 0 && (
        <details open={preview.sample.length <= 5}>
          <summary>Sample ({preview.sample.length})</summary>
          <ul class="bulk-sample">
            {preview.sample.map((lead) => (
              <li key={lead.id}>
                {lead.customerName || '(no name)'} · {lead.status}
              </li>
            ))}
          </ul>
        </details>
      )}
      {state.step === 'preview' ? (
        <div class="bulk-row">
          <button type="button" disabled={preview.changes === 0} onClick={() => model.bulk.confirm()}>
            Apply to {plural(preview.changes, 'lead')}…
          </button>
          <button type="button" class="secondary" onClick={() => model.bulk.back()}>
            Back
          </button>
        </div>
      ) : (
        <div class="bulk-confirm" role="alertdialog" aria-label="Confirm the bulk action">
          <p>
            {label} {detail && <code>{detail}</code>} on {plural(preview.changes, 'lead')}?{' '}
            {destructive && preview.action === 'erase' && 'Their personal data is removed for good.'}
          </p>
          {destructive && (
            <label>
              <input
                type="checkbox"
                checked={understood}
                onChange={(e) => setUnderstood(e.currentTarget.checked)}
              />{' '}
              I understand:{' '}
              {preview.action === 'erase' ? 'this cannot be undone' : 'the leads leave the list'}
            </label>
          )}
          <div class="bulk-row">
            <button type="button" disabled={destructive && !understood} onClick={() => void model.bulk.run()}>
              Confirm
            </button>
            <button type="button" class="secondary" onClick={() => model.bulk.back()}>
              Back
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
