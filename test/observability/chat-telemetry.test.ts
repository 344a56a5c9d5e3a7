import { SpanKind, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createChatTelemetry, createNoopTelemetry } from '../../observability/chat-telemetry';
import { METRICS, SPANS } from '../../observability/telemetry-names';
import { createTestMeterProvider } from './metric-collector';

describe('createChatTelemetry', () => {
  it('records counters, histograms and the active-connection gauge with the right values', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider });
    t.messageIn('human');
    t.messageIn('human');
    t.messageIn('ai');
    t.messageIn('robot-from-the-future');
    t.messagesOut(5);
    t.messagesOut(0);
    t.deliveryLatency(2);
    t.deliveryLatency(4);
    t.connectionOpened('c1');
    t.connectionOpened('c1');
    t.connectionOpened('c2');
    t.connectionClosed('c1');
    t.queueFull();
    t.rateLimited();
    t.agentJobDropped('queue_full');
    t.agentJobDropped();
    t.actorRestart();
    t.actorPassivated();
    t.actorPassivated();
    t.reconnect();
    t.resume(true, true);
    t.resume(false, false);
    t.resume(true, false);

    const c = await collect();
    expect(c.value(METRICS.messagesIn.name, { kind: 'human' })).toBe(2);
    expect(c.value(METRICS.messagesIn.name, { kind: 'ai' })).toBe(1);
    expect(c.value(METRICS.messagesIn.name, { kind: 'other' })).toBe(1);
    // Every kind is a series from the start (system at 0 here): chat-telemetry.ts starts fixed label sets at 0.
    expect(c.value(METRICS.messagesIn.name, { kind: 'system' })).toBe(0);
    expect(c.points(METRICS.messagesIn.name)).toHaveLength(4);
    expect(c.value(METRICS.messagesOut.name)).toBe(5);
    expect(c.histogram(METRICS.deliveryLatency.name)).toEqual({ count: 2, sum: 6 });
    expect(c.value(METRICS.connectionsActive.name)).toBe(2);
    expect(c.value(METRICS.conversationConnections.name, { conversation_id: 'c1' })).toBe(1);
    expect(c.value(METRICS.conversationConnections.name, { conversation_id: 'c2' })).toBe(1);
    expect(c.value(METRICS.queueFullRejections.name)).toBe(1);
    expect(c.value(METRICS.rateLimited.name)).toBe(1);
    expect(c.value(METRICS.agentJobsDropped.name, { reason: 'queue_full' })).toBe(1);
    expect(c.value(METRICS.agentJobsDropped.name, { reason: 'other' })).toBe(1);
    expect(c.value(METRICS.actorRestarts.name)).toBe(1);
    expect(c.value(METRICS.actorPassivations.name)).toBe(2);
    expect(c.value(METRICS.reconnects.name)).toBe(1);
    expect(c.value(METRICS.resumes.name, { recovered: 'true' })).toBe(2);
    expect(c.value(METRICS.resumes.name, { recovered: 'false' })).toBe(1);
    expect(c.value(METRICS.resumeCache.name, { result: 'hit' })).toBe(1);
    expect(c.value(METRICS.resumeCache.name, { result: 'miss' })).toBe(2);
    // Units reach the exporter (Prometheus derives the _milliseconds suffix from them).
    expect(c.byName.get(METRICS.deliveryLatency.name)?.descriptor.unit).toBe('ms');
  });

  it('pre-aggregated message counters stay cumulative across collections and sum over telemetries on one provider', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const a = createChatTelemetry({ meterProvider });
    const b = createChatTelemetry({ meterProvider });
    a.messageIn('human');
    b.messageIn('human');
    b.messageIn('system');
    a.messagesOut(3);
    b.messagesOut(4);
    let c = await collect();
    expect(c.value(METRICS.messagesIn.name, { kind: 'human' })).toBe(2);
    expect(c.value(METRICS.messagesIn.name, { kind: 'system' })).toBe(1);
    expect(c.value(METRICS.messagesOut.name)).toBe(7);
    a.messageIn('human');
    a.messagesOut(1);
    c = await collect();
    expect(c.value(METRICS.messagesIn.name, { kind: 'human' })).toBe(3);
    expect(c.value(METRICS.messagesOut.name)).toBe(8);
    c = await collect();
    expect(c.value(METRICS.messagesIn.name, { kind: 'human' })).toBe(3);
  });

  it('records storage and agent calls with outcome labels and failure counters', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider });
    t.storageOperation('append', 3, true);
    t.storageOperation('append', 7, false);
    t.storageOperation('read', 1, true);
    t.agentCall('nlweb', 100, true);
    t.agentCall('nlweb', 50, false, 'AGENT_ERR_TIMEOUT');
    t.agentCall('other', 10, false);

    const c = await collect();
    expect(c.histogram(METRICS.storageOperationDuration.name, { operation: 'append', outcome: 'ok' })).toEqual({ count: 1, sum: 3 });
    expect(c.histogram(METRICS.storageOperationDuration.name, { operation: 'append', outcome: 'error' })).toEqual({ count: 1, sum: 7 });
    expect(c.value(METRICS.storageFailures.name, { operation: 'append' })).toBe(1);
    expect(c.value(METRICS.storageFailures.name, { operation: 'read' })).toBeUndefined();
    expect(c.histogram(METRICS.agentCallDuration.name, { endpoint: 'nlweb', outcome: 'ok' })).toEqual({ count: 1, sum: 100 });
    expect(c.value(METRICS.agentCallErrors.name, { endpoint: 'nlweb', code: 'AGENT_ERR_TIMEOUT' })).toBe(1);
    expect(c.value(METRICS.agentCallErrors.name, { endpoint: 'other', code: 'unknown' })).toBe(1);
  });

  it('caps free-form label values so a misbehaving caller cannot create unbounded series', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider, maxLabelValues: 3 });
    for (let i = 0; i < 10; i++) t.storageOperation(`op-${i}`, 1, true);
    const c = await collect();
    const ops = c.points(METRICS.storageOperationDuration.name).map((p) => p.operation);
    expect(ops.sort()).toEqual(['op-0', 'op-1', 'op-2', 'other']);
    expect(c.histogram(METRICS.storageOperationDuration.name, { operation: 'other' })?.count).toBe(7);
  });

  it('aggregates mailbox depths and persistence lag from providers, with capped per-conversation series', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider, perConversationSeries: 2 });
    const depths = new Map<string, number>([
      ['a', 1],
      ['b', 7],
      ['c', 3],
    ]);
    const unregister = t.observeMailboxDepths(() => depths.entries());
    t.observeMailboxDepths(() => {
      throw new Error('provider bug');
    });
    t.observePersistenceLag(() => 4);
    t.observePersistenceLag(() => 5);

    let c = await collect();
    expect(c.value(METRICS.mailboxDepth.name)).toBe(7);
    expect(c.value(METRICS.mailboxDepthTotal.name)).toBe(11);
    expect(c.value(METRICS.persistenceLag.name)).toBe(9);
    const series = c.points(METRICS.conversationMailboxDepth.name).map((p) => p.conversation_id);
    expect(series.sort()).toEqual(['b', 'c']);

    depths.set('b', 0);
    c = await collect();
    expect(c.value(METRICS.mailboxDepth.name)).toBe(3);

    unregister();
    c = await collect();
    expect(c.value(METRICS.mailboxDepth.name)).toBe(0);
    expect(c.value(METRICS.mailboxDepthTotal.name)).toBe(0);
  });

  it('turns per-conversation series off with perConversationSeries: 0', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider, perConversationSeries: 0 });
    t.connectionOpened('c1');
    t.observeMailboxDepths(() => [['c1', 2]]);
    const c = await collect();
    expect(c.value(METRICS.connectionsActive.name)).toBe(1);
    expect(c.byName.has(METRICS.conversationConnections.name)).toBe(false);
    expect(c.byName.has(METRICS.conversationMailboxDepth.name)).toBe(false);
    expect(c.value(METRICS.mailboxDepth.name)).toBe(2);
  });

  it('creates spans on the given tracer provider and injects a W3C traceparent', () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const t = createChatTelemetry({ tracerProvider });
    const propagator = new W3CTraceContextPropagator();
    const span = t.tracer.startSpan(SPANS.nlwebAsk, { kind: SpanKind.CLIENT });
    const headers: Record<string, string> = {};
    propagator.inject(trace.setSpan(context.active(), span), headers, {
      set: (carrier, key, value) => {
        (carrier as Record<string, string>)[key] = value;
      },
    });
    span.end();
    const [finished] = exporter.getFinishedSpans();
    expect(finished.name).toBe('nlweb.ask');
    expect(headers.traceparent).toBe(`00-${finished.spanContext().traceId}-${finished.spanContext().spanId}-01`);
  });

  it('the no-op telemetry accepts every call and records nothing', () => {
    const t = createNoopTelemetry();
    expect(t.enabled).toBe(false);
    t.messageIn('human');
    t.connectionOpened('x');
    t.storageOperation('append', 1, false);
    t.observeMailboxDepths(() => [])();
    const span = t.tracer.startSpan(SPANS.receive);
    expect(span.isRecording()).toBe(false);
    span.end();
    expect(t.injectTraceHeaders({})).toEqual({});
  });
});
