import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The slice of `fetch` that the Slack and Telegram libraries use (POST a string body,
 * read status, headers and text), on node:http with keep-alive agents. Both libraries
 * take a `fetch` option; undici's fetch builds a Request, web streams and a tee per
 * call, which the drain benchmark's profile showed as the largest single cost of a
 * send after nodemailer (bench/profile-worker.ts). Anything this does not cover (a
 * stream or form body) goes to the global fetch unchanged. Redirects are never
 * followed (Slack's client asks for `redirect: 'error'`): a 3xx is a non-ok answer.
 */
export interface LightResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

const httpAgent = new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
const httpsAgent = new HttpsAgent({ keepAlive: true, scheduling: 'lifo' });

export function lightFetch(input: string | URL | Request, init: RequestInit = {}): Promise<LightResponse> {
  // Telegram's client posts URLSearchParams (form-encoded, its content type set).
  const body = init.body instanceof URLSearchParams ? init.body.toString() : init.body;
  if (input instanceof Request || (body != null && typeof body !== 'string')) {
    return fetch(input, init) as Promise<unknown> as Promise<LightResponse>;
  }
  const url = typeof input === 'string' ? new URL(input) : input;
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const request = (secure ? httpsRequest : httpRequest)(url, {
      method: init.method ?? 'GET',
      // A length rather than chunked encoding, as fetch sends a string body.
      headers: { ...flatHeaders(init.headers), 'content-length': String(Buffer.byteLength(body ?? '')) },
      agent: secure ? httpsAgent : httpAgent,
      signal: signal ?? undefined,
    });
    request.once('error', reject);
    request.once('response', (response) => resolve(readResponse(response)));
    request.end(body ?? undefined);
  });
}

function readResponse(response: IncomingMessage): LightResponse {
  const status = response.statusCode ?? 0;
  const chunks: Buffer[] = [];
  const text = new Promise<string>((resolve, reject) => {
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
    response.once('aborted', () => reject(new Error('response aborted')));
  });
  // Read at once so the socket goes back to the pool whether or not the caller reads.
  text.catch(() => {});
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? '',
    headers: {
      get(name) {
        const value = response.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: () => text,
    json: async () => JSON.parse(await text) as unknown,
  };
}

function flatHeaders(headers: HeadersInit | undefined): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) {
    const flat: Record<string, string> = {};
    headers.forEach((value, name) => {
      flat[name] = value;
    });
    return flat;
  }
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return headers as Record<string, string>;
}
