import { useEffect, useRef, useState } from 'preact/hooks';
import { exportCsv } from '../api/admin.js';
import { errorText } from '../api/client.js';
import { LEAD_STATUSES, type Lead, type LeadFilters } from '../api/types.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { AssigneeFilter } from './assignee-filter.js';
import { BulkBar } from './bulk-bar.js';
import { formatAge, formatTime, plural } from './format.js';
import { SlaBadge, StatusBadge } from './sla-badge.js';

/**
 * The leads list: filters (kept in the URL by the page), the table and "Load more".
 * The whole row opens a lead, by mouse or keyboard: one row at a time is in the Tab
 * order (roving tabindex), the arrow keys, Home and End move between rows, Enter or
 * Space opens. Rows are keyed by lead id, so live merges keep focus where it was.
 */
interface Props {
  model: DashboardModel;
  filters: LeadFilters;
  selectedId: string | null;
  onFilters: (filters: LeadFilters) => void;
  onOpen: (id: string) => void;
}

export function LeadsList({ model, filters, selectedId, onFilters, onOpen }: Props) {
  const state = useStore(model.leads.store);
  const bulk = useStore(model.bulk.store);
  const team = useStore(model.team.store);
  // Bulk actions are for the owner and admins (the API answers agents 403).
  const canBulk = team.me !== null && team.me.role !== 'agent';
  const checked = new Set(bulk.selection.ids);
  const pageIds = state.items.map((lead) => lead.id);
  const allChecked =
    bulk.selection.allMatching !== null || (pageIds.length > 0 && pageIds.every((id) => checked.has(id)));
  const [activeId, setActiveId] = useState<string | null>(selectedId);
  const body = useRef<HTMLTableSectionElement>(null);
  const rovingId = state.items.some((lead) => lead.id === activeId) ? activeId : (state.items[0]?.id ?? null);

  useEffect(() => {
    if (selectedId) setActiveId(selectedId);
  }, [selectedId]);

  const focusRow = (index: number) => {
    const rows = body.current?.querySelectorAll<HTMLTableRowElement>('tr[data-id]');
    const row = rows?.[Math.max(0, Math.min(index, rows.length - 1))];
    if (!row) return;
    setActiveId(row.dataset.id ?? null);
    row.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const row = (event.target as HTMLElement).closest('tr[data-id]') as HTMLTableRowElement | null;
    if (!row) return;
    const index = state.items.findIndex((lead) => lead.id === row.dataset.id);
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      Home: 0,
      End: state.items.length - 1,
      PageDown: index + 10,
      PageUp: index - 10,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      focusRow(target);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      if (row.dataset.id) onOpen(row.dataset.id);
    }
  };

  return (
    <section class="card leads" aria-labelledby="leads-heading">
      <div class="card-head">
        <h2 id="leads-heading">Leads</h2>
        <p class="help" aria-live="polite">
          {state.loading && state.items.length === 0
            ? 'Loading…'
            : `${plural(state.items.length, 'lead')} shown${state.nextCursor ? ', more below' : ''}`}
        </p>
      </div>
      <Filters model={model} filters={filters} onFilters={onFilters} />
      {canBulk && (
        <BulkBar model={model} filters={filters} pageIds={pageIds} more={state.nextCursor !== null} />
      )}
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
      <div class="table-wrap">
        <table class="leads-table">
          <caption class="visually-hidden">
            Leads, newest first. Select a row to open the lead; use the arrow keys to move between rows.
          </caption>
          <thead>
            <tr>
              {canBulk && (
                <th scope="col" class="col-check">
                  <input
                    type="checkbox"
                    aria-label="Select every lead shown"
                    checked={allChecked}
                    onChange={(event) => model.bulk.selectPage(pageIds, event.currentTarget.checked)}
                  />
                </th>
              )}
              <th scope="col">Lead</th>
              <th scope="col" class="col-intent">
                Intent
              </th>
              <th scope="col">Status</th>
              <th scope="col">SLA</th>
              <th scope="col" class="col-assignee">
                Owner
              </th>
              <th scope="col" class="col-received">
                Received
              </th>
            </tr>
          </thead>
          <tbody ref={body} onKeyDown={onKeyDown}>
            {state.items.map((lead) => (
              <LeadRow
                key={lead.id}
                lead={lead}
                selected={lead.id === selectedId}
                tabbable={lead.id === rovingId}
                onOpen={onOpen}
                onFocus={setActiveId}
                check={
                  canBulk
                    ? {
                        checked: bulk.selection.allMatching !== null || checked.has(lead.id),
                        onChange: (on) => model.bulk.toggle(lead.id, on),
                      }
                    : undefined
                }
              />
            ))}
          </tbody>
        </table>
      </div>
      {!state.loading && state.items.length === 0 && state.loadedFor !== null && (
        <p class="empty">No leads match these filters.</p>
      )}
      {state.nextCursor && (
        <button
          type="button"
          class="secondary more"
          disabled={state.loadingMore}
          onClick={() => void model.leads.loadMore()}
        >
          {state.loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function LeadRow(props: {
  lead: Lead;
  selected: boolean;
  tabbable: boolean;
  onOpen: (id: string) => void;
  onFocus: (id: string) => void;
  check?: { checked: boolean; onChange: (on: boolean) => void } | undefined;
}) {
  const { lead, check } = props;
  const contact = [lead.customerEmail, lead.customerPhone].filter(Boolean).join(' · ');
  return (
    <tr
      data-id={lead.id}
      class={props.selected ? 'row selected' : 'row'}
      tabIndex={props.tabbable ? 0 : -1}
      aria-current={props.selected ? 'true' : undefined}
      onClick={() => props.onOpen(lead.id)}
      onFocus={() => props.onFocus(lead.id)}
    >
      {check && (
        <td
          class="col-check"
          onClick={(event) => event.stopPropagation()}
          onKeyDown={(event) => event.stopPropagation()}
        >
          <input
            type="checkbox"
            aria-label={`Select ${lead.customerName || 'this lead'}`}
            checked={check.checked}
            onChange={(event) => check.onChange(event.currentTarget.checked)}
          />
        </td>
      )}
      <td class="cell-lead">
        <span class="lead-name">
          {lead.customerName || '(no name)'}
          <UnreadBadge count={lead.unreadCount ?? 0} />
        </span>
        <span class="lead-contact">{contact || 'no contact details'}</span>
      </td>
      <td class="col-intent">{lead.intent ?? '–'}</td>
      <td>
        <StatusBadge status={lead.status} />
      </td>
      <td>
        <SlaBadge lead={lead} />
      </td>
      <td class="col-assignee">{lead.assignee?.name ?? '–'}</td>
      <td class="col-received">
        <time dateTime={lead.createdAt} title={formatTime(lead.createdAt)}>
          {formatAge(lead.createdAt)}
        </time>
        <span class="row-open" aria-hidden="true">
          ›
        </span>
      </td>
    </tr>
  );
}

/** Unread visitor messages, in words (the number alone would not say what it counts). */
function UnreadBadge({ count }: { count: number }) {
  if (count <= 0) return null;
  return (
    <span class="badge badge-unread" title={plural(count, 'unread message')}>
      {count > 99 ? '99+' : count}
      <span class="visually-hidden"> {plural(count, 'unread message')}</span>
    </span>
  );
}

function Filters({ model, filters, onFilters }: Pick<Props, 'model' | 'filters' | 'onFilters'>) {
  const [q, setQ] = useState(filters.q ?? '');
  const [exportError, setExportError] = useState<string | null>(null);
  useEffect(() => setQ(filters.q ?? ''), [filters.q]);
  const change = (patch: Partial<LeadFilters>) => {
    const next: LeadFilters = { ...filters, ...patch };
    for (const name of Object.keys(next) as (keyof LeadFilters)[]) if (!next[name]) delete next[name];
    onFilters(next);
  };
  const download = async () => {
    setExportError(null);
    try {
      const response = await exportCsv(model.api, filters);
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = `leads-${new Date().toISOString().slice(0, 10)}.csv`;
      link.click();
      URL.revokeObjectURL(url);
    } catch (error) {
      setExportError(`Export failed: ${errorText(error)}`);
    }
  };
  const active = Object.keys(filters).length > 0;
  return (
    <form
      class="filters"
      aria-label="Filter leads"
      onSubmit={(event) => {
        event.preventDefault();
        change({ q: q.trim() || undefined });
      }}
    >
      <div class="field field-grow">
        <label for="filter-q">Search</label>
        <input
          id="filter-q"
          type="search"
          placeholder="Name, email or phone"
          value={q}
          onInput={(event) => setQ(event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select
          id="filter-status"
          value={filters.status ?? ''}
          onChange={(event) =>
            change({ status: (event.currentTarget.value || undefined) as LeadFilters['status'] })
          }
        >
          <option value="">Any</option>
          {LEAD_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status[0]!.toUpperCase() + status.slice(1)}
            </option>
          ))}
        </select>
      </div>
      <AssigneeFilter
        model={model}
        value={filters.assignedTo}
        onChange={(assignedTo) => change({ assignedTo })}
      />
      <div class="field">
        <label for="filter-sla">SLA</label>
        <select
          id="filter-sla"
          value={filters.sla_breached ?? ''}
          onChange={(event) =>
            change({ sla_breached: (event.currentTarget.value || undefined) as LeadFilters['sla_breached'] })
          }
        >
          <option value="">Any</option>
          <option value="true">Breached</option>
          <option value="false">Not breached</option>
        </select>
      </div>
      <div class="filter-actions">
        <button type="submit">Search</button>
        {active && (
          <button type="button" class="secondary" onClick={() => onFilters({})}>
            Clear
          </button>
        )}
        <button type="button" class="secondary" onClick={() => void download()}>
          Export CSV
        </button>
      </div>
      {exportError && (
        <p class="error" role="alert">
          {exportError}
        </p>
      )}
    </form>
  );
}
