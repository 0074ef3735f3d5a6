import type { Inquiry, Lead } from '../api/types.js';
import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';
import { formatTime } from './format.js';

/** The lead's owner, changed from the detail (PATCH assignedTo: a member id, or nobody). */
export function Reassign({ model, lead, busy }: { model: DashboardModel; lead: Lead; busy: boolean }) {
  const team = useStore(model.team.store);
  return (
    <div class="action-row">
      <label class="inline-label" for="detail-assignee">
        Owner
      </label>
      <select
        id="detail-assignee"
        value={lead.assignedTo ?? ''}
        disabled={busy}
        onChange={(event) => void model.detail.reassign(event.currentTarget.value || null)}
      >
        <option value="">Nobody</option>
        {team.assignees.map((member) => (
          <option key={member.id} value={member.id}>
            {member.name}
            {member.active ? '' : ' (away)'}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A returning visitor's later submissions, oldest first; values rendered as text. */
export function Inquiries({ inquiries }: { inquiries: Inquiry[] }) {
  return (
    <ol class="timeline inquiries">
      {inquiries.map((inquiry) => (
        <li key={inquiry.id}>
          <span class="help">{formatTime(inquiry.createdAt)}</span>{' '}
          <strong>{inquiry.intent ?? inquiry.source}</strong>
          {inquiry.message ? `: ${inquiry.message}` : ''}
        </li>
      ))}
    </ol>
  );
}
