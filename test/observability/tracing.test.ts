import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createAgentsFromConfig } from '../../actors/agents/create-agents-from-config';
import type { NlwebAgent } from '../../actors/agents/nlweb-agent';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import { createChatServer, type ChatServer } from '../../gateway/chat-server';
import { connectClient, type TestClient } from '../gateway/ws-test-client';
import type { ChatMessage } from '../../actors/message-types';
import type { ChatRuntime, Subscription } from '../../actors/runtime-types';
import { loadConfig } from '../../config/load-config';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { setupSdk, type SdkHandle } from '../../observability/setup-sdk';
import { SPANS } from '../../observability/telemetry-names';
import { MemoryStore } from '../../storage-providers/memory-store';
import { createNlwebStandinServer, type NlwebStandinServer } from '../../testing/nlweb-standin-server';

/** InMemorySpanExporter that lets a test await a span by name (no polling, no sleeps). */
class AwaitableSpanExporter extends InMemorySpanExporter {
  private waiters: Array<{ name: string; resolve: (s: ReadableSpan) => void }> = [];
  override export(spans: ReadableSpan[], cb: Parameters<InMemorySpanExporter['export']>[1]): void {
    super.export(spans, cb);
    for (const s of spans) {
      for (const w of this.waiters.filter((x) => x.name === s.name)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(s);
      }
    }
  }
  waitForSpan(name: string): Promise<ReadableSpan> {
    const done = this.getFinishedSpans().find((s) => s.name === name);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => this.waiters.push({ name, resolve }));
  }
}

/**
 * Tracing through the SDK as bin/ sets it up (W3C propagator, AsyncLocalStorage context): the NLWeb call is a
 * CLIENT span and its context reaches the NLWeb stand-in in the `traceparent` header.
 */
