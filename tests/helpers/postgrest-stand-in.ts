import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StorageQueryError } from '../../src/storage/errors.js';
import type { SqlStorage } from '../../src/storage/storage.js';

/**
 * A test-only stand-in for PostgREST's rpc route: POST /rest/v1/rpc/<function> with
 * JSON named arguments runs `select <function>(name => value, …)` on the test
 * database and answers like PostgREST (2xx JSON result, or {code, message, details,
 * hint} with PostgREST's status mapping). No real PostgREST runs in the tests.
 */
export interface PostgrestStandIn {
  url: string;
  requests: { fn: string; apikey: string | undefined; authorization: string | undefined }[];
  close(): Promise<void>;
}

function statusFor(code: string): number {
  if (code === '23505') return 409;
  if (code === '42501') return 403;
  if (code === '42883') return 404;
  return 400;
}

export async function startPostgrestStandIn(
  storage: SqlStorage,
  serviceKey: string,
): Promise<PostgrestStandIn> {
  const requests: PostgrestStandIn['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const match = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(req.url ?? '');
    const apikey = req.headers.apikey as string | undefined;
    requests.push({ fn: match?.[1] ?? '', apikey, authorization: req.headers.authorization });
    if (req.method !== 'POST' || !match) return send(404, { code: 'PGRST000', message: 'not found' });
    if (apikey !== serviceKey) return send(401, { code: 'PGRST301', message: 'invalid api key' });
    try {
      const args = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
      send(200, await storage.call(match[1]!, args));
    } catch (error) {
      if (error instanceof StorageQueryError) {
        return send(statusFor(error.code), {
          code: error.code,
          message: error.message,
          details: error.detail ?? null,
          hint: null,
        });
      }
      send(503, { code: 'PGRST001', message: 'database unavailable', details: null, hint: null });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
