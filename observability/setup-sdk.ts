import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  createNoopMeter,
  metrics,
  propagation,
  trace,
  type MeterProvider as ApiMeterProvider,
  type TracerProvider as ApiTracerProvider,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ObservabilityConfig } from '../config/config-types';

/** (req, res) handler serving the Prometheus text exposition; mountable on express or plain http. */
export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SetupSdkOptions {
  readonly observability: ObservabilityConfig;
  /** Host the separate metrics server binds to when metrics.port > 0. */
  readonly host?: string;
  /**
   * The separate metrics server closes a connection silent this long (ms; the binary passes server.idle_timeout_s),
   * as the API server does: it is a listener of the same process, whose file descriptors silent connections to it
   * would use up just the same. 0 or absent: never.
   */
  readonly idleTimeoutMs?: number;
  /** Read for OTEL_* variables (default: none; the entry point passes process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Register providers, W3C propagator and AsyncLocalStorage context manager globally (default true). */
  readonly registerGlobals?: boolean;
  /** Replaces the OTLP exporter (tests pass an InMemorySpanExporter). Exported spans go out unbatched. */
  readonly spanExporter?: SpanExporter;
  readonly serviceVersion?: string;
}

export interface SdkHandle {
  /** The SDK provider when metrics are on, otherwise a no-op provider (recording costs nothing). */
  readonly meterProvider: ApiMeterProvider;
  /** Present only when tracing is on. */
  readonly tracerProvider?: ApiTracerProvider;
  /** Mount at observability.metrics.path on the main server; undefined when metrics are off or on their own port. */
  readonly metricsHandler?: MetricsHandler;
  /** Set when metrics are served on their own port (metrics.port > 0). */
  readonly metricsServer?: { readonly url: string; readonly port: number };
  readonly metricsEnabled: boolean;
  readonly tracingEnabled: boolean;
  /** Flushes spans, stops the metrics server, unregisters globals. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry SDK set-up for the server entry point only (library code records through
 * @opentelemetry/api). Metrics: MeterProvider + PrometheusExporter without its own server (we serve
 * the handler). Tracing, off by default: on when observability.tracing.enabled, or OTEL_TRACES_EXPORTER
 * is otlp/console, or OTEL_EXPORTER_OTLP(_TRACES)_ENDPOINT is set; OTEL_SDK_DISABLED=true and
 * OTEL_TRACES_EXPORTER=none turn it off.
 */
export async function setupSdk(options: SetupSdkOptions): Promise<SdkHandle> {
  const env = options.env ?? {};
  const obs = options.observability;
  const registerGlobals = options.registerGlobals ?? true;
  const sdkDisabled = env.OTEL_SDK_DISABLED === 'true';
  const resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME || 'nlweb-chat',
      ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
    }),
  );
  const cleanups: Array<() => Promise<void> | void> = [];

  // --- metrics
  const metricsEnabled = obs.metrics.enabled && !sdkDisabled;
  let meterProvider: ApiMeterProvider = { getMeter: () => createNoopMeter() };
  let metricsHandler: MetricsHandler | undefined;
  let metricsServer: { url: string; port: number } | undefined;
  if (metricsEnabled) {
    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
    const sdkMeterProvider = new MeterProvider({ resource, readers: [exporter] });
    meterProvider = sdkMeterProvider;
    cleanups.push(() => sdkMeterProvider.shutdown());
    const handler: MetricsHandler = (req, res) => exporter.getMetricsRequestHandler(req, res);
    if (obs.metrics.port > 0) {
      const server = await listenMetricsServer(
        handler,
        obs.metrics.path,
        obs.metrics.port,
        options.host ?? '127.0.0.1',
        options.idleTimeoutMs ?? 0,
      );
      const port = (server.address() as AddressInfo).port;
      metricsServer = { url: `http://${options.host ?? '127.0.0.1'}:${port}${obs.metrics.path}`, port };
      cleanups.push(() => closeServer(server));
    } else {
      metricsHandler = handler;
    }
    if (registerGlobals) {
      metrics.setGlobalMeterProvider(sdkMeterProvider);
      cleanups.push(() => metrics.disable());
    }
  }

  // --- tracing
  const tracesExporterEnv = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  const tracingEnabled =
    !sdkDisabled &&
    tracesExporterEnv !== 'none' &&
    (obs.tracing.enabled ||
      tracesExporterEnv === 'otlp' ||
      tracesExporterEnv === 'console' ||
      Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT) ||
      Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
      options.spanExporter !== undefined);
  let tracerProvider: BasicTracerProvider | undefined;
  if (tracingEnabled) {
    let processor: SpanProcessor;
    if (options.spanExporter) {
      processor = new SimpleSpanProcessor(options.spanExporter);
    } else if (tracesExporterEnv === 'console') {
      processor = new SimpleSpanProcessor(new ConsoleSpanExporter());
    } else {
      // Without a configured endpoint the exporter reads OTEL_EXPORTER_OTLP_* itself (default localhost:4318).
      const url = obs.tracing.otlp_endpoint ? tracesUrl(obs.tracing.otlp_endpoint) : undefined;
      processor = new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {}));
    }
    const ratio = sampleRatio(obs.tracing.sample_ratio, env);
    tracerProvider = new BasicTracerProvider({
      resource,
      // Parent-based: a request arriving with a sampled traceparent stays in its caller's trace.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: [processor],
    });
    const provider = tracerProvider;
    cleanups.push(() => provider.shutdown());
    if (registerGlobals) {
      const contextManager = new AsyncLocalStorageContextManager().enable();
      context.setGlobalContextManager(contextManager);
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
      cleanups.push(() => {
        trace.disable();
        propagation.disable();
        context.disable();
      });
    }
  }

  let shutdownPromise: Promise<void> | undefined;
  return {
    meterProvider,
    tracerProvider,
    metricsHandler,
    metricsServer,
    metricsEnabled,
    tracingEnabled,
    shutdown() {
      shutdownPromise ??= (async () => {
        // Reverse order: globals first, then providers (which flush), then servers.
        for (const cleanup of cleanups.reverse()) {
          try {
            await cleanup();
          } catch {
            // Shutdown is best effort: an unreachable collector must not block process exit.
          }
        }
      })();
      return shutdownPromise;
    },
  };
}

/** Accepts a base endpoint (http://collector:4318) or the full traces URL. */
function tracesUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

/** OTEL_TRACES_SAMPLER_ARG overrides the configured ratio when it is a number in [0, 1]. */
function sampleRatio(configured: number, env: Readonly<Record<string, string | undefined>>): number {
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  if (arg !== undefined && arg.trim() !== '') {
    const n = Number(arg);
    if (Number.isFinite(n) && n >= 0 && n <= 1) return n;
  }
  return configured;
}

function listenMetricsServer(handler: MetricsHandler, path: string, port: number, host: string, idleTimeoutMs: number): Promise<Server> {
  const server = createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && pathname === path) return handler(req, res);
    res.statusCode = 404;
    res.end('not found');
  });
  if (idleTimeoutMs > 0) server.setTimeout(idleTimeoutMs);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
