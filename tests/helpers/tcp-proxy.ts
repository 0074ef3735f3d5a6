import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the shared Postgres so a test can cut one client's
 * connection (drop every open socket and refuse new ones) without stopping the
 * server other tests use.
 */
export interface TcpProxy {
  port: number;
  /** Drops open connections and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /**
   * A half-open link: the open connections stay open but nothing more passes through
   * them, and neither end hears of it (what a NAT or load balancer that forgot a flow
   * does). New connections work.
   */
  freeze(): void;
  /** How many connections were dropped by cuts. */
  dropped: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;
  const state = { dropped: 0 };
  const server: Server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
      pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get dropped() {
      return state.dropped;
    },
    cut() {
      isCut = true;
      state.dropped += open.size / 2;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      isCut = false;
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop: the bytes vanish, the sockets never close.
        client.on('data', () => {});
        upstream.on('data', () => {});
      }
      pairs.clear();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
