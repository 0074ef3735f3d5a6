import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { toStorageError } from './sql-errors.js';
import type { SqlExecutor } from './sql-executor.js';
import { callFunction, type SqlStorage } from './storage.js';

export interface PgliteOptions {
  /** Folder for the data files; omit for an in-memory database. */
  dataDir?: string;
  /** A tarball from `dumpDataDir()` to start from (tests use a migrated template). */
  loadDataDir?: Blob;
}

/**
 * Embedded Postgres (PGlite, WASM) in this process. It runs one query at a time and
 * cannot be shared with another process, so the API and the worker run together in
 * embedded mode. NOTIFY is delivered in-process after commit.
 */
export async function openPgliteStorage(options: PgliteOptions = {}): Promise<SqlStorage & { db: PGlite }> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });

  const query = async <R extends Record<string, unknown>>(text: string, params: unknown[] = []) => {
    try {
      return (await db.query<R>(text, params)).rows;
    } catch (error) {
      throw toStorageError(error);
    }
  };

  return {
    mode: 'pglite',
    db,
    query,
    call: (fn, args) => callFunction(query, fn, args),
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>) {
      try {
        return await db.transaction(async (tx) =>
          work({
            query: async (text, params = []) => (await tx.query<never>(text, params)).rows,
            exec: async (sql) => {
              await tx.exec(sql);
            },
          }),
        );
      } catch (error) {
        throw toStorageError(error);
      }
    },
    async listen(channel, onNotify) {
      const unsubscribe = await db.listen(channel, onNotify);
      return async () => unsubscribe();
    },
    async close() {
      if (!db.closed) await db.close();
    },
  };
}
