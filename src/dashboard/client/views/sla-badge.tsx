import type { Lead } from '../api/types.js';
import { formatTime } from './format.js';

/** A lead's SLA state in words (never colour alone): Responded, Breached, Overdue, or Due <time>. */
export function slaState(lead: Lead, now = Date.now()): { label: string; tone: 'ok' | 'bad' | 'wait' } {
  if (lead.firstResponseAt) return { label: 'Responded', tone: 'ok' };
  if (lead.slaBreached) return { label: 'Breached', tone: 'bad' };
  if (lead.slaDueAt && Date.parse(lead.slaDueAt) <= now && lead.status === 'new') {
    return { label: 'Overdue', tone: 'bad' };
  }
  if (!lead.slaDueAt) return { label: 'No SLA', tone: 'wait' };
  return {
    label: `Due ${new Date(lead.slaDueAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`,
    tone: 'wait',
  };
}

export function SlaBadge({ lead }: { lead: Lead }) {
  const { label, tone } = slaState(lead);
  return (
    <span
      class={`badge badge-${tone}`}
      title={lead.slaDueAt ? `First contact due ${formatTime(lead.slaDueAt)}` : undefined}
    >
      {tone === 'bad' ? '⚠ ' : tone === 'ok' ? '✓ ' : ''}
      {label}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}
