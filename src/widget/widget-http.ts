/** What the widget's modules share: the API's address, errors, Retry-After, and waiting. */

export class WidgetError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the API could not be reached. */
    readonly status: number,
    /** The API's error code (`validation_error`, `rate_limited`, ...), or `network` / `aborted`. */
    readonly code: string,
    /** For a 400: which fields were refused, and why. */
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'WidgetError';
  }
}

/** Where this script was loaded from: the API serves it at /widget/leadrelay.js. */
export function defaultBaseUrl(): string {
  try {
    const origin = new URL(import.meta.url).origin;
    if (origin !== 'null') return origin;
  } catch {}
  throw new WidgetError('baseUrl is required when the widget is not loaded from the API', 0, 'config');
}

/** Retry-After in milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

export async function readError(response: Response): Promise<WidgetError> {
  const body = (await response.json().catch(() => null)) as {
    error?: string;
    message?: string;
    fields?: { field: string; message: string }[];
  } | null;
  return new WidgetError(
    body?.message ?? `The API answered ${response.status}`,
    response.status,
    body?.error ?? 'http_error',
    body?.fields ?? [],
  );
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new WidgetError('Cancelled', 0, 'aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new WidgetError('Cancelled', 0, 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
