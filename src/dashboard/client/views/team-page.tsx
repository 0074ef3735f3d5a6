import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../api/client.js';
import { addMember, listTeam, rotateToken, type TeamMember, updateMember } from '../api/team.js';
import type { PageProps } from '../pages.js';

/**
 * #/team: the members (admins and the owner; agents get the API's 403 as a message),
 * add one, mark away or back, rotate a token. A new token is shown once, here, and
 * never again.
 */
export function TeamPage({ model }: PageProps) {
  const [members, setMembers] = useState<TeamMember[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<{ name: string; token: string } | null>(null);
  const [form, setForm] = useState({ name: '', email: '', role: 'agent' as 'admin' | 'agent' });

  const reload = async () => {
    try {
      setMembers((await listTeam(model.api)).items);
      setError(null);
    } catch (failure) {
      setError(`Could not load the team: ${errorText(failure)}`);
    }
  };
  useEffect(() => void reload(), []);

  const run = async (action: () => Promise<unknown>) => {
    try {
      await action();
      await reload();
      await model.team.load();
    } catch (failure) {
      setError(`Failed: ${errorText(failure)}`);
    }
  };

  return (
    <section class="card" aria-labelledby="team-heading">
      <div class="card-head">
        <h2 id="team-heading">Team</h2>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {token && (
        <p class="token-once" role="status">
          Access token for {token.name} (shown once; copy it now): <code>{token.token}</code>
        </p>
      )}
      <table class="leads-table team-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Open leads</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <tr key={member.id} data-member={member.id}>
              <td>
                {member.name}
                <span class="help"> {member.email}</span>
              </td>
              <td>{member.role}</td>
              <td>
                {member.openLeads}
                {member.capacity !== null ? ` / ${member.capacity}` : ''}
              </td>
              <td>{member.active ? 'Available' : 'Away'}</td>
              <td>
                <button
                  type="button"
                  class="secondary small"
                  onClick={() =>
                    void run(() => updateMember(model.api, member.id, { active: !member.active }))
                  }
                >
                  {member.active ? 'Mark away' : 'Mark back'}
                </button>{' '}
                <button
                  type="button"
                  class="secondary small"
                  onClick={() =>
                    void run(async () => {
                      const rotated = await rotateToken(model.api, member.id);
                      setToken({ name: member.name, token: rotated.token });
                    })
                  }
                >
                  Rotate token
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="filters"
        aria-label="Add a team member"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const created = await addMember(model.api, form);
            setToken({ name: created.member.name, token: created.token });
            setForm({ name: '', email: '', role: 'agent' });
          });
        }}
      >
        <div class="field">
          <label for="member-name">Name</label>
          <input
            id="member-name"
            required
            maxLength={120}
            value={form.name}
            onInput={(event) => setForm({ ...form, name: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="member-email">Email</label>
          <input
            id="member-email"
            type="email"
            required
            value={form.email}
            onInput={(event) => setForm({ ...form, email: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="member-role">Role</label>
          <select
            id="member-role"
            value={form.role}
            onChange={(event) => setForm({ ...form, role: event.currentTarget.value as 'admin' | 'agent' })}
          >
            <option value="agent">Agent</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <div class="filter-actions">
          <button type="submit">Add member</button>
        </div>
      </form>
    </section>
  );
}
