/**
 * Every metric, span and attribute name nlweb-chat records, in one place.
 * docs/observability.md documents the same table; test/observability/telemetry-names.test.ts keeps them in step.
 *
 * Naming: OpenTelemetry style (dots). The Prometheus exporter turns dots into underscores and appends
 * `_total` to counters; the unit goes to a `# UNIT` line, not the name (nlweb_chat_delivery_latency_bucket).
 * Labels are bounded: no message ids, no user ids; conversation ids only on the capped `conversation.*` gauges.
 */

/** The instrumentation scope (meter and tracer name). */
export const INSTRUMENTATION_SCOPE = 'nlweb-chat' as const;

export type MetricKind = 'counter' | 'updowncounter' | 'histogram' | 'gauge';

export interface MetricSpec {
  readonly name: string;
  readonly kind: MetricKind;
  /** UCUM unit ('ms', '1', or an annotation such as '{message}'). */
  readonly unit: string;
  readonly description: string;
  /** Attribute keys this metric may carry (every value set is bounded). */
  readonly labels: readonly string[];
}

/** Attribute (label) keys used on metrics. */
export const METRIC_LABELS = {
  /** Sender type of a message: human | ai | system | other. */
  kind: 'kind',
  /** Storage operation (a fixed set chosen by the code, e.g. append, read, meta). */
  operation: 'operation',
  /** ok | error. */
  outcome: 'outcome',
  /** Configured NLWeb endpoint id (bounded by config). */
  endpoint: 'endpoint',
  /** Error code from actors/errors.ts (bounded by ERROR_CODES). */
  code: 'code',
  /** 'true' | 'false'. */
  recovered: 'recovered',
  /** hit | miss. */
  result: 'result',
  /**
   * Why an agent job was dropped: queue_full | closed | chain_limit | other. Why a conversation moved to another
   * runtime: fenced | renewal.
   */
  reason: 'reason',
  /** How a caller reached the server: http | websocket. */
  transport: 'transport',
  /** Only on the capped per-conversation gauges. */
  conversationId: 'conversation_id',
} as const;

/** Latency buckets in milliseconds, from sub-millisecond fan-out to slow NLWeb answers. */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

