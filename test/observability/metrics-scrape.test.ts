import { createEchoAgent } from '../../actors/agents/echo-agent';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import { isChatError } from '../../actors/errors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { loadConfig } from '../../config/load-config';
import type { ConfigInput } from '../../config/config-types';
import { createChatServer, type ChatServer } from '../../gateway/chat-server';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { setupSdk, type SdkHandle } from '../../observability/setup-sdk';
import { MemoryStore } from '../../storage-providers/memory-store';
import { connectClient, type TestClient } from '../gateway/ws-test-client';
import { parsePrometheusText, sampleValue, type Sample } from './prometheus-text';

/**
 * The metrics path end to end: the real runtime and gateway record through ChatTelemetry into the SDK set up
 * exactly as bin/nlweb-chat.ts does it, and GET /metrics on the main server reports the traffic's values.
 */
describe('GET /metrics after real traffic', () => {
  let sdk: SdkHandle | undefined;
  let runtime: ChatRuntime | undefined;
  let server: ChatServer | undefined;
  let store: MemoryStore | undefined;
  const clients: TestClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    await runtime?.close({ deadlineMs: 2000 });
    await store?.close();
    await sdk?.shutdown();
    server = runtime = store = sdk = undefined;
  });

  async function start(overrides: ConfigInput = {}, agents: ReturnType<typeof createEchoAgent>[] = []): Promise<string> {
    const config = loadConfig({
      overrides: {
        ...overrides,
        server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' } },
        chat: { ...overrides.chat, nlweb: { endpoints: [], standin: { enabled: false } } },
        observability: { log_level: 'silent' },
      },
    });
    sdk = await setupSdk({ observability: config.observability, registerGlobals: false });
    const telemetry = createChatTelemetry({ meterProvider: sdk.meterProvider });
    store = new MemoryStore();
    await store.open();
    runtime = await createChatRuntime({ config, storage: store, telemetry, agents });
    const handler = sdk.metricsHandler!;
    server = createChatServer({
      runtime,
      config,
      telemetry,
      extraRoutes: (app) => app.get(config.observability.metrics.path, (req, res) => handler(req, res)),
    });
    const { url } = await server.listen();
    return url;
  }

  async function scrape(url: string): Promise<Sample[]> {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  }

  it('counts agents\' answers in messages_in_total{kind="ai"} (sequenced records by sender type, not only posts)', async () => {
    const url = await start({}, [createEchoAgent({ id: 'echo', pieces: 2 })]);
    const conv = await runtime!.createConversation({
      created_by: 'alice',
      participants: [{ participant_id: 'echo', participant_type: 'ai' }],
      autoJoinAgents: false,
    });
    const alice = await connectClient(`${url.replace(/^http/, 'ws')}/chat/ws/${conv.conversation_id}?user_id=alice`);
    clients.push(alice);
    alice.send({ type: 'message', message_id: 'q-1', content: 'hello' });
    await alice.until(() =>
      alice.frames.some(
        (f) => f.type === 'message' && (f as { message: { metadata: { complete?: boolean } } }).message.metadata.complete === true,
      ),
    );
    const aiRecords = alice.frames.filter(
      (f) => f.type === 'message' && (f as { message: { sender_type: string } }).message.sender_type === 'ai',
    );

    const after = await scrape(url);
    expect(sampleValue(after, 'nlweb_chat_messages_in_total', { kind: 'human' })).toBe(1);
    // Before, only post() counted: the echo agent's two answer pieces were sequenced but never counted.
    expect(aiRecords.length).toBe(2);
    expect(sampleValue(after, 'nlweb_chat_messages_in_total', { kind: 'ai' })).toBe(2);
  });

  it('counters with a fixed label set are scraped as 0 before their first event (an absent series reads as not instrumented)', async () => {
    const url = await start();
    const fresh = await scrape(url);
    const zero = (name: string, labels: Record<string, string> = {}) => [name, labels, sampleValue(fresh, name, labels)];
    expect([
      zero('nlweb_chat_queue_full_rejections_total'),
      zero('nlweb_chat_rate_limit_hits_total'),
      zero('nlweb_chat_reconnects_total'),
      zero('nlweb_chat_actor_restarts_total'),
      zero('nlweb_chat_actor_passivations_total'),
      zero('nlweb_chat_messages_out_total'),
      zero('nlweb_chat_messages_in_total', { kind: 'human' }),
      zero('nlweb_chat_messages_in_total', { kind: 'ai' }),
      zero('nlweb_chat_resumes_total', { recovered: 'true' }),
      zero('nlweb_chat_resume_cache_total', { result: 'miss' }),
      // An up-down counter: a replica nobody connected to (a new one, or one that only forwards to the holders) had no
      // series at all, so a sum over replicas, or an alert on it, lost that replica instead of counting 0.
      zero('nlweb_chat_connections_active'),
    ]).toEqual([
      ['nlweb_chat_queue_full_rejections_total', {}, 0],
      ['nlweb_chat_rate_limit_hits_total', {}, 0],
      ['nlweb_chat_reconnects_total', {}, 0],
      ['nlweb_chat_actor_restarts_total', {}, 0],
      ['nlweb_chat_actor_passivations_total', {}, 0],
      ['nlweb_chat_messages_out_total', {}, 0],
      ['nlweb_chat_messages_in_total', { kind: 'human' }, 0],
      ['nlweb_chat_messages_in_total', { kind: 'ai' }, 0],
      ['nlweb_chat_resumes_total', { recovered: 'true' }, 0],
      ['nlweb_chat_resume_cache_total', { result: 'miss' }, 0],
      ['nlweb_chat_connections_active', {}, 0],
    ]);
  });

  it('counts N posted messages in, 2N deliveries out, connections, latency and journal writes', async () => {
    const url = await start();
    const conv = await runtime!.createConversation({
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
      autoJoinAgents: false,
    });
    const ws = url.replace(/^http/, 'ws');
    const alice = await connectClient(`${ws}/chat/ws/${conv.conversation_id}?user_id=alice`);
    clients.push(alice);
    const bob = await connectClient(`${ws}/chat/ws/${conv.conversation_id}?user_id=bob`);
    clients.push(bob);

    let before = await scrape(url);
    expect(sampleValue(before, 'nlweb_chat_connections_active')).toBe(2);
    expect(sampleValue(before, 'nlweb_chat_conversation_connections', { conversation_id: conv.conversation_id })).toBe(2);
    const inBefore = sampleValue(before, 'nlweb_chat_messages_in_total', { kind: 'human' }) ?? 0;
    const outBefore = sampleValue(before, 'nlweb_chat_messages_out_total') ?? 0;
    const latencyBefore = sampleValue(before, 'nlweb_chat_delivery_latency_count') ?? 0;

    const N = 25;
    for (let i = 0; i < N; i++) alice.send({ type: 'message', message_id: `m-${i}`, content: `hello ${i}` });
    const last = conv.last_sequence_id + N;
    await bob.waitForSequence(last);
    // Every post durable: alice holds a message_ack with persisted: true for each of her N messages.
    const persistedIds = (): Set<string> =>
      new Set(alice.frames.filter((f) => f.type === 'message_ack' && f.persisted).map((f) => (f as { message_id: string }).message_id));
    await alice.until(() => persistedIds().size === N);

    const after = await scrape(url);
    expect((sampleValue(after, 'nlweb_chat_messages_in_total', { kind: 'human' }) ?? 0) - inBefore).toBe(N);
    // Every record reached both connections (alice's own posts are echoed to her too).
    expect((sampleValue(after, 'nlweb_chat_messages_out_total') ?? 0) - outBefore).toBe(2 * N);
    expect((sampleValue(after, 'nlweb_chat_delivery_latency_count') ?? 0) - latencyBefore).toBe(N);
    expect(sampleValue(after, 'nlweb_chat_delivery_latency_bucket', { le: '+Inf' })).toBe(
      sampleValue(after, 'nlweb_chat_delivery_latency_count'),
    );
    const appends = sampleValue(after, 'nlweb_chat_storage_operation_duration_count', { operation: 'append', outcome: 'ok' }) ?? 0;
    expect(appends).toBeGreaterThanOrEqual(1);
    expect(appends).toBeLessThanOrEqual(N + conv.last_sequence_id);
    expect(sampleValue(after, 'nlweb_chat_storage_failures_total', { operation: 'append' })).toBeUndefined();
    expect(sampleValue(after, 'nlweb_chat_persistence_lag')).toBe(0);
    expect(sampleValue(after, 'nlweb_chat_mailbox_depth')).toBe(0);

    await bob.close();
    before = await scrape(url);
    expect(sampleValue(before, 'nlweb_chat_connections_active')).toBe(1);
    expect(sampleValue(before, 'nlweb_chat_conversation_connections', { conversation_id: conv.conversation_id })).toBe(1);
    // Unbounded values never become labels: no message ids and no user ids anywhere in the exposition.
    for (const s of after) {
      for (const v of Object.values(s.labels)) {
        expect(v).not.toMatch(/^m-\d+$/);
        expect(['alice', 'bob']).not.toContain(v);
      }
    }
  });

  it('counts every CHAT_ERR_QUEUE_FULL refusal as a queue_full rejection', async () => {
    const url = await start({ chat: { limits: { queue_size: 3 } } });
    const conv = await runtime!.createConversation({ created_by: 'alice', autoJoinAgents: false });
    const before = sampleValue(await scrape(url), 'nlweb_chat_queue_full_rejections_total') ?? 0;
    // Posted in one synchronous burst: journal writes cannot drain the mailbox in between.
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        runtime!.post(conv.conversation_id, { sender_id: 'alice', message_id: `q-${i}`, content: `x ${i}` }),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected' && isChatError(r.reason, 'CHAT_ERR_QUEUE_FULL')).length;
    expect(refused).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(refused);
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.whenPersisted : undefined)));
    const after = await scrape(url);
    expect((sampleValue(after, 'nlweb_chat_queue_full_rejections_total') ?? 0) - before).toBe(refused);
    expect(sampleValue(after, 'nlweb_chat_messages_in_total', { kind: 'human' })).toBe(12 - refused);
  });
});
