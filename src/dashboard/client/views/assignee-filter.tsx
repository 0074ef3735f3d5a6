import type { DashboardModel } from '../dashboard.js';
import { useStore } from '../state/store.js';

/** The list's owner filter: anyone, "Mine" (signed in as a member), unassigned, or one member. */
export function AssigneeFilter({
  model,
  value,
  onChange,
}: {
  model: DashboardModel;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
}) {
  const team = useStore(model.team.store);
  return (
    <div class="field">
      <label for="filter-assignee">Owner</label>
      <select
        id="filter-assignee"
        value={value ?? ''}
        onChange={(event) => onChange(event.currentTarget.value || undefined)}
      >
        <option value="">Anyone</option>
        {team.me?.id && <option value="me">Mine</option>}
        <option value="unassigned">Unassigned</option>
        {team.assignees.map((member) => (
          <option key={member.id} value={member.id}>
            {member.name}
          </option>
        ))}
      </select>
    </div>
  );
}
