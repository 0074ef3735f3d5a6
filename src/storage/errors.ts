/**
 * Storage failures in two kinds, so that callers decide by type and code:
 * - StorageUnavailableError: the database could not be reached or did not answer in
 *   time. Nothing was written (or the transaction rolled back); retrying later is safe.
 * - StorageQueryError: the database answered with an error; `code` is its SQLSTATE
 *   (or PostgREST's code in Supabase mode).
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

export class StorageQueryError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'StorageQueryError';
  }
}

/** SQLSTATEs raised by leadrelay's own functions (see the foundation migration). */
export const SqlState = {
  idempotencyKeyReused: 'LR001',
  appendOnlyViolation: 'LR002',
  notFound: 'LR404',
  versionConflict: 'LR409',
  uniqueViolation: '23505',
} as const;

/** Server-side SQLSTATE classes that mean "the database is not available right now". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;

export function isUnavailableSqlState(code: string): boolean {
  return UNAVAILABLE_SQLSTATE.test(code);
}

/** Normalises anything thrown into an Error, for logging and classification. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  try {
    return new Error(JSON.stringify(value));
  } catch {
    return new Error(String(value));
  }
}
