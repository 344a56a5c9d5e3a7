import net from 'node:net';
import jwt from 'jsonwebtoken';
import { createChatRuntime } from '../../actors';
import type { Agent } from '../../actors/agents/agent';
import type { Clock } from '../../actors/clock';
import type { ChatRuntime } from '../../actors/runtime-types';
import type { ChatTelemetry } from '../../observability/chat-telemetry';
import { loadConfig } from '../../config';
import type { ConfigInput, NlwebChatConfig } from '../../config/config-types';
import {
  createChatServer,
  type Authenticator,
  type ChatServer,
  type ChatServerOptions,
  type GatewayAudit,
  type GatewayLogger,
  type GatewayTelemetry,
} from '../../gateway';
import { MemoryStore, type ChatStore } from '../../storage-providers';
import { TestClient, connectClient } from './ws-test-client';

export const JWT_SECRET = 'gateway-test-secret';

export interface HarnessOptions {
  readonly store?: ChatStore;
  readonly agents?: readonly Agent[];
  readonly authenticate?: Authenticator;
  readonly logger?: GatewayLogger;
  /** Gateway clock (heartbeat, rate limits). */
  readonly clock?: Clock;
  /** Runtime clock (record timestamps, created_at); the system clock when absent. */
  readonly runtimeClock?: Clock;
  /** Runtime telemetry (a double whose delivery metric throws crashes a conversation's machine); the global providers when absent. */
  readonly runtimeTelemetry?: ChatTelemetry;
  /** Gateway telemetry (a ChatTelemetry fits); none when absent. */
  readonly telemetry?: GatewayTelemetry;
  readonly extraRoutes?: ChatServerOptions['extraRoutes'];
  readonly trustForwardedProto?: boolean;
  readonly audit?: GatewayAudit;
  readonly allowedOrigins?: readonly string[];
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly headers: Headers;
}

/** A real runtime (MemoryStore by default) behind a real server on 127.0.0.1, port 0. */
export interface Harness {
  readonly config: NlwebChatConfig;
  readonly runtime: ChatRuntime;
  readonly server: ChatServer;
  readonly store: ChatStore;
  readonly url: string;
  token(userId: string, claims?: Record<string, unknown>): string;
  wsUrl(conversationId: string, userId: string, params?: Record<string, string>): string;
  connect(conversationId: string, userId: string, params?: Record<string, string>): Promise<TestClient>;
  request(method: string, path: string, userId?: string, body?: unknown): Promise<HttpAnswer>;
  /** Creates a conversation owned by `owner` with the other humans as members (no agents). */
  createConversation(owner: string, others?: readonly string[], extra?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const harnesses = new Set<Harness>();
const clients = new Set<TestClient>();

/** Registers a client so closeAll() closes it. */
export function track<T extends TestClient>(client: T): T {
  clients.add(client);
  return client;
}

/** For afterEach: closes every client and harness started by the test. */
export async function closeAll(): Promise<void> {
  const open = [...clients];
  clients.clear();
  await Promise.all(open.map((c) => c.close()));
  const hs = [...harnesses];
  harnesses.clear();
  await Promise.all(hs.map((h) => h.close()));
}

/** Every frame received by tracked clients validated against the server-frame schemas. */
export function invalidFrames(): string[] {
  return [...clients].flatMap((c) => c.invalid);
}

export async function startHarness(overrides: ConfigInput = {}, options: HarnessOptions = {}): Promise<Harness> {
  const base: ConfigInput = {
    server: { host: '127.0.0.1', port: 0, auth: { mode: 'jwt', jwt_secret: JWT_SECRET } },
    observability: { log_level: 'silent' },
  };
  const config = loadConfig({ overrides: merge(base, overrides) as ConfigInput });
  const store = options.store ?? new MemoryStore();
  await store.open();
  const runtime = await createChatRuntime({
    config,
    storage: store,
    ...(options.agents ? { agents: options.agents } : {}),
    ...(options.runtimeClock ? { clock: options.runtimeClock } : {}),
    ...(options.runtimeTelemetry ? { telemetry: options.runtimeTelemetry } : {}),
  });
  const server = createChatServer({
    runtime,
    config,
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.extraRoutes ? { extraRoutes: options.extraRoutes } : {}),
    ...(options.trustForwardedProto === undefined ? {} : { trustForwardedProto: options.trustForwardedProto }),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
  });
  const { url } = await server.listen();
  const wsBase = url.replace(/^http/, 'ws');
  const token = (userId: string, claims: Record<string, unknown> = {}): string =>
    jwt.sign({ sub: userId, ...claims }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' });
  let closed = false;
  const harness: Harness = {
    config,
    runtime,
    server,
    store,
    url,
    token,
    wsUrl(conversationId, userId, params = {}) {
      const q = new URLSearchParams({ token: token(userId), ...params });
      return `${wsBase}/chat/ws/${encodeURIComponent(conversationId)}?${q}`;
    },
    async connect(conversationId, userId, params) {
      return track(await connectClient(harness.wsUrl(conversationId, userId, params)));
    },
    async request(method, path, userId, body) {
      const headers: Record<string, string> = {};
      if (userId !== undefined) headers.authorization = `Bearer ${token(userId)}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text so assertions show it
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async createConversation(owner, others = [], extra = {}) {
      const res = await harness.request('POST', '/chat/conversations', owner, {
        title: 'test',
        participants: others.map((id) => ({ participant_id: id, participant_type: 'human' })),
        auto_join_agents: false,
        ...extra,
      });
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.conversation_id as string;
    },
    async close() {
      if (closed) return;
      closed = true;
      harnesses.delete(harness);
      await server.close();
      await runtime.close({ deadlineMs: 2000 });
      await store.close();
    },
  };
  harnesses.add(harness);
  return harness;
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}

/** The port of a server that just closed: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
