/** The validated, frozen configuration. Every key has a default in config-schema.ts. */
export interface NlwebChatConfig {
  readonly server: ServerConfig;
  readonly chat: ChatConfig;
  readonly observability: ObservabilityConfig;
}

export interface ServerConfig {
  /** Listening host (env HOST). */
  readonly host: string;
  /** Listening port, 0 = any free port (env PORT). */
  readonly port: number;
  /** An HTTP connection silent this long is closed, also one that never sent a request (0 = never); not WebSockets. */
  readonly idle_timeout_s: number;
  readonly tls: {
    readonly cert_file: string;
    readonly key_file: string;
    /** Refuse plain http/ws connections (426 / close 4026). */
    readonly require_tls: boolean;
  };
  /**
   * Origins of other sites' pages that may call the HTTP API (with CORS) and open WebSockets: "https://app.example.com",
   * "*" for any, "null" for sandboxed pages. The server's own pages and non-browser clients need no entry.
   */
  readonly allowed_origins: readonly string[];
  readonly auth: {
    /** 'jwt' verifies HS256 bearer tokens; 'dev' trusts a user_id query parameter, loopback only. */
    readonly mode: 'jwt' | 'dev';
    /** HS256 secret (env NLWEB_CHAT_JWT_SECRET). */
    readonly jwt_secret: string;
    readonly jwt_issuer: string;
    /** When > 0, a token must carry `exp`, at most this many seconds from now (0 = any token, exp or not). */
    readonly jwt_max_age_s: number;
    /** How many seconds ahead of this server's clock a token's `iat` or `nbf` may be (default 60); further is 401. */
    readonly jwt_clock_skew_s: number;
    /** Query parameter names an embedder's authenticate function reads; other unknown names are refused (400). */
    readonly query_parameters: readonly string[];
  };
  readonly websocket: {
    readonly heartbeat_interval_s: number;
    /** A socket silent (no pong, no frame) this long is terminated with close 4000. */
    readonly heartbeat_dead_s: number;
    /** Buffered bytes past which a slow consumer is closed with 4008. */
    readonly high_water_bytes: number;
    /** A paced replay whose socket takes none of a step for this long is closed with 4008 (gateway/paced-outputs.ts). */
    readonly replay_stall_ms: number;
    /** A socket closed 4008 is reset (RST) this long after its close frame if the close handshake has not ended. */
    readonly slow_consumer_close_grace_ms: number;
    readonly max_frame_bytes: number;
    /** WebSockets one user id may have open (and upgrading) at once on this gateway; 0 = no bound. */
    readonly max_connections_per_user: number;
    /** WebSocket upgrades one client address may have waiting for authentication at once on this gateway; 0 = no bound. */
    readonly max_authenticating_per_address: number;
  };
}

