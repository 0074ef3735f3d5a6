import { ApiClient } from './api/client.js';
import { createLiveConnection } from './live/connection.js';
import { changedLeadIds, concernsLead, createRefreshers } from './live/refreshers.js';
import { createBulkState } from './state/bulk.js';
import { createConversationState } from './state/conversation.js';
import { createDetailState } from './state/detail.js';
import { createLeadsState } from './state/leads.js';
import { createStore } from './state/store.js';
import { createSummaryState } from './state/summary.js';
import { createTeamState } from './state/team.js';

/**
 * The composition root: one API client, the core models, the live connection, and
 * which model re-reads what on a live update. Views receive this object and render
 * from it; a new view that needs more state creates its own model from `api` and
 * registers a refresher while shown (see docs/dashboard.md, "Adding a view").
 */
export interface Session {
  signedIn: boolean;
  /** Why the tab was signed out (a refused key), shown on the sign-in form. */
  reason: string | null;
}

export function createDashboard() {
  const api = new ApiClient();
  const session = createStore<Session>({ signedIn: api.signedIn, reason: null });
  const refreshers = createRefreshers();
  const live = createLiveConnection(api, refreshers.refreshAll);
  const summary = createSummaryState(api);
  const leads = createLeadsState(api);
  const team = createTeamState(api);
  if (api.signedIn) void team.load();
  const detail = createDetailState(api, () => {
    summary.invalidate();
    live.refreshSoon();
  });
  // A finished bulk action changed many leads at once (batches send no per-lead messages).
  const bulk = createBulkState(api, () => {
    summary.invalidate();
    void leads.refresh().catch(() => {});
  });

  // The open lead's conversation; its pane registers its own refresher while shown.
  const conversation = createConversationState(api, (leadId, change) => {
    if (change === 'read') {
      // Only the unread counts changed: the list's row and the open lead.
      void leads.refresh([leadId]).catch(() => {});
      return;
    }
    // A reply may be the first contact: SLA, counters, timeline.
    summary.invalidate();
    live.refreshSoon();
  });

  refreshers.register((messages) => {
    if (messages === null) return leads.refresh();
    const ids = changedLeadIds(messages);
    return ids.length > 0 ? leads.refresh(ids) : undefined;
  });
  refreshers.register((messages) => {
    const { id } = detail.store.get();
    if (!id) return undefined;
    return messages === null || concernsLead(messages, id) ? detail.refresh() : undefined;
  });
  refreshers.register((messages) =>
    Promise.all([summary.refreshStats(messages !== null), summary.refreshOverview()]),
  );
  refreshers.register((messages) => {
    const ids = (messages ?? []).filter((m) => m.kind === 'bulk.progress').map((m) => String(m.id));
    return ids.length > 0 ? bulk.onProgress(ids) : undefined;
  });

  api.onSignedOut((reason) => {
    live.stop();
    session.set({ signedIn: false, reason });
  });

  return {
    api,
    session,
    live,
    refreshers,
    summary,
    leads,
    detail,
    conversation,
    team,
    bulk,
    signIn(key: string) {
      api.signIn(key);
      session.set({ signedIn: true, reason: null });
      live.start();
      void team.load();
    },
    signOut() {
      api.signOut(null);
    },
  };
}

export type DashboardModel = ReturnType<typeof createDashboard>;
