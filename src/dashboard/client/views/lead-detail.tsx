import { useEffect, useRef, useState } from 'preact/hooks';
import { LEAD_STATUSES, type Lead, type LeadStatus } from '../api/types.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { formatTime } from './format.js';
import { LeadConversation } from './lead-conversation.js';
import { DeadEvents, Deliveries, FollowUps, Timeline } from './lead-history.js';
import { Inquiries, Reassign } from './lead-team.js';
import { SlaBadge, StatusBadge } from './sla-badge.js';

/**
 * One lead: who, what they asked, the SLA, actions (mark contacted, status, notes) and
 * its history. Every value is rendered as text (JSX children), never as HTML.
 */
export function LeadDetailView({ model, onClose }: { model: DashboardModel; onClose: () => void }) {
  const state = useStore(model.detail.store);
  const heading = useRef<HTMLHeadingElement>(null);
  const lead = state.data?.lead;

  // Opening a lead moves focus to it, so keyboard and screen-reader users land there.
  useEffect(() => {
    if (state.id) heading.current?.focus({ preventScroll: false });
  }, [state.id, Boolean(lead)]);

  return (
    <section class="card detail" aria-labelledby="detail-heading">
      <div class="card-head">
        <h2 id="detail-heading" tabIndex={-1} ref={heading}>
          {lead ? lead.customerName || '(no name)' : state.error ? 'Lead' : 'Loading…'}
        </h2>
        <button type="button" class="secondary small" onClick={onClose}>
          Close<span class="visually-hidden"> lead</span>
        </button>
      </div>
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
      {lead && state.data && (
        <>
          <div class="detail-badges">
            <StatusBadge status={lead.status} />
            <SlaBadge lead={lead} />
            <span class="badge badge-wait">{lead.source}</span>
          </div>
          <DeadEvents data={state.data} detail={model.detail} busy={state.busy} />
          <Fields lead={lead} />
          <Actions model={model} lead={lead} busy={state.busy} message={state.message} />
          <Reassign model={model} lead={lead} busy={state.busy} />
          <h3 id="conversation-heading">Conversation</h3>
          <section aria-labelledby="conversation-heading">
            <LeadConversation model={model} leadId={lead.id} />
          </section>
          {state.data.inquiries && state.data.inquiries.length > 0 && (
            <>
              <h3>Inquiries</h3>
              <Inquiries inquiries={state.data.inquiries} />
            </>
          )}
          <h3>Timeline</h3>
          <Timeline entries={state.data.timeline} />
          <h3>Follow-ups</h3>
          <FollowUps tasks={state.data.followUps} detail={model.detail} busy={state.busy} />
          <h3>Notifications</h3>
          <Deliveries data={state.data} />
        </>
      )}
    </section>
  );
}

function Fields({ lead }: { lead: Lead }) {
  const rows: [string, string | null][] = [
    ['Email', lead.customerEmail],
    ['Phone', lead.customerPhone],
    ['Intent', lead.intent],
    ['Message', lead.message],
    ['Assigned to', lead.assignee?.name ?? (lead.assignedTo ? 'a former member' : 'Nobody yet')],
    ['Received', formatTime(lead.createdAt)],
    ['First contact due', formatTime(lead.slaDueAt)],
    ['First response', lead.firstResponseAt ? formatTime(lead.firstResponseAt) : 'Not yet'],
  ];
  return (
    <dl class="fields">
      {rows.map(([label, value]) => (
        <div key={label} class="field-row">
          <dt>{label}</dt>
          <dd>{value || '–'}</dd>
        </div>
      ))}
    </dl>
  );
}

function Actions({
  model,
  lead,
  busy,
  message,
}: {
  model: DashboardModel;
  lead: Lead;
  busy: boolean;
  message: string | null;
}) {
  const [note, setNote] = useState('');
  useEffect(() => setNote(''), [lead.id]);
  return (
    <div class="actions">
      <div class="action-row">
        {lead.status === 'new' && (
          <button type="button" disabled={busy} onClick={() => void model.detail.changeStatus('contacted')}>
            Mark contacted
          </button>
        )}
        <span class="status-picker">
          <label class="inline-label" for="detail-status">
            Status
          </label>
          <select
            id="detail-status"
            value={lead.status}
            disabled={busy}
            onChange={(event) => void model.detail.changeStatus(event.currentTarget.value as LeadStatus)}
          >
            {LEAD_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </span>
        <p class="action-message" role="status">
          {message ?? ''}
        </p>
      </div>
      <form
        class="note-form"
        onSubmit={async (event) => {
          event.preventDefault();
          if (!note.trim()) return;
          if (await model.detail.addNote(note.trim())) setNote('');
        }}
      >
        <label for="detail-note">Add a note</label>
        <textarea
          id="detail-note"
          rows={2}
          maxLength={5000}
          value={note}
          onInput={(event) => setNote(event.currentTarget.value)}
        />
        <button type="submit" class="secondary" disabled={busy || !note.trim()}>
          Add note
        </button>
      </form>
    </div>
  );
}
