import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of the API for tests that need the network to misbehave in
 * one precise way: lose the answer to one request after the API has handled it (the
 * request is forwarded and answered upstream, then the client's connection is cut
 * before a byte of the answer reaches it), or refuse some requests outright (a
 * corporate proxy that kills Server-Sent Events). Everything else passes through,
 * streaming answers included. The Host header is forwarded unchanged.
 */
export type RequestMatch = (method: string, path: string) => boolean;

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** What the client got: the status, `dropped` or `blocked`. */
  outcome: number | 'dropped' | 'blocked';
}

export interface HttpProxy {
  url: string;
  port: number;
  /** The next request that matches is handled upstream and its answer dropped. */
  dropNextAnswer(match: RequestMatch): void;
  /** Requests that match are cut at once (no answer) until unblock(); open ones are cut now. */
  block(match: RequestMatch): void;
  unblock(): void;
  /** Open answers cut by block(). */
  readonly cut: number;
  readonly requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startHttpProxy(target: string): Promise<HttpProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let dropMatch: RequestMatch | null = null;
  let blockMatch: RequestMatch | null = null;
  const open = new Set<{ method: string; path: string; cut: () => void }>();
  let cut = 0;

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = path.split('?')[0]!;
    const entry: ProxiedRequest = { method, path, headers: req.headers, outcome: 0 };
    requests.push(entry);
    if (blockMatch?.(method, pathname)) {
      entry.outcome = 'blocked';
      req.socket.destroy();
      return;
    }
    const drop = dropMatch?.(method, pathname) ?? false;
    if (drop) dropMatch = null;
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: req.headers,
      },
      (answer) => {
        if (drop) {
          // The API has answered (so it has stored what it stores); the client never hears.
          entry.outcome = 'dropped';
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        entry.outcome = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        const handle = {
          method,
          path: pathname,
          cut: () => {
            answer.destroy();
            req.socket.destroy();
          },
        };
        open.add(handle);
        res.on('close', () => {
          open.delete(handle);
          answer.destroy();
        });
      },
    );
    forward.on('error', () => req.socket.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    dropNextAnswer(match) {
      dropMatch = match;
    },
    get cut() {
      return cut;
    },
    block(match) {
      blockMatch = match;
      for (const handle of [...open]) {
        if (!match(handle.method, handle.path)) continue;
        handle.cut();
        cut++;
      }
    },
    unblock() {
      blockMatch = null;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
