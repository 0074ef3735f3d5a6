import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * A minimal Server-Sent Events client for the harness (Node 20 has no EventSource):
 * one plain HTTP connection, `data:` lines joined per event, each event handed over
 * with the time its last byte arrived (performance.now(), the harness's one clock).
 */
export interface SseConnection {
  close(): void;
}

export function openSse(
  url: string,
  headers: Record<string, string>,
  onEvent: (event: { type: string; data: string; at: number }) => void,
): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`SSE ${url.split('?')[0]} answered ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (data.length > 0) onEvent({ type, data: data.join('\n'), at });
          }
        });
        res.on('error', () => {});
        resolve({ close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
