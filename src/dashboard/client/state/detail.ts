import { addNote, completeTask, getLead, replayEvent, setStatus } from '../api/admin.js';
import { type ApiClient, ApiError, errorText } from '../api/client.js';
import { reassign } from '../api/team.js';
import type { LeadDetail, LeadStatus } from '../api/types.js';
import { createStore } from './store.js';

/**
 * The open lead: its whole story (lead, timeline, follow-ups, events, notification
 * attempts), the actions on it, and what the last action said. Which lead is open
 * comes from the URL (#/leads/<id>); open() follows it.
 */
export interface DetailState {
  id: string | null;
  data: LeadDetail | null;
  loading: boolean;
  error: string | null;
  /** Outcome of the last action, shown next to the buttons. */
  message: string | null;
  busy: boolean;
}

export function createDetailState(api: ApiClient, onChanged: () => void) {
  const store = createStore<DetailState>({
    id: null,
    data: null,
    loading: false,
    error: null,
    message: null,
    busy: false,
  });

  async function fetchInto(id: string): Promise<void> {
    try {
      const data = await getLead(api, id);
      if (store.get().id !== id) return;
      store.set((s) => ({ ...s, data, loading: false, error: null }));
    } catch (error) {
      if (store.get().id !== id) return;
      const text =
        error instanceof ApiError && error.status === 404 ? 'This lead does not exist.' : errorText(error);
      store.set((s) => ({ ...s, loading: false, error: text }));
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  function open(id: string | null): Promise<void> {
    if (id === store.get().id) return Promise.resolve();
    store.set({ id, data: null, loading: id !== null, error: null, message: null, busy: false });
    return id ? fetchInto(id).catch(() => {}) : Promise.resolve();
  }

  /** Re-reads the open lead; throws when the API fails (the live loop reports it). */
  async function refresh(): Promise<void> {
    const { id } = store.get();
    if (id) await fetchInto(id);
  }

  async function act(action: () => Promise<unknown>, done: string): Promise<boolean> {
    const { id } = store.get();
    if (!id || store.get().busy) return false;
    store.set((s) => ({ ...s, busy: true, message: null }));
    let ok = true;
    let message = done;
    try {
      await action();
    } catch (error) {
      ok = false;
      message =
        error instanceof ApiError && error.status === 409
          ? 'Someone else changed this lead meanwhile; it is reloaded, please try again.'
          : `Failed: ${errorText(error)}`;
    }
    store.set((s) => ({ ...s, busy: false, message }));
    await fetchInto(id).catch(() => {});
    onChanged();
    return ok;
  }

  return {
    store,
    open,
    refresh,
    changeStatus(status: LeadStatus) {
      const lead = store.get().data?.lead;
      if (!lead) return Promise.resolve(false);
      return act(() => setStatus(api, lead, status), `Marked ${status}.`);
    },
    reassign(assignedTo: string | null) {
      const lead = store.get().data?.lead;
      if (!lead) return Promise.resolve(false);
      return act(() => reassign(api, lead, assignedTo), assignedTo ? 'Reassigned.' : 'Unassigned.');
    },
    addNote(note: string) {
      const id = store.get().id;
      if (!id) return Promise.resolve(false);
      return act(() => addNote(api, id, note), 'Note added.');
    },
    completeTask(taskId: number) {
      return act(() => completeTask(api, taskId), 'Task completed.');
    },
    replay(eventId: number) {
      return act(() => replayEvent(api, eventId), 'Queued for delivery again.');
    },
  };
}

export type DetailModel = ReturnType<typeof createDetailState>;
