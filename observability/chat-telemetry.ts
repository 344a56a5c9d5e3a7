import {
  context,
  metrics,
  propagation,
  ProxyTracerProvider,
  trace,
  ValueType,
  type Attributes,
  type Context,
  type MeterProvider,
  type ObservableResult,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { INSTRUMENTATION_SCOPE, LATENCY_BUCKETS_MS, METRIC_LABELS, METRICS } from './telemetry-names';

/** Sender kinds counted by nlweb_chat.messages.in (anything else is counted as 'other'). */
export type MessageKind = 'human' | 'ai' | 'system' | 'other';
/** Why an agent job was dropped (nlweb_chat.agent.jobs.dropped{reason}). */
export type AgentDropReason = 'queue_full' | 'closed' | 'chain_limit' | 'other';
/** How a caller reached the server (nlweb_chat.ownership.*{transport}). */
export type CallerTransport = 'http' | 'websocket';
/**
 * How a runtime found out another one claimed a conversation (nlweb_chat.ownership.moves{reason}): a journal or
 * reservation write refused by the store's fence, or a claim renewal that no longer found the claim its own.
 */
export type MoveReason = 'fenced' | 'renewal';

/**
 * The recording surface the runtime and gateway call. Every method is cheap (no allocation on the hot
 * path: attribute sets are cached) and never throws.
 */
export interface ChatTelemetry {
  /** False for the no-op telemetry: callers may skip measuring time when nothing records it. */
  readonly enabled: boolean;
  /** Tracer for the spans named in SPANS (telemetry-names.ts). */
  readonly tracer: Tracer;
  /** A message was sequenced; kind is the sender type. */
  messageIn(kind: string): void;
  /** n deliveries were written to recipient connections. */
  messagesOut(n: number): void;
  /** Receive → last recipient written, in milliseconds. */
  deliveryLatency(ms: number): void;
  /** A subscription opened; with a conversation id it also feeds the capped per-conversation gauge. */
  connectionOpened(conversationId?: string): void;
  /** Pair of connectionOpened (pass the same conversation id). */
  connectionClosed(conversationId?: string): void;
  /** A WebSocket is now piped to the server holding its conversation (the gateway's owner forwarding). */
  forwardedConnectionOpened(): void;
  /** Pair of forwardedConnectionOpened. */
  forwardedConnectionClosed(): void;
  /**
   * Registers a provider of [conversationId, mailboxDepth] pairs read at each metric collection.
   * Returns a function that unregisters it.
   */
  observeMailboxDepths(fn: () => Iterable<readonly [string, number]>): () => void;
  /** Registers a provider of the number of delivered-but-unpersisted records (summed over providers). */
  observePersistenceLag(fn: () => number): () => void;
  agentJobDropped(reason?: AgentDropReason): void;
  /** A post was refused with CHAT_ERR_QUEUE_FULL. */
  queueFull(): void;
  /** A frame/request was refused with GATEWAY_ERR_RATE_LIMITED. */
  rateLimited(): void;
  /** A storage operation finished (op is a fixed name chosen by the code: append, read, ...). */
  storageOperation(op: string, ms: number, ok: boolean): void;
  /** A connection arrived with a resume point. */
  reconnect(): void;
  /** A resume finished: recovered = the whole range was available; fromCache = served without storage. */
  resume(recovered: boolean, fromCache: boolean): void;
  /** An agent call finished (endpoint = configured endpoint id; code = ChatError code on failure). */
  agentCall(endpoint: string, ms: number, ok: boolean, code?: string): void;
  /** An agent's wantsTurn threw, so it declined the turn (endpoint = the agent's id, as for agentCall). */
  agentWantsTurnError(endpoint: string): void;
  actorRestart(): void;
  /** An idle conversation's actor stopped (passivation); not a conversation moved away (conversationMoved). */
  actorPassivated(): void;
  /** A conversation stopped here because another runtime claimed it. */
  conversationMoved(reason: MoveReason): void;
  /** Work waited on a claim past its validity by this runtime's clock, so a renewal was asked for at once (claim-keeper.ts). */
  claimLapsed(): void;
  /** Registers a provider of the number of conversation claims this runtime holds. Returns a function that unregisters it. */
  observeClaimsHeld(fn: () => number): () => void;
  /** A request or upgrade for a conversation another server holds was forwarded there (ok) or could not be. */
  ownershipForward(transport: CallerTransport, ok: boolean): void;
  /** A request or upgrade was answered 421 / refused CHAT_ERR_OWNED_ELSEWHERE. */
  ownershipRefused(transport: CallerTransport): void;
  /** Writes the W3C trace context of ctx (default: the active context) into outgoing HTTP headers. */
  injectTraceHeaders(headers: Record<string, string>, ctx?: Context): Record<string, string>;
}

export interface ChatTelemetryOptions {
  /** Defaults to the global provider at call time (create telemetry after the SDK registers its provider). */
  readonly meterProvider?: MeterProvider;
  /** Defaults to the global (proxy) tracer provider, which follows later registrations. */
  readonly tracerProvider?: TracerProvider;
  /**
   * How many conversations get their own series on the nlweb_chat.conversation.* gauges (the ones with the
   * most connections / deepest mailboxes at collection time). 0 turns per-conversation series off. Default 10.
   */
  readonly perConversationSeries?: number;
  /** Most distinct values kept per free-form label (endpoint, operation, code); the rest become 'other'. */
  readonly maxLabelValues?: number;
}

const KINDS: ReadonlySet<string> = new Set(['human', 'ai', 'system']);
const DROP_REASONS: ReadonlySet<string> = new Set(['queue_full', 'closed', 'chain_limit']);

/**
 * Builds the instruments over @opentelemetry/api only, so an embedding service's own providers receive
 * our metrics and spans without any change. The SDK (exporters) is set up in bin/ only.
 */
export function createChatTelemetry(options: ChatTelemetryOptions = {}): ChatTelemetry {
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const topN = Math.max(0, Math.floor(options.perConversationSeries ?? 10));
  const maxLabelValues = Math.max(1, Math.floor(options.maxLabelValues ?? 50));
  const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE);
  const tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE);
  const histogramAdvice = { advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_MS] } };

  const connectionsActive = meter.createUpDownCounter(METRICS.connectionsActive.name, describe('connectionsActive'));
  const connectionsForwarded = meter.createUpDownCounter(METRICS.connectionsForwarded.name, describe('connectionsForwarded'));
  const messagesIn = meter.createCounter(METRICS.messagesIn.name, describe('messagesIn'));
  const messagesOut = meter.createCounter(METRICS.messagesOut.name, describe('messagesOut'));
  const deliveryLatency = meter.createHistogram(METRICS.deliveryLatency.name, {
    ...describe('deliveryLatency'),
    valueType: ValueType.DOUBLE,
    ...histogramAdvice,
  });
  const agentJobsDropped = meter.createCounter(METRICS.agentJobsDropped.name, describe('agentJobsDropped'));
  const queueFullRejections = meter.createCounter(METRICS.queueFullRejections.name, describe('queueFullRejections'));
  const rateLimited = meter.createCounter(METRICS.rateLimited.name, describe('rateLimited'));
  const storageDuration = meter.createHistogram(METRICS.storageOperationDuration.name, {
    ...describe('storageOperationDuration'),
    valueType: ValueType.DOUBLE,
    ...histogramAdvice,
  });
  const storageFailures = meter.createCounter(METRICS.storageFailures.name, describe('storageFailures'));
  const resumeCache = meter.createCounter(METRICS.resumeCache.name, describe('resumeCache'));
  const resumes = meter.createCounter(METRICS.resumes.name, describe('resumes'));
  const reconnects = meter.createCounter(METRICS.reconnects.name, describe('reconnects'));
  const agentCallDuration = meter.createHistogram(METRICS.agentCallDuration.name, {
    ...describe('agentCallDuration'),
    valueType: ValueType.DOUBLE,
    ...histogramAdvice,
  });
  const agentCallErrors = meter.createCounter(METRICS.agentCallErrors.name, describe('agentCallErrors'));
  const agentWantsTurnErrors = meter.createCounter(METRICS.agentWantsTurnErrors.name, describe('agentWantsTurnErrors'));
  const actorRestarts = meter.createCounter(METRICS.actorRestarts.name, describe('actorRestarts'));
  const actorPassivations = meter.createCounter(METRICS.actorPassivations.name, describe('actorPassivations'));
  const ownershipMoves = meter.createCounter(METRICS.ownershipMoves.name, describe('ownershipMoves'));
  const ownershipRefusals = meter.createCounter(METRICS.ownershipRefusals.name, describe('ownershipRefusals'));
  const ownershipClaimLapses = meter.createCounter(METRICS.ownershipClaimLapses.name, describe('ownershipClaimLapses'));
  const ownershipForwards = meter.createCounter(METRICS.ownershipForwards.name, describe('ownershipForwards'));

  // Pre-built attribute sets: the hot path passes a cached frozen object instead of allocating one.
  const EMPTY: Attributes = Object.freeze({});
  const kindAttrs = cacheBy((k: string) => ({ [METRIC_LABELS.kind]: KINDS.has(k) ? k : 'other' }));
  const dropAttrs = cacheBy((r: string) => ({ [METRIC_LABELS.reason]: DROP_REASONS.has(r) ? r : 'other' }));
  const boolAttrs = (key: string): [Attributes, Attributes] => [Object.freeze({ [key]: 'false' }), Object.freeze({ [key]: 'true' })];
  const recoveredAttrs = boolAttrs(METRIC_LABELS.recovered);
  const MOVE_REASONS: readonly MoveReason[] = ['fenced', 'renewal'];
  const TRANSPORTS: readonly CallerTransport[] = ['http', 'websocket'];
  const moveAttrs = cacheBy((r: string) => ({ [METRIC_LABELS.reason]: r }));
  const transportAttrs = cacheBy((t: string) => ({ [METRIC_LABELS.transport]: t }));
  const forwardAttrs = cacheBy((key: string) => {
    const [transport, outcome] = key.split(' ');
    return { [METRIC_LABELS.transport]: transport, [METRIC_LABELS.outcome]: outcome };
  });
  const cacheHit: Attributes = Object.freeze({ [METRIC_LABELS.result]: 'hit' });
  const cacheMiss: Attributes = Object.freeze({ [METRIC_LABELS.result]: 'miss' });
  const storageOk = bounded((op) => ({ [METRIC_LABELS.operation]: op, [METRIC_LABELS.outcome]: 'ok' }));
  const storageErr = bounded((op) => ({ [METRIC_LABELS.operation]: op, [METRIC_LABELS.outcome]: 'error' }));
  const storageFailAttrs = bounded((op) => ({ [METRIC_LABELS.operation]: op }));
  const agentOk = bounded((ep) => ({ [METRIC_LABELS.endpoint]: ep, [METRIC_LABELS.outcome]: 'ok' }));
  const agentErr = bounded((ep) => ({ [METRIC_LABELS.endpoint]: ep, [METRIC_LABELS.outcome]: 'error' }));
  const agentEndpoint = bounded((ep) => ({ [METRIC_LABELS.endpoint]: ep }));
  const agentErrCode = bounded((key) => {
    const at = key.indexOf('\u0000');
    return { [METRIC_LABELS.endpoint]: key.slice(0, at), [METRIC_LABELS.code]: key.slice(at + 1) };
  });

  // Counters with a fixed label set start at 0, so a scrape shows them (and rate() works) before their first event:
  // an absent series reads as "not instrumented", and an alert on increase() misses the first one.
  for (const counter of [queueFullRejections, rateLimited, reconnects, actorRestarts, actorPassivations, messagesOut, ownershipClaimLapses])
    counter.add(0, EMPTY);
  // The same for the open connections: a replica without any (new, or only forwarding to holders) reads 0, not nothing.
  connectionsActive.add(0, EMPTY);
  connectionsForwarded.add(0, EMPTY);
  for (const kind of KINDS) messagesIn.add(0, kindAttrs(kind));
  for (const attrs of recoveredAttrs) resumes.add(0, attrs);
  for (const reason of MOVE_REASONS) ownershipMoves.add(0, moveAttrs(reason));
  for (const transport of TRANSPORTS) {
    ownershipRefusals.add(0, transportAttrs(transport));
    for (const outcome of ['ok', 'error']) ownershipForwards.add(0, forwardAttrs(`${transport} ${outcome}`));
  }
  resumeCache.add(0, cacheHit);
  resumeCache.add(0, cacheMiss);

  // Per-conversation connection counts, kept only when the capped gauge is on.
  const connectionsByConversation = new Map<string, number>();
  const mailboxProviders = new Set<() => Iterable<readonly [string, number]>>();
  const lagProviders = new Set<() => number>();
  const claimsProviders = new Set<() => number>();

  const mailboxDepth = meter.createObservableGauge(METRICS.mailboxDepth.name, describe('mailboxDepth'));
  const mailboxDepthTotal = meter.createObservableGauge(METRICS.mailboxDepthTotal.name, describe('mailboxDepthTotal'));
  // Per-message counters are pre-aggregated in plain numbers and handed to the SDK once per collection:
  // a labelled add() costs ~340 ns (the SDK hashes the attribute set on every call), a local increment ~2 ns.
  // The SDK runs observable callbacks before it reads synchronous instruments (MeterSharedState.collect),
  // so the flush below lands in the same collection; several telemetries on one provider still sum.
  const pendingIn: Record<MessageKind, number> = { human: 0, ai: 0, system: 0, other: 0 };
  let pendingOut = 0;
  const flushPending = (): void => {
    for (const kind of Object.keys(pendingIn) as MessageKind[]) {
      const n = pendingIn[kind];
      if (n > 0) {
        pendingIn[kind] = 0;
        messagesIn.add(n, kindAttrs(kind));
      }
    }
    if (pendingOut > 0) {
      messagesOut.add(pendingOut, EMPTY);
      pendingOut = 0;
    }
  };
  const persistenceLag = meter.createObservableGauge(METRICS.persistenceLag.name, describe('persistenceLag'));
  persistenceLag.addCallback((result: ObservableResult) => {
    flushPending();
    let lag = 0;
    for (const fn of lagProviders) lag += safeNumber(fn);
    result.observe(lag);
  });
  const ownershipClaims = meter.createObservableGauge(METRICS.ownershipClaims.name, describe('ownershipClaims'));
  ownershipClaims.addCallback((result: ObservableResult) => {
    let held = 0;
    for (const fn of claimsProviders) held += safeNumber(fn);
    result.observe(held);
  });
  const conversationMailboxDepth =
    topN > 0 ? meter.createObservableGauge(METRICS.conversationMailboxDepth.name, describe('conversationMailboxDepth')) : undefined;
  // One batch callback reads every provider once per collection for all mailbox gauges.
  meter.addBatchObservableCallback(
    (result) => {
      let max = 0;
      let sum = 0;
      const pairs: Array<readonly [string, number]> = [];
      for (const fn of mailboxProviders) {
        try {
          for (const pair of fn()) {
            const depth = pair[1];
            if (depth > max) max = depth;
            sum += depth;
            if (conversationMailboxDepth) pairs.push(pair);
          }
        } catch {
          // A failing provider must not break the scrape of every other metric.
        }
      }
      result.observe(mailboxDepth, max);
      result.observe(mailboxDepthTotal, sum);
      if (conversationMailboxDepth) {
        for (const [id, depth] of topEntries(pairs, topN)) {
          if (depth > 0) result.observe(conversationMailboxDepth, depth, { [METRIC_LABELS.conversationId]: id });
        }
      }
    },
    conversationMailboxDepth ? [mailboxDepth, mailboxDepthTotal, conversationMailboxDepth] : [mailboxDepth, mailboxDepthTotal],
  );
  if (topN > 0) {
    const conversationConnections = meter.createObservableGauge(METRICS.conversationConnections.name, describe('conversationConnections'));
    conversationConnections.addCallback((result) => {
      for (const [id, count] of topEntries(connectionsByConversation.entries(), topN)) {
        result.observe(count, { [METRIC_LABELS.conversationId]: id });
      }
    });
  }

  return {
    enabled: true,
    tracer,
    messageIn: (kind) => {
      if (kind === 'human' || kind === 'ai' || kind === 'system') pendingIn[kind]++;
      else pendingIn.other++;
    },
    messagesOut: (n) => {
      if (n > 0) pendingOut += n;
    },
    deliveryLatency: (ms) => deliveryLatency.record(ms, EMPTY),
    connectionOpened: (conversationId) => {
      connectionsActive.add(1, EMPTY);
      if (topN > 0 && conversationId !== undefined) {
        connectionsByConversation.set(conversationId, (connectionsByConversation.get(conversationId) ?? 0) + 1);
      }
    },
    connectionClosed: (conversationId) => {
      connectionsActive.add(-1, EMPTY);
      if (topN > 0 && conversationId !== undefined) {
        const left = (connectionsByConversation.get(conversationId) ?? 0) - 1;
        if (left > 0) connectionsByConversation.set(conversationId, left);
        else connectionsByConversation.delete(conversationId);
      }
    },
    forwardedConnectionOpened: () => connectionsForwarded.add(1, EMPTY),
    forwardedConnectionClosed: () => connectionsForwarded.add(-1, EMPTY),
    observeMailboxDepths: (fn) => {
      mailboxProviders.add(fn);
      return () => void mailboxProviders.delete(fn);
    },
    observePersistenceLag: (fn) => {
      lagProviders.add(fn);
      return () => void lagProviders.delete(fn);
    },
    agentJobDropped: (reason = 'other') => agentJobsDropped.add(1, dropAttrs(reason)),
    queueFull: () => queueFullRejections.add(1, EMPTY),
    rateLimited: () => rateLimited.add(1, EMPTY),
    storageOperation: (op, ms, ok) => {
      storageDuration.record(ms, ok ? storageOk(op) : storageErr(op));
      if (!ok) storageFailures.add(1, storageFailAttrs(op));
    },
    reconnect: () => reconnects.add(1, EMPTY),
    resume: (recovered, fromCache) => {
      resumes.add(1, recoveredAttrs[recovered ? 1 : 0]);
      resumeCache.add(1, fromCache ? cacheHit : cacheMiss);
    },
    agentCall: (endpoint, ms, ok, code) => {
      agentCallDuration.record(ms, ok ? agentOk(endpoint) : agentErr(endpoint));
      if (!ok) agentCallErrors.add(1, agentErrCode(`${endpoint}\u0000${code ?? 'unknown'}`));
    },
    agentWantsTurnError: (endpoint) => agentWantsTurnErrors.add(1, agentEndpoint(endpoint)),
    actorRestart: () => actorRestarts.add(1, EMPTY),
    actorPassivated: () => actorPassivations.add(1, EMPTY),
    conversationMoved: (reason) => ownershipMoves.add(1, moveAttrs(reason)),
    claimLapsed: () => ownershipClaimLapses.add(1, EMPTY),
    observeClaimsHeld: (fn) => {
      claimsProviders.add(fn);
      return () => void claimsProviders.delete(fn);
    },
    ownershipForward: (transport, ok) => ownershipForwards.add(1, forwardAttrs(`${transport} ${ok ? 'ok' : 'error'}`)),
    ownershipRefused: (transport) => ownershipRefusals.add(1, transportAttrs(transport)),
    injectTraceHeaders: (headers, ctx) => {
      propagation.inject(ctx ?? context.active(), headers);
      return headers;
    },
  };

  /** Caches one frozen attribute set per distinct value, up to maxLabelValues; later values share 'other'. */
  function bounded(build: (value: string) => Attributes): (value: string) => Attributes {
    const cache = new Map<string, Attributes>();
    let overflow: Attributes | undefined;
    return (value) => {
      const hit = cache.get(value);
      if (hit) return hit;
      if (cache.size >= maxLabelValues) {
        overflow ??= Object.freeze(build('other'));
        return overflow;
      }
      const attrs = Object.freeze(build(value));
      cache.set(value, attrs);
      return attrs;
    };
  }
}

