import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createChatRuntime, createEchoAgent, createManualClock } from '../../actors';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { SPANS } from '../../observability/telemetry-names';
import { MemoryStore } from '../../storage-providers';
import { settle } from './runtime-helpers';

describe('message tracing', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
  afterAll(() => {
    contextManager.disable();
    context.disable();
  });

  it('records receive → sequence, deliver, persist for a posted message in one trace, and the agent answer under it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' } },
      storage: new MemoryStore(),
      agents: [createEchoAgent()],
      clock: createManualClock(),
      telemetry: createChatTelemetry({ tracerProvider }),
    });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'echo', participant_type: 'ai' }],
    });
    await runtime.subscribe('c', 'alice', () => undefined);
    const result = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    await result.whenPersisted;
    await settle();
    const spans = exporter.getFinishedSpans();
    const receive = spans.find((s) => s.name === SPANS.receive)!;
    expect(receive.attributes['chat.sequence_id']).toBe(result.sequence_id);
    const traceId = receive.spanContext().traceId;
    const children = spans.filter((s) => s.parentSpanContext?.spanId === receive.spanContext().spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining([SPANS.sequence, SPANS.deliver, SPANS.persist]));
    // the echo agent's answer is delivered in the same trace
    const delivers = spans.filter((s) => s.name === SPANS.deliver && s.spanContext().traceId === traceId);
    expect(delivers.length).toBeGreaterThanOrEqual(2);
    await runtime.close();
    await tracerProvider.shutdown();
  });
});