export interface ChatConfig {
  readonly storage: {
    readonly backend: 'memory' | 'sqlite' | 'postgres' | 'redis';
    /**
     * What the SQL stores' open() does with an older schema: 'apply' migrates it; 'require_current' refuses any
     * schema but this build's (STORAGE_ERR_SCHEMA_VERSION) and leaves it to `nlweb-chat migrate`. memory: no effect.
     */
    readonly migrations: 'apply' | 'require_current';
    readonly memory: {
      /** Records the memory store holds per conversation; past it the oldest are dropped (0 = keep all). */
      readonly max_records_per_conversation: number;
      /** Records it holds across all conversations; past it the quietest conversations lose their oldest (0 = no total bound). */
      readonly max_records_total: number;
      /** Estimated heap bytes of the records it holds across all conversations; past it, trimmed like max_records_total (0 = no byte bound). */
      readonly max_bytes_total: number;
    };
    readonly sqlite: {
      readonly path: string;
      /** How long a call waits (asynchronously) for a lock another connection holds before STORAGE_ERR_UNAVAILABLE. */
      readonly busy_timeout_ms: number;
      /** The same for open() (WAL switch and migrations while another process starts). */
      readonly open_busy_timeout_ms: number;
    };
    /** schema: tables live there (created when missing); always set after loading (default "public"). */
    readonly postgres: {
      readonly url: string;
      readonly pool_size: number;
      readonly operation_timeout_ms: number;
      readonly schema?: string;
      /** false: every statement unnamed, for a pooler in transaction mode (PostgresStoreOptions.preparedStatements). */
      readonly prepared_statements: boolean;
    };
    /** key_prefix: every key the store writes starts with it (deployments sharing one Redis each need their own). */
    readonly redis: {
      readonly url: string;
      readonly key_prefix: string;
      readonly operation_timeout_ms: number;
    };
    /** Largest batch one journal write carries. */
    readonly batch_max: number;
    /** Backoff for failed journal writes (retried in order, forever, until shutdown). */
    readonly retry_initial_ms: number;
    readonly retry_max_ms: number;
  };
  readonly context: {
    readonly human_messages: number;
    /** Seconds one /ask call may take. */
    readonly nlweb_timeout: number;
    /** Reconnect attempts of the reference client. */
    readonly ws_max_retries: number;
  };
  readonly limits: {
    readonly max_participants: number;
    /** Bound on pending work per conversation (unpersisted records + agent jobs). */
    readonly queue_size: number;
    readonly max_message_length: number;
    /** Longest content of one piece of an agent's answer (longer: the job fails with AGENT_ERR_INVALID_OUTPUT). */
    readonly max_agent_output_length: number;
    /** Longest metadata of a human post, in bytes of JSON (0 = no bound but the frame's); the gateway refuses more. */
    readonly max_metadata_bytes: number;
    readonly max_concurrent_agent_jobs: number;
    readonly rate_limit_per_second: number;
    readonly rate_limit_burst: number;
    /** Conversations one user may create over HTTP per minute (token bucket refill), and the bucket size. */
    readonly conversations_per_minute: number;
    readonly conversations_burst: number;
    /** HTTP GET requests one user may make per second (token bucket refill, over all routes), and the bucket size. */
    readonly reads_per_second: number;
    readonly reads_burst: number;
    /** Joins and leaves (HTTP routes, WebSocket join=true and leave) one user may make per second (token bucket refill, over all conversations), and the bucket size. */
    readonly membership_changes_per_second: number;
    readonly membership_changes_burst: number;
  };
  readonly input: {
    /** Multi mode: agents answer after this long without a further human message. */
    readonly multi_mode_window_ms: number;
    /** Multi mode: agents answer at most this long after a burst's first message, even while humans keep posting (0 = no cap). */
    readonly multi_mode_max_wait_ms: number;
    /** Single mode: wait this long only while the client reports the human is typing. */
    readonly single_mode_typing_window_ms: number;
  };
  /** Who of the human members has a subscription open (docs/conversations.md, Presence). */
  readonly presence: {
    /** After a member's last subscription closes, wait this long before announcing it offline (a reload is no flap). */
    readonly offline_grace_s: number;
    /** Presence changes reach sockets that asked for batches as one `presence_batch` at most this often (0 = each at once). */
    readonly batch_interval_ms: number;
  };
  /** What the other members are shown of a member's typing (docs/protocol.md, Typing). */
  readonly typing: {
    /** A member's stop reaches the others this long after it, unless the member starts again meanwhile (0 = at once). */
    readonly stop_hold_ms: number;
    /** A start of a member already shown typing is relayed only this long after the last one relayed (0 = every one). */
    readonly repeat_min_ms: number;
  };
  /** How far each member has read (docs/protocol.md, Read positions). */
  readonly read_positions: {
    /** A member's new read position reaches the connections at most once per this many ms (the latest one; 0 = every change). */
    readonly announce_interval_ms: number;
    /** Changed read positions are written to the store at most once per this many ms (a crash loses at most this long's). */
    readonly save_interval_ms: number;
  };
  readonly agents: {
    /** Agent-to-agent hops allowed after a human message. */
    readonly chain_limit: number;
    /** What to post when an agent declines: nothing, or a short system note. */
    readonly on_no_answer: 'silent' | 'note';
  };
  readonly cache: {
    readonly recent_messages: number;
    /** Records one page of a resume's replay reads and holds at a time (actors/replay-pages.ts; also bounded by bytes). */
    readonly replay_page_records: number;
  };
  readonly supervision: {
    readonly max_restarts: number;
    readonly restart_window_s: number;
    /** A conversation with no connections and no pending work stops after this long. */
    readonly idle_timeout_s: number;
  };
  /** Which runtime sequences a conversation when several share one store (docs/conversations.md). */
  readonly ownership: {
    /** This runtime's claim owner id ('' = a random id per runtime; the server binary uses host:port). */
    readonly instance_id: string;
    /** Where clients reach this server, told to callers another server refuses ('' = not told). */
    readonly address: string;
    /** A claim lasts this long without renewal (renewed every third of it); a crashed holder's expire after it. */
    readonly claim_ttl_s: number;
    /**
     * A WebSocket for a conversation another server holds is piped to that server's `address` instead of
     * refused with 4421 (for clients that do not follow `owner_address`; one hop at most).
     */
    readonly forward: boolean;
  };
  readonly security: {
    /** Conversations older than this are deleted by the sweeper; 0 keeps them forever. */
    readonly retention_days: number;
    readonly sweep_interval_s: number;
  };
  readonly nlweb: {
    readonly endpoints: readonly NlwebEndpointConfig[];
    readonly standin: {
      /** Start the bundled NLWeb stand-in and use it for endpoints whose url is "standin". */
      readonly enabled: boolean;
      readonly port: number;
      readonly latency_ms: number;
      readonly batches: number;
      readonly style: 'current' | 'legacy';
    };
  };
}

export interface NlwebEndpointConfig {
  readonly id: string;
  /** Name shown to humans; absent = the id. */
  readonly display_name?: string;
  /** Base URL of an NLWeb server, or "standin" for the bundled stand-in. */
  readonly url: string;
  readonly site: string;
  readonly mode: 'list' | 'summarize' | 'generate';
  readonly streaming: boolean;
  /** Join every new conversation automatically. */
  readonly auto_join: boolean;
}

export interface ObservabilityConfig {
  readonly log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly metrics: { readonly enabled: boolean; readonly path: string; readonly port: number };
  readonly tracing: { readonly enabled: boolean; readonly sample_ratio: number; readonly otlp_endpoint: string };
  /**
   * How the unauthenticated /health/chat names conversations: 'digest' (the first 16 hex digits of the id's SHA-256)
   * or 'plain' (the ids, which let anyone who reads them join: docs/security.md).
   */
  readonly health: { readonly conversation_ids: 'digest' | 'plain' };
  readonly shutdown_deadline_s: number;
}

/** Deep-partial input accepted by createChatRuntime / loadConfig overrides. */
export type ConfigInput = DeepPartial<NlwebChatConfig>;
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;
