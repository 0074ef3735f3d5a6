import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api/client.js';
import { type AuditEntry, listAudit } from '../api/team.js';
import type { PageProps } from '../pages.js';
import { formatTime } from './format.js';

/** #/audit: who changed what, newest first, refusals included (admins and the owner). */
export function AuditPage({ model }: PageProps) {
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor: string | null) => {
    try {
      const page = await listAudit(model.api, cursor);
      setItems((current) => (cursor ? [...current, ...page.items] : page.items));
      setNext(page.nextCursor);
      setError(null);
    } catch (failure) {
      setError(`Could not load the audit log: ${errorText(failure)}`);
    }
  };
  useEffect(() => void load(null), []);

  return (
    <section class="card" aria-labelledby="audit-heading">
      <div class="card-head">
        <h2 id="audit-heading">Audit log</h2>
        <button type="button" class="secondary small" onClick={() => void load(null)}>
          Refresh
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="leads-table audit-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">On</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {items.map((entry) => (
            <tr key={entry.id} class={entry.status === 'failure' ? 'audit-failure' : ''}>
              <td>{formatTime(entry.createdAt)}</td>
              <td>
                {entry.actorName} <span class="help">({entry.actorRole})</span>
              </td>
              <td>{entry.action}</td>
              <td>{entry.resourceType ? `${entry.resourceType} ${entry.resourceId ?? ''}` : '–'}</td>
              <td>
                {entry.status} {entry.httpStatus ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <button type="button" class="secondary more" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}