describe('tracing of agent calls', () => {
  let sdk: SdkHandle | undefined;
  let runtime: ChatRuntime | undefined;
  let standin: NlwebStandinServer | undefined;
  let agents: Map<string, NlwebAgent> | undefined;
  let subscription: Subscription | undefined;
  let server: ChatServer | undefined;
  let client: TestClient | undefined;

  afterEach(async () => {
    await client?.close();
    await server?.close();
    subscription?.close();
    await runtime?.close({ deadlineMs: 2000 });
    for (const a of agents?.values() ?? []) a.close();
    await standin?.close();
    await sdk?.shutdown();
    sdk = runtime = standin = agents = subscription = server = client = undefined;
  });

  async function askOnce(
    sampleRatio: number,
    exporter: AwaitableSpanExporter,
  ): Promise<{ headers: Record<string, unknown>; answer: ChatMessage }> {
    standin = await createNlwebStandinServer({ latencyMs: 0, batches: 2 });
    const config = loadConfig({
      overrides: {
        server: { port: 0 },
        chat: {
          nlweb: { endpoints: [{ id: 'nlweb', display_name: 'NLWeb', url: 'standin', site: 'all', mode: 'list', auto_join: true }] },
          input: { single_mode_typing_window_ms: 0 },
        },
        observability: { log_level: 'silent', tracing: { enabled: true, sample_ratio: sampleRatio } },
      },
    });
    sdk = await setupSdk({ observability: config.observability, spanExporter: exporter });
    const telemetry = createChatTelemetry({ meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider });
    agents = createAgentsFromConfig(config, { standinUrl: standin.url });
    const store = new MemoryStore();
    runtime = await createChatRuntime({ config, storage: store, agents, telemetry });
    const conv = await runtime.createConversation({ created_by: 'alice' });
    let resolveAnswer!: (m: ChatMessage) => void;
    const answered = new Promise<ChatMessage>((r) => (resolveAnswer = r));
    subscription = await runtime.subscribe(conv.conversation_id, 'alice', (out) => {
      if (out.type === 'message' && out.message.sender_id === 'nlweb' && out.message.metadata?.complete === true)
        resolveAnswer(out.message);
    });
    await runtime.post(conv.conversation_id, { sender_id: 'alice', message_id: 'q1', content: 'vegan restaurants' });
    const request = await standin.waitForRequest(0);
    const answer = await answered;
    return { headers: request.headers as Record<string, unknown>, answer };
  }

  it('records an nlweb.ask CLIENT span and propagates its context as traceparent to NLWeb', async () => {
    const exporter = new AwaitableSpanExporter();
    const { headers, answer } = await askOnce(1, exporter);
    expect(answer.message_type).toBe('nlweb_response');
    const span = await exporter.waitForSpan(SPANS.nlwebAsk);
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes['nlweb.endpoint']).toBe('nlweb');
    expect(span.attributes['chat.conversation_id']).toBe(answer.conversation_id);
    expect(span.attributes['http.response.status_code']).toBe(200);
    const { traceId, spanId } = span.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    // The span covers the whole streamed answer, so it ended after the stand-in started answering.
    expect(span.ended).toBe(true);
  });

  it('at sample ratio 0 exports nothing but still sends an unsampled traceparent', async () => {
    const exporter = new AwaitableSpanExporter();
    const { headers } = await askOnce(0, exporter);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await sdk!.shutdown();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('a WebSocket message frame gives one trace: receive → sequence, deliver, persist, and nlweb.ask whose context reaches NLWeb', async () => {
    const exporter = new AwaitableSpanExporter();
    standin = await createNlwebStandinServer({ latencyMs: 0, batches: 1 });
    const config = loadConfig({
      overrides: {
        server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' } },
        chat: {
          nlweb: { endpoints: [{ id: 'nlweb', display_name: 'NLWeb', url: 'standin', site: 'all', mode: 'list', auto_join: true }] },
          input: { single_mode_typing_window_ms: 0 },
        },
        observability: { log_level: 'silent', tracing: { enabled: true, sample_ratio: 1 } },
      },
    });
    sdk = await setupSdk({ observability: config.observability, spanExporter: exporter, registerGlobals: true });
    const telemetry = createChatTelemetry({ meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider });
    agents = createAgentsFromConfig(config, { standinUrl: standin.url });
    runtime = await createChatRuntime({ config, storage: new MemoryStore(), agents, telemetry });
    server = createChatServer({ runtime, config, telemetry });
    const { url } = await server.listen();
    const conv = await runtime.createConversation({ created_by: 'alice' });
    client = await connectClient(`${url.replace(/^http/, 'ws')}/chat/ws/${conv.conversation_id}?user_id=alice`);
    client.send({ type: 'message', message_id: 'w1', content: 'vegan restaurants' });
    await client.waitFor('message', (f) => f.message.sender_id === 'nlweb' && f.message.metadata?.complete === true);
    const request = await standin.waitForRequest(0);
    const ask = await exporter.waitForSpan(SPANS.nlwebAsk);
    const persist = await exporter.waitForSpan(SPANS.persist);
    const receive = await exporter.waitForSpan(SPANS.receive);
    const sequence = await exporter.waitForSpan(SPANS.sequence);

    const traceId = receive.spanContext().traceId;
    expect(receive.parentSpanContext).toBeUndefined();
    expect(receive.attributes['chat.conversation_id']).toBe(conv.conversation_id);
    expect(receive.attributes['chat.sender_type']).toBe('human');
    for (const child of [sequence, persist]) {
      expect(child.spanContext().traceId).toBe(traceId);
      expect(child.parentSpanContext?.spanId).toBe(receive.spanContext().spanId);
    }
    const spans = exporter.getFinishedSpans();
    const delivers = spans.filter((x) => x.name === SPANS.deliver && x.spanContext().traceId === traceId);
    expect(delivers.length).toBeGreaterThanOrEqual(2); // the human message and the agent's answer
    // nlweb.ask belongs to the same trace, and NLWeb received exactly its context.
    expect(ask.spanContext().traceId).toBe(traceId);
    expect(request.headers.traceparent).toBe(`00-${traceId}-${ask.spanContext().spanId}-01`);
    // Every span of the message's trace hangs off a span of that trace (no orphans).
    const ids = new Set(spans.filter((x) => x.spanContext().traceId === traceId).map((x) => x.spanContext().spanId));
    for (const x of spans.filter((y) => y.spanContext().traceId === traceId && y !== receive)) {
      expect(ids.has(x.parentSpanContext!.spanId)).toBe(true);
    }
  });
});