/** A telemetry that records nothing (for tests and embedders that opt out); every method is a no-op. */
export function createNoopTelemetry(): ChatTelemetry {
  const noop = (): void => undefined;
  const unregister = (): (() => void) => noop;
  return {
    enabled: false,
    // A proxy provider without a delegate hands out no-op tracers, independent of any global registration.
    tracer: new ProxyTracerProvider().getTracer(INSTRUMENTATION_SCOPE),
    messageIn: noop,
    messagesOut: noop,
    deliveryLatency: noop,
    connectionOpened: noop,
    connectionClosed: noop,
    forwardedConnectionOpened: noop,
    forwardedConnectionClosed: noop,
    observeMailboxDepths: unregister,
    observePersistenceLag: unregister,
    agentJobDropped: noop,
    queueFull: noop,
    rateLimited: noop,
    storageOperation: noop,
    reconnect: noop,
    resume: noop,
    agentCall: noop,
    agentWantsTurnError: noop,
    actorRestart: noop,
    actorPassivated: noop,
    conversationMoved: noop,
    claimLapsed: noop,
    observeClaimsHeld: unregister,
    ownershipForward: noop,
    ownershipRefused: noop,
    injectTraceHeaders: (headers) => headers,
  };
}

function describe(key: keyof typeof METRICS): { description: string; unit: string } {
  return { description: METRICS[key].description, unit: METRICS[key].unit };
}

function cacheBy(build: (value: string) => Attributes): (value: string) => Attributes {
  const cache = new Map<string, Attributes>();
  return (value) => {
    let attrs = cache.get(value);
    if (!attrs) {
      attrs = Object.freeze(build(value));
      // Only bounded outputs reach here (build maps unknown values to 'other'), but bound the keys too.
      if (cache.size < 64) cache.set(value, attrs);
    }
    return attrs;
  };
}

function safeNumber(fn: () => number): number {
  try {
    const v = fn();
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

/** The n entries with the largest values (ties in insertion order). */
function topEntries(entries: Iterable<readonly [string, number]>, n: number): Array<readonly [string, number]> {
  const all = Array.isArray(entries) ? (entries as Array<readonly [string, number]>) : [...entries];
  if (all.length <= n) return all;
  return [...all].sort((a, b) => b[1] - a[1]).slice(0, n);
}
