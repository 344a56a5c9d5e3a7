import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { validateConfig } from '../../config/load-config';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { setupSdk, type SdkHandle } from '../../observability/setup-sdk';
import { SPANS } from '../../observability/telemetry-names';

const observability = (over: Record<string, unknown> = {}) => validateConfig({ observability: over }).observability;

describe('setupSdk', () => {
  const handles: SdkHandle[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    for (const h of handles.splice(0)) await h.shutdown();
  });

  async function serve(handler: NonNullable<SdkHandle['metricsHandler']>): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  }

  it('serves recorded values in Prometheus text format through the handler', async () => {
    const sdk = await setupSdk({ observability: observability(), registerGlobals: false });
    handles.push(sdk);
    expect(sdk.metricsEnabled).toBe(true);
    expect(sdk.tracingEnabled).toBe(false);
    const t = createChatTelemetry({ meterProvider: sdk.meterProvider });
    for (let i = 0; i < 7; i++) t.messageIn('human');
    t.deliveryLatency(3);
    t.connectionOpened('c1');
    const res = await fetch(await serve(sdk.metricsHandler!));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^nlweb_chat_messages_in_total\{kind="human"\} 7$/m);
    expect(text).toMatch(/^nlweb_chat_delivery_latency_count 1$/m);
    expect(text).toMatch(/^nlweb_chat_delivery_latency_sum 3$/m);
    expect(text).toMatch(/^nlweb_chat_connections_active 1$/m);
    expect(text).toMatch(/^nlweb_chat_conversation_connections\{conversation_id="c1"\} 1$/m);
  });

  it('serves metrics on their own port when metrics.port > 0 and stops it on shutdown', async () => {
    // Find a free port, release it, then ask for it explicitly (port 0 means "on the main server").
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const sdk = await setupSdk({ observability: observability({ metrics: { port, path: '/m' } }), registerGlobals: false });
    expect(sdk.metricsHandler).toBeUndefined();
    expect(sdk.metricsServer?.port).toBe(port);
    createChatTelemetry({ meterProvider: sdk.meterProvider }).queueFull();
    const text = await (await fetch(sdk.metricsServer!.url)).text();
    expect(text).toMatch(/^nlweb_chat_queue_full_rejections_total 1$/m);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    await sdk.shutdown();
    await expect(fetch(sdk.metricsServer!.url)).rejects.toThrow();
  });

  it('with metrics disabled hands out a no-op meter provider and no handler', async () => {
    const sdk = await setupSdk({ observability: observability({ metrics: { enabled: false } }), registerGlobals: false });
    handles.push(sdk);
    expect(sdk.metricsHandler).toBeUndefined();
    expect(sdk.metricsEnabled).toBe(false);
    createChatTelemetry({ meterProvider: sdk.meterProvider }).messageIn('human');
  });

  it('turns tracing on from OTEL_* variables, off with OTEL_SDK_DISABLED', async () => {
    const on = await setupSdk({
      observability: observability(),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      registerGlobals: false,
    });
    handles.push(on);
    expect(on.tracingEnabled).toBe(true);
    const none = await setupSdk({
      observability: observability({ tracing: { enabled: true } }),
      env: { OTEL_TRACES_EXPORTER: 'none' },
      registerGlobals: false,
    });
    handles.push(none);
    expect(none.tracingEnabled).toBe(false);
    const disabled = await setupSdk({
      observability: observability({ tracing: { enabled: true } }),
      env: { OTEL_SDK_DISABLED: 'true' },
      registerGlobals: false,
    });
    handles.push(disabled);
    expect(disabled.tracingEnabled).toBe(false);
    expect(disabled.metricsEnabled).toBe(false);
  });

  it('registers the W3C propagator and async context so the active span reaches outgoing headers', async () => {
    const exporter = new InMemorySpanExporter();
    const sdk = await setupSdk({
      observability: observability({ tracing: { enabled: true, sample_ratio: 1 } }),
      spanExporter: exporter,
    });
    handles.push(sdk);
    const t = createChatTelemetry({ meterProvider: sdk.meterProvider });
    const headers = await t.tracer.startActiveSpan(SPANS.nlwebAsk, { kind: SpanKind.CLIENT }, async (span) => {
      await new Promise((r) => setImmediate(r)); // context must survive an async hop
      const h = t.injectTraceHeaders({});
      span.end();
      return h;
    });
    const [span] = exporter.getFinishedSpans();
    expect(span.name).toBe('nlweb.ask');
    expect(headers.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    await sdk.shutdown();
    // Globals are released: a later setup (or an embedder) can register its own.
    expect(t.injectTraceHeaders({})).toEqual({});
    expect(trace.getSpan(context.active())).toBeUndefined();
    expect(propagation.fields()).toEqual([]);
  });
});
