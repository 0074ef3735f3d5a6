/**
 * The one way the dashboard talks to the API: it holds the admin key (in this tab's
 * sessionStorage), sends it with every request, and turns every failure into an
 * ApiError with a message fit to show. A refused key signs the tab out (listeners of
 * onSignedOut re-render the sign-in view); nothing else in the dashboard reads the key.
 */
const KEY_STORAGE = 'leadrelay.adminKey';

export class ApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when the API could not be reached. */
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH';
  query?: Query;
  body?: unknown;
}

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export class ApiClient {
  private key: string | null = sessionStorage.getItem(KEY_STORAGE);
  private readonly signedOut = new Set<(reason: string | null) => void>();

  get signedIn(): boolean {
    return this.key !== null;
  }

  signIn(key: string): void {
    this.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
  }

  signOut(reason: string | null = null): void {
    this.key = null;
    sessionStorage.removeItem(KEY_STORAGE);
    for (const listener of this.signedOut) listener(reason);
  }

  onSignedOut(listener: (reason: string | null) => void): () => void {
    this.signedOut.add(listener);
    return () => this.signedOut.delete(listener);
  }

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.fetch(path, options);
    return (await response.json()) as T;
  }

  /** The raw response (CSV export), after the same auth and error handling. */
  async fetch(path: string, options: RequestOptions = {}): Promise<Response> {
    if (!this.key) throw new ApiError('Not signed in', 401, 'unauthorized');
    let response: Response;
    try {
      response = await fetch(`${path}${queryString(options.query)}`, {
        method: options.method ?? 'GET',
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch {
      throw new ApiError('The API cannot be reached', 0, 'network');
    }
    if (response.ok) return response;
    const body = (await response.json().catch(() => null)) as {
      error?: string;
      message?: string;
      fields?: { field: string; message: string }[];
    } | null;
    if (response.status === 401) {
      this.signOut('That key was refused. Check ADMIN_API_KEY (or the key printed at first start).');
    }
    const fields = body?.fields?.map((f) => `${f.field} ${f.message}`).join('; ');
    const message = fields || body?.message || `The API answered ${response.status}`;
    throw new ApiError(message, response.status, body?.error ?? 'http_error');
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
