/** Reads an SSE response with fetch, over real HTTP, as a browser's EventSource would. */
export interface SseClient {
  /** The data of every unnamed event so far, parsed. */
  messages: Record<string, unknown>[];
  /** Names of the named events so far (heartbeat). */
  named: string[];
  status: number;
  headers: Headers;
  raw(): string;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const client: SseClient = {
    messages: [],
    named: [],
    status: response.status,
    headers: response.headers,
    raw: () => text,
    close: () => abort.abort(),
  };
  let text = '';
  if (response.ok && response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value, { stream: true });
          client.messages.length = 0;
          client.named.length = 0;
          for (const frame of text.split('\n\n').slice(0, -1)) {
            const lines = frame.split('\n');
            const name = lines.find((line) => line.startsWith('event: '))?.slice(7);
            const data = lines
              .filter((line) => line.startsWith('data: '))
              .map((line) => line.slice(6))
              .join('\n');
            if (name) client.named.push(name);
            else if (data) client.messages.push(JSON.parse(data));
          }
        }
      } catch {
        // aborted
      }
    })();
  } else {
    text = await response.text();
  }
  return client;
}
