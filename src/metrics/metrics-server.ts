import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Storage } from '../storage/storage.js';
import { renderMetrics } from './metrics.js';
import { refreshOpsGauges } from './ops-snapshot.js';

/**
 * GET /metrics on its own port (METRICS_PORT), without a key: for a scraper on a
 * private network (Render's private network, a sidecar). It answers nothing else. The
 * API process uses it instead of the key-protected /metrics route when METRICS_PORT
 * is set; the notification worker (which has no HTTP server) always uses it.
 */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  port: number;
  host: string;
  /** When given, database-backed gauges are refreshed at each scrape. */
  storage?: Storage | undefined;
  staleAfterSeconds: number;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":"not_found","message":"Only GET /metrics is served on this port"}');
      return;
    }
    void (async () => {
      if (options.storage) await refreshOpsGauges(options.storage, options.staleAfterSeconds);
      const { contentType, body } = await renderMetrics();
      response.writeHead(200, { 'content-type': contentType });
      response.end(body);
    })().catch(() => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"internal_error","message":"Could not render metrics"}');
    });
  });
  // A scraper keeps its connection open; do not let it hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
