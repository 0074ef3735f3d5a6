import { isUnavailableSqlState, StorageQueryError, StorageUnavailableError, toError } from './errors.js';

interface ServerError {
  code: string;
  severity: string;
  message: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

/** Errors the server sent back carry a SQLSTATE and a severity; transport failures do not. */
function isServerError(value: unknown): value is ServerError {
  const candidate = value as Partial<ServerError> | null;
  return typeof candidate?.code === 'string' && typeof candidate.severity === 'string';
}

/** Maps an error from pg or PGlite onto the storage error kinds. */
export function toStorageError(value: unknown): Error {
  if (value instanceof StorageQueryError || value instanceof StorageUnavailableError) return value;
  if (isServerError(value)) {
    if (isUnavailableSqlState(value.code)) {
      return new StorageUnavailableError(`database unavailable (${value.code})`, { cause: value });
    }
    return new StorageQueryError(value.message, value.code, value.detail, {
      constraint: value.constraint,
      table: value.table,
      column: value.column,
    });
  }
  const error = toError(value);
  return new StorageUnavailableError(`database unreachable: ${error.message}`, { cause: error });
}
