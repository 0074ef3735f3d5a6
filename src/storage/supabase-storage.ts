import { createClient } from '@supabase/supabase-js';
import ws from 'ws';
import { isUnavailableSqlState, StorageQueryError, StorageUnavailableError } from './errors.js';
import type { Storage } from './storage.js';

export interface SupabaseOptions {
  url: string;
  serviceRoleKey: string;
  requestTimeoutMs: number;
}

interface PostgrestError {
  code?: string;
  message?: string;
  details?: string | null;
}

/**
 * Supabase through supabase-js: every operation is `rpc` on the same SQL functions
 * the other modes call, so the logic is identical. PostgREST cannot LISTEN, so
 * `listen` resolves to null and the worker polls.
 */
export function openSupabaseStorage(options: SupabaseOptions): Storage {
  // supabase-js never retries rpc POSTs, so a timeout here cannot double a write
  // that PostgREST did not receive; one it did receive still commits or rolls back whole.
  const fetchWithTimeout: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
  const client = createClient(options.url, options.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Node 20 has no global WebSocket; supabase-js refuses to start without one.
    realtime: { transport: ws as never },
    global: { fetch: fetchWithTimeout },
  });

  return {
    mode: 'supabase',
    async call<T>(fn: string, args: Record<string, unknown> = {}) {
      const { data, error, status } = await client.rpc(fn, args);
      if (error) throw toSupabaseError(error, status);
      return data as T;
    },
    async listen() {
      return null;
    },
    async close() {
      await client.removeAllChannels();
    },
  };
}

function toSupabaseError(error: PostgrestError, status: number): Error {
  const code = error.code ?? '';
  // status 0: the request never got an answer (network, DNS, timeout).
  if (status === 0 || status === 502 || status === 503 || status === 504 || isUnavailableSqlState(code)) {
    return new StorageUnavailableError(`Supabase unavailable (status ${status}${code ? `, ${code}` : ''})`);
  }
  return new StorageQueryError(error.message ?? 'Supabase rpc failed', code, error.details ?? undefined);
}
