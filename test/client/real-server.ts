/**
 * The real stack for client tests: createChatRuntime + MemoryStore + createChatServer (dev auth,
 * 127.0.0.1, port 0), plus a TCP proxy that can drop connections, swallow server → client bytes or strip
 * the subprotocol from upgrade answers.
 */
import net from 'node:net';
import type express from 'express';
import { createChatRuntime } from '../../actors';
import type { Agent } from '../../actors/agents/agent';
import type { Clock } from '../../actors/clock';
import type { ChatRuntime } from '../../actors/runtime-types';
import { loadConfig } from '../../config';
import type { ConfigInput, NlwebChatConfig } from '../../config/config-types';
import { createChatServer, type ChatServer } from '../../gateway';
import type { ChatTelemetry } from '../../observability/chat-telemetry';
import { MemoryStore } from '../../storage-providers';
import { createSubprotocolStripper } from './strip-subprotocol';

export interface RealStack {
  readonly runtime: ChatRuntime;
  readonly store: MemoryStore;
  readonly config: NlwebChatConfig;
  server: ChatServer;
  port: number;
  /** ws://127.0.0.1:<port> */
  readonly wsUrl: string;
  /** Stops the current server (clients get 1001) and starts a new one on the same runtime and port. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  createConversation(id: string, humans: readonly string[], agents?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export function benchConfig(overrides: ConfigInput = {}, port = 0): NlwebChatConfig {
  return loadConfig({
    overrides: merge(
      {
        server: { host: '127.0.0.1', port, auth: { mode: 'dev' } },
        chat: { nlweb: { endpoints: [], standin: { enabled: false } } },
        observability: { log_level: 'silent', metrics: { enabled: false } },
      },
      overrides,
    ) as ConfigInput,
  });
}

export interface RealStackOptions {
  readonly agents?: readonly Agent[];
  readonly config?: ConfigInput;
  /** Extra routes mounted on the server's express app (e.g. the web client). */
  readonly extraRoutes?: (app: express.Express) => void;
  /** A store shared with another stack (two servers on one store); opened and closed by its owner, not here. */
  readonly store?: MemoryStore;
  /** The gateway's clock (rate limits, the membership budget, heartbeats); the system clock when absent. */
  readonly clock?: Clock;
  /** The runtime's telemetry (crashingTelemetry crashes a conversation's machine); the global providers when absent. */
  readonly runtimeTelemetry?: ChatTelemetry;
  /** The runtime's clock (typing holds and repeats, presence grace, windows); the system clock when absent. */
  readonly runtimeClock?: Clock;
}

export async function startRealStack(options: RealStackOptions = {}): Promise<RealStack> {
  const config = benchConfig(options.config ?? {});
  const ownsStore = options.store === undefined;
  const store = options.store ?? new MemoryStore();
  if (ownsStore) await store.open();
  const runtime = await createChatRuntime({
    config,
    storage: store,
    agents: options.agents ?? [],
    ...(options.runtimeTelemetry ? { telemetry: options.runtimeTelemetry } : {}),
    ...(options.runtimeClock ? { clock: options.runtimeClock } : {}),
  });
  const extra = {
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  let server = createChatServer({ runtime, config, ...extra });
  const { port } = await server.listen();
  let running = true;
  const stack: RealStack = {
    runtime,
    store,
    config,
    server,
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    async stopServer() {
      running = false;
      await stack.server.close();
    },
    async startServer() {
      // Same runtime, same port: what a restarted gateway looks like to a client.
      server = createChatServer({ runtime, config: benchConfig(options.config ?? {}, port), ...extra });
      stack.server = server;
      await server.listen();
      running = true;
    },
    async createConversation(id, humans, agents = []) {
      await runtime.createConversation({
        conversation_id: id,
        title: id,
        created_by: humans[0]!,
        participants: [
          ...humans.map((h, i) => ({
            participant_id: h,
            participant_type: 'human' as const,
            role: i === 0 ? ('owner' as const) : ('member' as const),
          })),
          ...agents.map((a) => ({ participant_id: a, participant_type: 'ai' as const, agent_id: a })),
        ],
        autoJoinAgents: false,
      });
    },
    async close() {
      if (running) await stack.server.close();
      running = false;
      await runtime.close({ deadlineMs: 2000 });
      if (ownsStore) await store.close();
    },
  };
  return stack;
}

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Destroys every proxied connection (the client sees an abnormal close, 1006). */
  cutAll(): void;
  /** While true, bytes from the server are swallowed (acks "lost in the network"). */
  swallowDownstream: boolean;
  /**
   * The server behind the address is killed (kill -9): open connections are reset and every new one is reset as it
   * arrives, before any byte of a handshake, as connections to a dead host's port are refused. For good.
   */
  kill(): void;
  /** Connections reset since kill(): the attempts a client made at the dead server. */
  readonly refused: number;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Drop `Sec-WebSocket-Protocol` from the server's 101 answers, as a proxy that does not know it. */
  readonly stripSubprotocol?: boolean;
}

/** `targetPort` may be a function: read at each connection, for a proxy whose address must exist before its target. */
export async function startTcpProxy(targetPort: number | (() => number), options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let killed = false;
  let refused = 0;
  const server = net.createServer((client) => {
    if (killed) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(typeof targetPort === 'function' ? targetPort() : targetPort, '127.0.0.1');
    const downstream = options.stripSubprotocol ? createSubprotocolStripper() : (d: Buffer): Buffer => d;
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (!proxy.swallowDownstream) client.write(downstream(d));
    });
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TcpProxy = {
    port,
    url: `ws://127.0.0.1:${port}`,
    swallowDownstream: false,
    get refused() {
      return refused;
    },
    kill() {
      killed = true;
      for (const [client, upstream] of [...pairs]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    cutAll() {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    close() {
      proxy.cutAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}
