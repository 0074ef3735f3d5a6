import type { FollowUp, LeadDetail, NotificationAttempt, TimelineEntry } from '../api/types.js';
import type { DetailModel } from '../state/detail.js';
import { formatTime } from './format.js';

/** The lead's story: timeline, follow-up tasks, and every delivery attempt per channel. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p class="help">Nothing has happened yet.</p>;
  return (
    <ol class="timeline">
      {entries.map((entry) => {
        const note = typeof entry.details?.note === 'string' ? entry.details.note : null;
        return (
          <li key={entry.id} class={`timeline-item timeline-${entry.type}`}>
            <span class="timeline-title">{entry.title}</span>
            <span class="timeline-meta">
              <time dateTime={entry.createdAt}>{formatTime(entry.createdAt)}</time>
              {entry.actor && entry.actor !== 'system' ? ` · by ${entry.actor}` : ''}
            </span>
            {note && <p class="note">{note}</p>}
          </li>
        );
      })}
    </ol>
  );
}

export function FollowUps({
  tasks,
  detail,
  busy,
}: {
  tasks: FollowUp[];
  detail: DetailModel;
  busy: boolean;
}) {
  if (tasks.length === 0) return <p class="help">No follow-up tasks.</p>;
  return (
    <ul class="tasks">
      {tasks.map((task) => (
        <li key={task.id} class="task">
          <span class="task-text">
            <span class="task-title">{task.title}</span>
            <span class="task-meta">
              {task.status === 'open'
                ? `Open · due ${formatTime(task.dueAt)}`
                : `${task.status === 'done' ? 'Done' : 'Cancelled'}${task.completedAt ? ` ${formatTime(task.completedAt)}` : ''}${task.completedBy ? ` by ${task.completedBy}` : ''}`}
            </span>
          </span>
          {task.status === 'open' && (
            <button
              type="button"
              class="secondary small"
              disabled={busy}
              onClick={() => void detail.completeTask(task.id)}
            >
              Complete<span class="visually-hidden">: {task.title}</span>
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

function byChannel(attempts: NotificationAttempt[]): Map<string, NotificationAttempt[]> {
  const channels = new Map<string, NotificationAttempt[]>();
  for (const attempt of attempts) {
    const list = channels.get(attempt.channel) ?? [];
    list.push(attempt);
    channels.set(attempt.channel, list);
  }
  return channels;
}

const STATUS_MARK: Record<string, string> = { sent: '✓', failed: '✕', skipped: '–' };

/** Dead events (delivery gave up), shown at the top of the lead with their replay button. */
export function DeadEvents({ data, detail, busy }: { data: LeadDetail; detail: DetailModel; busy: boolean }) {
  const dead = data.events.filter((event) => event.outcome === 'dead');
  if (dead.length === 0) return null;
  return (
    <>
      {dead.map((event) => (
        <section key={event.id} class="dead-event" aria-label={`Dead event ${event.type}`}>
          <p>
            <strong>✕ {event.type} was not delivered</strong> after {event.attempts} attempts
            {event.lastError ? `: ${event.lastError}` : ''}.
          </p>
          <button type="button" disabled={busy} onClick={() => void detail.replay(event.id)}>
            Replay {event.type}
          </button>
        </section>
      ))}
    </>
  );
}

export function Deliveries({ data }: { data: LeadDetail }) {
  const pending = data.events.filter((event) => !event.processed);
  const channels = byChannel(data.notifications);
  return (
    <div class="deliveries">
      {pending.length > 0 && (
        <p class="help">
          {pending.length === 1 ? 'One event is' : `${pending.length} events are`} waiting for delivery.
        </p>
      )}
      {channels.size === 0 && <p class="help">No delivery attempts yet.</p>}
      {[...channels].map(([channel, attempts]) => (
        <section key={channel} class="channel" aria-label={`${channel} deliveries`}>
          <h4 class="channel-head">
            <span class="channel-name">{channel}</span>
            <span class={`delivery delivery-${attempts[0]?.status}`}>
              {STATUS_MARK[attempts[0]?.status ?? ''] ?? ''} {attempts[0]?.status}
            </span>
          </h4>
          <div class="table-wrap">
            <table class="attempts">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Result</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {attempts.map((attempt) => (
                  <tr key={attempt.id}>
                    <td>
                      <time dateTime={attempt.createdAt}>{formatTime(attempt.createdAt)}</time>
                    </td>
                    <td>
                      <span class={`delivery delivery-${attempt.status}`}>
                        {STATUS_MARK[attempt.status]} {attempt.status}
                      </span>
                      <span class="attempt-event">
                        attempt {attempt.attempt} · {attempt.eventType}
                      </span>
                    </td>
                    <td>
                      {attempt.providerStatus ?? '–'}
                      {attempt.durationMs !== null && (
                        <span class="attempt-event">{attempt.durationMs} ms</span>
                      )}
                    </td>
                    <td class="attempt-error">{attempt.error ?? '–'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </div>
  );
}
