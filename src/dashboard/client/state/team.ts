import { type ApiClient, errorText } from '../api/client.js';
import { getMe, listAssignees, type Me } from '../api/team.js';
import { createStore } from './store.js';

/**
 * Who is signed in and whom leads can go to: read once after sign-in (and again after
 * team changes), used by the assignee filter, the reassign control and the navigation
 * (agents see no Team or Audit view).
 */
export interface TeamState {
  me: Me | null;
  assignees: { id: string; name: string; active: boolean }[];
  error: string | null;
}

export function createTeamState(api: ApiClient) {
  const store = createStore<TeamState>({ me: null, assignees: [], error: null });
  return {
    store,
    async load(): Promise<void> {
      try {
        const [me, assignees] = await Promise.all([getMe(api), listAssignees(api)]);
        store.set({ me, assignees: assignees.items, error: null });
      } catch (error) {
        store.set((s) => ({ ...s, error: `Could not load the team: ${errorText(error)}` }));
      }
    },
  };
}

export type TeamModel = ReturnType<typeof createTeamState>;