export const METRICS = {
  connectionsActive: {
    name: 'nlweb_chat.connections.active',
    kind: 'updowncounter',
    unit: '{connection}',
    description: 'Open WebSocket subscriptions (all conversations).',
    labels: [],
  },
  connectionsForwarded: {
    name: 'nlweb_chat.connections.forwarded',
    kind: 'updowncounter',
    unit: '{connection}',
    description:
      'WebSocket connections piped to the server holding their conversation (chat.ownership.forward); not in connections.active.',
    labels: [],
  },
  conversationConnections: {
    name: 'nlweb_chat.conversation.connections',
    kind: 'gauge',
    unit: '{connection}',
    description: 'Open connections of the conversations with the most connections (top N, N = perConversationSeries).',
    labels: [METRIC_LABELS.conversationId],
  },
  messagesIn: {
    name: 'nlweb_chat.messages.in',
    kind: 'counter',
    unit: '{message}',
    description: 'Messages sequenced into conversations, by sender kind.',
    labels: [METRIC_LABELS.kind],
  },
  messagesOut: {
    name: 'nlweb_chat.messages.out',
    kind: 'counter',
    unit: '{message}',
    description: 'Message deliveries to recipients (one per recipient connection).',
    labels: [],
  },
  deliveryLatency: {
    name: 'nlweb_chat.delivery.latency',
    kind: 'histogram',
    unit: 'ms',
    description: 'Time from receiving a message to writing it to its last recipient.',
    labels: [],
  },
  mailboxDepth: {
    name: 'nlweb_chat.mailbox.depth',
    kind: 'gauge',
    unit: '{item}',
    description: 'Deepest mailbox (pending work) among live conversations.',
    labels: [],
  },
  mailboxDepthTotal: {
    name: 'nlweb_chat.mailbox.depth.total',
    kind: 'gauge',
    unit: '{item}',
    description: 'Pending work summed over live conversations.',
    labels: [],
  },
  conversationMailboxDepth: {
    name: 'nlweb_chat.conversation.mailbox.depth',
    kind: 'gauge',
    unit: '{item}',
    description: 'Mailbox depth of the conversations with the deepest mailboxes (top N, N = perConversationSeries).',
    labels: [METRIC_LABELS.conversationId],
  },
  agentJobsDropped: {
    name: 'nlweb_chat.agent.jobs.dropped',
    kind: 'counter',
    unit: '{job}',
    description: 'Agent jobs dropped or cancelled before completing, by reason.',
    labels: [METRIC_LABELS.reason],
  },
  queueFullRejections: {
    name: 'nlweb_chat.queue_full.rejections',
    kind: 'counter',
    unit: '{rejection}',
    description: 'Posts refused because the conversation mailbox was full (HTTP 429 / error frame 429).',
    labels: [],
  },
  storageOperationDuration: {
    name: 'nlweb_chat.storage.operation.duration',
    kind: 'histogram',
    unit: 'ms',
    description: 'Duration of storage operations, by operation and outcome.',
    labels: [METRIC_LABELS.operation, METRIC_LABELS.outcome],
  },
  storageFailures: {
    name: 'nlweb_chat.storage.failures',
    kind: 'counter',
    unit: '{failure}',
    description: 'Failed storage operations, by operation.',
    labels: [METRIC_LABELS.operation],
  },
  persistenceLag: {
    name: 'nlweb_chat.persistence.lag',
    kind: 'gauge',
    unit: '{message}',
    description: 'Messages delivered but not yet persisted, across live conversations.',
    labels: [],
  },
  resumeCache: {
    name: 'nlweb_chat.resume.cache',
    kind: 'counter',
    unit: '{resume}',
    description: 'Resumes served from the actor cache (hit) or from storage (miss).',
    labels: [METRIC_LABELS.result],
  },
  resumes: {
    name: 'nlweb_chat.resumes',
    kind: 'counter',
    unit: '{resume}',
    description: 'Subscriptions that resumed from a sequence id, by whether the whole range was recovered.',
    labels: [METRIC_LABELS.recovered],
  },
  reconnects: {
    name: 'nlweb_chat.reconnects',
    kind: 'counter',
    unit: '{connection}',
    description: 'Connections that arrived with a resume point (a client reconnecting).',
    labels: [],
  },
  agentCallDuration: {
    name: 'nlweb_chat.agent.call.duration',
    kind: 'histogram',
    unit: 'ms',
    description: 'Duration of agent calls (NLWeb /ask) until the answer is complete, by endpoint and outcome.',
    labels: [METRIC_LABELS.endpoint, METRIC_LABELS.outcome],
  },
  agentCallErrors: {
    name: 'nlweb_chat.agent.call.errors',
    kind: 'counter',
    unit: '{error}',
    description: 'Failed agent calls, by endpoint and error code.',
    labels: [METRIC_LABELS.endpoint, METRIC_LABELS.code],
  },
  agentWantsTurnErrors: {
    name: 'nlweb_chat.agent.wants_turn.errors',
    kind: 'counter',
    unit: '{error}',
    description: "Agents' wantsTurn filters that threw (the agent declined that turn; no call was made), by endpoint.",
    labels: [METRIC_LABELS.endpoint],
  },
  actorRestarts: {
    name: 'nlweb_chat.actor.restarts',
    kind: 'counter',
    unit: '{restart}',
    description: 'Conversation actors restarted by the supervisor after a crash.',
    labels: [],
  },
  actorPassivations: {
    name: 'nlweb_chat.actor.passivations',
    kind: 'counter',
    unit: '{passivation}',
    description: 'Idle conversation actors stopped (state stays in storage); not conversations moved to another runtime.',
    labels: [],
  },
  ownershipClaims: {
    name: 'nlweb_chat.ownership.claims',
    kind: 'gauge',
    unit: '{conversation}',
    description: 'Conversations this runtime holds the claim of (live here; several servers on one store).',
    labels: [],
  },
  ownershipMoves: {
    name: 'nlweb_chat.ownership.moves',
    kind: 'counter',
    unit: '{conversation}',
    description: 'Conversations stopped here because another runtime claimed them, by how this one found out.',
    labels: [METRIC_LABELS.reason],
  },
  ownershipClaimLapses: {
    name: 'nlweb_chat.ownership.claim_lapses',
    kind: 'counter',
    unit: '{renewal}',
    description:
      "Claim renewals asked for at once because a conversation's work waited on a claim past its validity by this runtime's clock (a pause, a slow renewal).",
    labels: [],
  },
  ownershipRefusals: {
    name: 'nlweb_chat.ownership.refusals',
    kind: 'counter',
    unit: '{refusal}',
    description: 'Requests and upgrades answered 421 CHAT_ERR_OWNED_ELSEWHERE (held by another server), by transport.',
    labels: [METRIC_LABELS.transport],
  },
  ownershipForwards: {
    name: 'nlweb_chat.ownership.forwards',
    kind: 'counter',
    unit: '{request}',
    description: 'Requests and upgrades forwarded to the server holding their conversation, by transport and outcome.',
    labels: [METRIC_LABELS.transport, METRIC_LABELS.outcome],
  },
  rateLimited: {
    name: 'nlweb_chat.rate_limit.hits',
    kind: 'counter',
    unit: '{rejection}',
    description: 'Frames or requests refused by the per-participant rate limit.',
    labels: [],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** Span names: one trace per message through receive → sequence → deliver → persist, plus agent calls. */
export const SPANS = {
  /** Gateway/runtime entry: a message frame or POST arrives (root of the message trace). */
  receive: 'chat.message.receive',
  /** The actor assigns the sequence id. */
  sequence: 'chat.message.sequence',
  /** Fan-out to every subscribed connection. */
  deliver: 'chat.message.deliver',
  /** The journal write (async, after delivery; linked to the receive span's trace). */
  persist: 'chat.message.persist',
  /** Client span for an NLWeb /ask call; its context travels in the `traceparent` header. */
  nlwebAsk: 'nlweb.ask',
} as const;

export type SpanName = (typeof SPANS)[keyof typeof SPANS];

/** Span attribute keys (spans may carry conversation ids; metrics may not). */
export const SPAN_ATTRIBUTES = {
  conversationId: 'chat.conversation_id',
  senderType: 'chat.sender_type',
  sequenceId: 'chat.sequence_id',
  recipients: 'chat.recipients',
  batchSize: 'chat.persist.batch_size',
  storageBackend: 'chat.storage.backend',
  endpoint: 'nlweb.endpoint',
  site: 'nlweb.site',
  mode: 'nlweb.mode',
  errorCode: 'chat.error_code',
  httpStatus: 'http.response.status_code',
  url: 'url.full',
} as const;
