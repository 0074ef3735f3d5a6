import type { StorageMode } from '../config.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * The one storage interface. Every operation of leadrelay is a SQL function in
 * supabase/migrations that takes named arguments and returns jsonb, so the same
 * call runs on embedded PGlite, on any Postgres, and through Supabase's PostgREST
 * `rpc` endpoint.
 */
export interface Storage {
  readonly mode: StorageMode;
  /** Calls SQL function `fn` with named arguments; resolves to its jsonb result. */
  call<T = unknown>(fn: string, args?: Record<string, unknown>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel. Resolves to an unsubscribe function, or to
   * null where the mode cannot listen (Supabase rpc): callers then poll.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    options?: ListenOptions,
  ): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called after the subscription was re-established (the connection dropped, or went
   * silent and was replaced): notifications sent meanwhile are lost, so look for
   * yourself. Never called on PGlite (in-process, nothing to lose).
   */
  onReconnect?: () => void;
}

/** Storage backed by a SQL connection (PGlite, Postgres): it can also run plain SQL. */
export interface SqlStorage extends Storage {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>;
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

export function isSqlStorage(storage: Storage): storage is SqlStorage {
  return 'query' in storage;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** `select fn(a => $1, b => $2) as result`: named notation, so argument order never matters. */
export function functionCallSql(
  fn: string,
  args: Record<string, unknown>,
): { text: string; params: unknown[] } {
  if (!IDENTIFIER.test(fn)) throw new Error(`Invalid SQL function name: ${fn}`);
  const names = Object.keys(args).filter((name) => args[name] !== undefined);
  for (const name of names) {
    if (!IDENTIFIER.test(name)) throw new Error(`Invalid SQL argument name: ${name}`);
  }
  const list = names.map((name, index) => `${name} => $${index + 1}`).join(', ');
  return { text: `select ${fn}(${list}) as result`, params: names.map((name) => args[name]) };
}

type RowQuery = <R extends Record<string, unknown>>(text: string, params?: unknown[]) => Promise<R[]>;

/** `call` for SQL-backed storage: run the function through `query` and unwrap its jsonb result. */
export async function callFunction<T>(
  query: RowQuery,
  fn: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const { text, params } = functionCallSql(fn, args);
  const rows = await query<{ result: T }>(text, params);
  return rows[0]?.result as T;
}
