import { metrics, trace } from '@opentelemetry/api';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { ChatRuntime } from '../../actors/runtime-types';
import { METRICS } from '../../observability/telemetry-names';
import { MemoryStore } from '../../storage-providers/memory-store';
import { createTestMeterProvider } from './metric-collector';

/**
 * An embedding service that registers its own OpenTelemetry MeterProvider globally gets the runtime's
 * metrics there with no telemetry option at all (createChatRuntime's default records through the global API).
 */
describe('embedding service with its own global MeterProvider', () => {
  let runtime: ChatRuntime | undefined;
  afterEach(async () => {
    await runtime?.close({ deadlineMs: 2000 });
    runtime = undefined;
    metrics.disable();
    trace.disable();
  });

  it('receives messages.in, persistence lag and mailbox depth from a runtime created without telemetry', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
    runtime = await createChatRuntime({
      config: { chat: { nlweb: { endpoints: [], standin: { enabled: false } } }, observability: { log_level: 'silent' } },
      storage: new MemoryStore(),
    });
    const conv = await runtime.createConversation({ created_by: 'alice', autoJoinAgents: false });
    const posts = [];
    for (let i = 0; i < 3; i++)
      posts.push(await runtime.post(conv.conversation_id, { sender_id: 'alice', message_id: `e${i}`, content: `hi ${i}` }));
    await Promise.all(posts.map((p) => p.whenPersisted));
    const c = await collect();
    expect(c.value(METRICS.messagesIn.name, { kind: 'human' })).toBe(3);
    expect(c.value(METRICS.persistenceLag.name)).toBe(0);
    expect(c.value(METRICS.mailboxDepth.name)).toBe(0);
    expect(c.histogram(METRICS.storageOperationDuration.name, { operation: 'append', outcome: 'ok' })?.count).toBeGreaterThanOrEqual(1);
    await meterProvider.shutdown();
  });
});
