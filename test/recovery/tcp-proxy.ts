import net from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL, so a test can take the database "away" for a while
 * without touching the shared server: refuse() makes new connections fail at once (as if the server
 * were down; existing ones are left to the caller to cut, e.g. with pg_terminate_backend), cut()
 * also resets every open connection, accept() lets connections through again. stall() makes the database
 * accept connections but never answer (a partition or a frozen host: nothing is reset, bytes just stop),
 * resume() lets the held bytes through.
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections currently proxied. */
  readonly open: number;
  /** Connections refused since start. */
  readonly refused: number;
  refuse(): void;
  cut(): void;
  accept(): void;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let refusing = false;
  let refused = 0;
  let stalled = false;
  const server = net.createServer((client) => {
    if (refusing) {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get open() {
      return pairs.size;
    },
    get refused() {
      return refused;
    },
    refuse() {
      refusing = true;
    },
    cut() {
      refusing = true;
      for (const { client, upstream } of [...pairs]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    accept() {
      refusing = false;
    },
    stall() {
      stalled = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      stalled = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    async close() {
      for (const { client, upstream } of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
