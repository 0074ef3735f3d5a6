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

/** Where the database places an error: names of schema objects, never row values. */
export interface DatabaseErrorPlace {
  constraint?: string | undefined;
  table?: string | undefined;
  column?: string | undefined;
}

export class StorageQueryError extends Error {
  readonly constraint?: string;
  readonly table?: string;
  readonly column?: string;
  /**
   * The database's DETAIL, for code that needs it (e.g. a stand-in echoing it). Postgres
   * puts whole rows there ("Failing row contains (…, +9715…, a@b.c)"), so it is not
   * enumerable and the log form (`forLog`) leaves it out.
   */
  declare readonly detail?: string;

  constructor(
    message: string,
    readonly code: string,
    detail?: string,
    place: DatabaseErrorPlace = {},
  ) {
    super(message);
    this.name = 'StorageQueryError';
    Object.defineProperty(this, 'detail', { value: detail, enumerable: false });
    const named = { ...placeNamedIn(message), ...withoutUndefined(place) };
    if (named.constraint) this.constraint = named.constraint;
    if (named.table) this.table = named.table;
    if (named.column) this.column = named.column;
  }

  /** What a log line may hold: SQLSTATE, constraint, table, column, and the message without values. */
  forLog(): Record<string, unknown> {
    return databaseErrorForLog(this.name, this);
  }
}

/**
 * The schema objects a Postgres message names (PostgREST passes only the message
 * through, so Supabase mode recovers them from there). For logs only: statuses are
 * decided by SQLSTATE, never by message text.
 */
function placeNamedIn(message: string): DatabaseErrorPlace {
  return withoutUndefined({
    constraint: /constraint "([^"]+)"/.exec(message)?.[1],
    table: /(?:relation|table) "([^"]+)"/.exec(message)?.[1],
    column: /column "([^"]+)"/.exec(message)?.[1],
  });
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

interface DatabaseErrorLike extends DatabaseErrorPlace {
  code: string;
  message: string;
  stack?: string | undefined;
}

/**
 * A database error reduced for logging. Postgres quotes both identifiers and values in
 * its messages (`invalid input syntax for type uuid: "…"` echoes the input), so a quoted
 * part survives only when it is the constraint, table or column the error names.
 */
function databaseErrorForLog(type: string, error: DatabaseErrorLike): Record<string, unknown> {
  const place = { ...placeNamedIn(error.message), ...withoutUndefined(pick(error)) };
  const names = new Set(Object.values(place));
  const message = error.message.replace(/"([^"]*)"/g, (quoted, inner: string) =>
    names.has(inner) ? quoted : '"[REDACTED]"',
  );
  const frames = error.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')) ?? [];
  return withoutUndefined({
    type,
    code: error.code,
    ...place,
    message,
    stack: frames.length ? [`${type}: ${message}`, ...frames].join('\n') : undefined,
  });
}

function pick(error: DatabaseErrorPlace): DatabaseErrorPlace {
  return { constraint: error.constraint, table: error.table, column: error.column };
}

/** A driver's server error (pg, PGlite): a SQLSTATE and a severity. */
function isDriverDatabaseError(value: object): value is DatabaseErrorLike {
  const candidate = value as { code?: unknown; severity?: unknown; message?: unknown };
  return (
    typeof candidate.code === 'string' &&
    typeof candidate.severity === 'string' &&
    typeof candidate.message === 'string'
  );
}

const SERIALIZE_DEPTH = 5;

/**
 * The log form of anything thrown: type, message, stack, own fields, and its `cause`
 * chain (and an AggregateError's errors). Database errors at any depth of that chain
 * are reduced to SQLSTATE, constraint, table and column; their DETAIL never appears.
 */
export function errorForLog(value: unknown, depth = 0): unknown {
  if (!(value instanceof Error)) {
    if (value !== null && typeof value === 'object' && isDriverDatabaseError(value)) {
      return databaseErrorForLog('DatabaseError', value);
    }
    return value;
  }
  if (value instanceof StorageQueryError) return value.forLog();
  if (isDriverDatabaseError(value)) return databaseErrorForLog(value.constructor.name, value);
  const out: Record<string, unknown> = {
    type: value.constructor.name,
    message: value.message,
    stack: value.stack,
  };
  for (const [key, field] of Object.entries(value)) {
    if (key === 'cause' || key === 'errors') continue;
    out[key] = field instanceof Error && depth < SERIALIZE_DEPTH ? errorForLog(field, depth + 1) : field;
  }
  if (depth < SERIALIZE_DEPTH) {
    if (value.cause !== undefined) out.cause = errorForLog(value.cause, depth + 1);
    if (value instanceof AggregateError) out.errors = value.errors.map((e) => errorForLog(e, depth + 1));
  }
  return out;
}

/** SQLSTATEs raised by leadrelay's own functions (see the foundation migration). */
export const SqlState = {
  idempotencyKeyReused: 'LR001',
  appendOnlyViolation: 'LR002',
  notFound: 'LR404',
  versionConflict: 'LR409',
  unprocessable: 'LR422',
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
