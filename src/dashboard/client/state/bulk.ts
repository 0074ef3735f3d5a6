import {
  type BulkAction,
  type BulkPreview,
  type BulkRequest,
  countMatching,
  getBulk,
  listBulk,
  previewBulk,
  runBulk,
  undoBulk,
} from '../api/bulk.js';
import { type ApiClient, errorText } from '../api/client.js';
import type { LeadFilters } from '../api/types.js';
import { createStore } from './store.js';

/**
 * Bulk actions in the leads view. The selection is either some rows (ids) or "all N
 * matching this filter"; the flow is choose → preview (a dry run) → confirm → run,
 * then the action's progress (live `bulk.progress` messages, and a poll while one
 * runs) and the history with Undo.
 *
 *   step: idle -> previewing -> preview -> confirming -> running -> idle
 */
export interface BulkSelection {
  ids: string[];
  /** Every lead matching these filters, not just the checked rows. */
  allMatching: { filters: LeadFilters; count: number } | null;
}

export interface BulkState {
  selection: BulkSelection;
  step: 'idle' | 'previewing' | 'preview' | 'confirming';
  request: BulkRequest | null;
  preview: BulkPreview | null;
  /** The action being watched (just started, or an undo). */
  current: BulkAction | null;
  history: BulkAction[];
  error: string | null;
}

const EMPTY_SELECTION: BulkSelection = { ids: [], allMatching: null };
const POLL_MS = 1000;

export function createBulkState(api: ApiClient, onFinished: () => void) {
  const store = createStore<BulkState>({
    selection: EMPTY_SELECTION,
    step: 'idle',
    request: null,
    preview: null,
    current: null,
    history: [],
    error: null,
  });
  let poll: ReturnType<typeof setTimeout> | undefined;

  const fail = (what: string, error: unknown) =>
    store.set((s) => ({
      ...s,
      step: s.step === 'previewing' ? 'idle' : s.step,
      error: `${what}: ${errorText(error)}`,
    }));

  async function loadHistory(): Promise<void> {
    const { items } = await listBulk(api);
    store.set((s) => ({ ...s, history: items }));
  }

  /** Re-reads the watched action; polls while it is open (the stream may be down). */
  async function watch(id: string): Promise<void> {
    clearTimeout(poll);
    try {
      const action = await getBulk(api, id);
      const wasOpen = store.get().current?.status === 'queued' || store.get().current?.status === 'running';
      store.set((s) => ({ ...s, current: action }));
      const open = action.status === 'queued' || action.status === 'running';
      if (open) poll = setTimeout(() => void watch(id), POLL_MS);
      else if (wasOpen) {
        onFinished();
        await loadHistory();
      }
    } catch (error) {
      fail('Could not read the bulk action', error);
      poll = setTimeout(() => void watch(id), POLL_MS * 3);
    }
  }

  return {
    store,
    loadHistory,
    toggle(id: string, on: boolean) {
      store.set((s) => {
        const ids = s.selection.ids.filter((other) => other !== id);
        return { ...s, selection: { ids: on ? [...ids, id] : ids, allMatching: null } };
      });
    },
    selectPage(ids: string[], on: boolean) {
      store.set((s) => ({ ...s, selection: { ids: on ? ids : [], allMatching: null } }));
    },
    async selectAllMatching(filters: LeadFilters) {
      try {
        const { count } = await countMatching(api, filters);
        store.set((s) => ({ ...s, selection: { ids: s.selection.ids, allMatching: { filters, count } } }));
      } catch (error) {
        fail('Could not count the matching leads', error);
      }
    },
    clearSelection() {
      store.set((s) => ({ ...s, selection: EMPTY_SELECTION, step: 'idle', preview: null, request: null }));
    },
    async preview(request: BulkRequest) {
      store.set((s) => ({ ...s, step: 'previewing', request, preview: null, error: null }));
      try {
        const preview = await previewBulk(api, request);
        store.set((s) => ({ ...s, step: 'preview', preview }));
      } catch (error) {
        fail('Preview failed', error);
      }
    },
    confirm() {
      store.set((s) => ({ ...s, step: 'confirming' }));
    },
    back() {
      store.set((s) => ({ ...s, step: s.step === 'confirming' ? 'preview' : 'idle' }));
    },
    async run() {
      const { request, preview } = store.get();
      if (!request || !preview) return;
      try {
        const action = await runBulk(api, request, preview.confirmToken);
        store.set((s) => ({
          ...s,
          step: 'idle',
          preview: null,
          request: null,
          selection: EMPTY_SELECTION,
          current: action,
          error: null,
        }));
        await loadHistory();
        await watch(action.id);
      } catch (error) {
        fail('The bulk action was not started', error);
      }
    },
    async undo(id: string) {
      try {
        const action = await undoBulk(api, id);
        store.set((s) => ({ ...s, current: action, error: null }));
        await loadHistory();
        await watch(action.id);
      } catch (error) {
        fail('Undo was refused', error);
      }
    },
    /** A live `bulk.progress` message: update the watched action and the history. */
    async onProgress(ids: string[]) {
      const current = store.get().current;
      if (current && ids.includes(current.id)) await watch(current.id);
      else if (ids.some((id) => store.get().history.some((action) => action.id === id))) await loadHistory();
    },
  };
}

export type BulkModel = ReturnType<typeof createBulkState>;
