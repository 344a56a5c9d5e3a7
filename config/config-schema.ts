/**
 * The one JSON Schema of config_nlweb.yaml. Defaults live here and only here (ajv fills them in),
 * every object refuses unknown keys, and every number has a range.
 */

type Schema = Record<string, unknown>;

const obj = (properties: Record<string, Schema>): Schema => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties,
});
const int = (def: number, minimum: number, maximum: number): Schema => ({ type: 'integer', default: def, minimum, maximum });
const num = (def: number, minimum: number, maximum: number): Schema => ({ type: 'number', default: def, minimum, maximum });
const str = (def: string, extra: Schema = {}): Schema => ({ type: 'string', default: def, ...extra });
const bool = (def: boolean): Schema => ({ type: 'boolean', default: def });
const oneOf = (values: readonly string[], def: string): Schema => ({ type: 'string', enum: values, default: def });

/** The longest chat.context.nlweb_timeout (s): no agent job runs longer (the replay check relies on it). */
export const NLWEB_TIMEOUT_MAX_S = 3600;
/** server.auth.jwt_clock_skew_s's default, also what createJwtAuthenticator assumes when an embedder gives none. */
export const DEFAULT_JWT_CLOCK_SKEW_S = 60;

const nlwebEndpoint: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url'],
  properties: {
    // No defaults for id and url: `required` must be able to catch them.
    // Not `system`: the sender id of the conversation's own records, which no participant may have (input-rules.ts).
    id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', not: { const: 'system' } },
    // No default: createAgentsFromConfig shows an endpoint without one by its id, as createNlwebAgent does.
    display_name: { type: 'string' },
    url: { type: 'string', minLength: 1 },
    site: str('all'),
    mode: oneOf(['list', 'summarize', 'generate'], 'list'),
    streaming: bool(true),
    auto_join: bool(true),
  },
};

export const CONFIG_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server: obj({
      host: str('127.0.0.1'),
      port: int(8000, 0, 65535),
      // A connection that sends nothing was kept for ever (node bounds only a request once it began); 0 = no bound.
      idle_timeout_s: num(60, 0, 86_400),
      tls: obj({ cert_file: str(''), key_file: str(''), require_tls: bool(false) }),
      // Browser pages of other origins that may call the API and open sockets (gateway/origin-policy.ts).
      allowed_origins: {
        type: 'array',
        items: { type: 'string', pattern: '^(\\*|null|https?://[^/\\s]+)$' },
        default: [],
        maxItems: 1000,
      },
      auth: obj({
        mode: oneOf(['jwt', 'dev'], 'dev'),
        jwt_secret: str(''),
        jwt_issuer: str(''),
        // A stolen token without exp works for ever: an operator can require one and bound how far ahead it is.
        jwt_max_age_s: int(0, 0, 31_536_000),
        // How far an issuer's clock may run ahead: a token whose iat or nbf is further in the future is refused.
        jwt_clock_skew_s: int(DEFAULT_JWT_CLOCK_SKEW_S, 0, 3600),
        // Query parameters an embedder's own authenticate function reads: the gateway refuses unknown ones.
        query_parameters: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }, default: [], maxItems: 50 },
      }),
      websocket: obj({
        heartbeat_interval_s: num(30, 0.01, 3600),
        heartbeat_dead_s: num(75, 0.02, 7200),
        high_water_bytes: int(1_048_576, 1024, 1_073_741_824),
        // A resume's replay goes at its reader's pace (gateway/paced-outputs.ts): one that takes nothing for this long is closed 4008.
        replay_stall_ms: int(30_000, 100, 3_600_000),
        // A slow consumer's close frame waits behind what it did not read: its socket is reset this long after.
        slow_consumer_close_grace_ms: int(2000, 0, 60_000),
        max_frame_bytes: int(65_536, 256, 16_777_216),
        // Each socket costs memory and a copy of every record; one user could otherwise open thousands. 0 = no bound.
        max_connections_per_user: int(50, 0, 1_000_000),
        // Upgrades per client address still waiting for authentication (open sockets count per user). 0 = no bound.
        max_authenticating_per_address: int(200, 0, 1_000_000),
      }),
    }),
    chat: obj({
      storage: obj({
        backend: oneOf(['memory', 'sqlite', 'postgres', 'redis'], 'memory'),
        // apply: open() migrates (a lone server on a fresh machine just starts). require_current: replicas sharing one
        // database, or deployments migrating in a step of their own (`nlweb-chat migrate`), must not migrate at start.
        migrations: oneOf(['apply', 'require_current'], 'apply'),
        // 0 = unbounded; see docs/storage.md (≈ 450 bytes a record: 10,000 ≈ 4.5 MB, 1,000,000 ≈ 450 MB).
        memory: obj({
          max_records_per_conversation: int(10_000, 0, 1_000_000_000),
          max_records_total: int(1_000_000, 0, 1_000_000_000),
          // Estimated heap bytes of the records held (storage-providers/record-heap-size.ts): 128 MiB keeps a
          // laptop's `npm start` to a few hundred MB of RSS even when every post is maximum-size. 0 = no byte bound.
          max_bytes_total: int(134_217_728, 0, 1_099_511_627_776),
        }),
        sqlite: obj({
          path: str('./data/nlweb-chat.db'),
          // The defaults of SqliteStore (SQLITE_BUSY_TIMEOUT_MS, SQLITE_OPEN_BUSY_TIMEOUT_MS; a test keeps them equal).
          busy_timeout_ms: int(100, 0, 600_000),
          open_busy_timeout_ms: int(5000, 0, 600_000),
        }),
        postgres: obj({
          url: str('postgres://postgres@127.0.0.1:5432/test'),
          pool_size: int(10, 1, 1000),
          // PG_OPERATION_TIMEOUT_MS; 0 = wait as long as the connection lives.
          operation_timeout_ms: int(15_000, 0, 3_600_000),
          schema: str('public', { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' }),
          // false behind a pooler in transaction mode (PgBouncer before 1.21): statements unnamed, nothing left on a connection.
          prepared_statements: bool(true),
        }),
        redis: obj({
          url: str('redis://127.0.0.1:6379'),
          // Letters, digits and ._:-{} only: the prefix shows in the ready line and in every key an operator inspects.
          key_prefix: str('nlweb-chat:', { pattern: '^[A-Za-z0-9_.:{}-]{1,128}$' }),
          // REDIS_OPERATION_TIMEOUT_MS; 0 = wait as long as the connection lives.
          operation_timeout_ms: int(15_000, 0, 3_600_000),
        }),
        batch_max: int(256, 1, 100_000),
        retry_initial_ms: int(50, 1, 60_000),
        retry_max_ms: int(5_000, 1, 600_000),
      }),
      context: obj({
        human_messages: int(5, 0, 1000),
        nlweb_timeout: num(20, 0.001, NLWEB_TIMEOUT_MAX_S),
        // 0 = the chat page never gives up reconnecting (a person would lose what they typed).
        ws_max_retries: int(0, 0, 1000),
      }),
      limits: obj({
        max_participants: int(100, 2, 100_000),
        queue_size: int(1000, 1, 10_000_000),
        max_message_length: int(10_000, 1, 1_000_000),
        max_agent_output_length: int(100_000, 1, 10_000_000),
        // A human post's metadata, as JSON bytes (0 = only the frame / body size bounds it).
        max_metadata_bytes: int(8192, 0, 16_777_216),
        max_concurrent_agent_jobs: int(4, 1, 1000),
        rate_limit_per_second: num(20, 0.01, 100_000),
        rate_limit_burst: int(40, 1, 1_000_000),
        conversations_per_minute: num(30, 0.01, 1_000_000),
        conversations_burst: int(10, 1, 1_000_000),
        // Per-user budget of the HTTP GET routes (history pages read storage); generous: a page load sends several.
        reads_per_second: num(50, 0.01, 1_000_000),
        reads_burst: int(200, 1, 1_000_000),
        // Per-user budget of joins and leaves, HTTP and WebSocket (each tells every socket of the room). A person joins by opening a
        // link and leaves with a click: a few a minute. 1 a second after a burst of 20 is more than anyone clicking
        // or a bot joining its conversations at start-up needs, and caps one user's roster churn in a room of 100.
        membership_changes_per_second: num(1, 0.01, 1_000_000),
        membership_changes_burst: int(20, 1, 1_000_000),
      }),
      input: obj({
        multi_mode_window_ms: int(2000, 0, 600_000),
        multi_mode_max_wait_ms: int(10_000, 0, 3_600_000),
        single_mode_typing_window_ms: int(100, 0, 600_000),
      }),
      // batch_interval_ms: at most one `presence_batch` per conversation this often, for sockets that asked (interval-batches.ts).
      presence: obj({ offline_grace_s: num(5, 0, 3600), batch_interval_ms: int(500, 0, 60_000) }),
      // What the others are shown of a member's typing (actors/typing-display.ts): a stop held this long (a start within it
      // cancels it), a repeated start relayed at most this often. 0 = no hold / every start. Up to a minute: a longer
      // hold shows someone typing who left the keyboard long ago, and every client's indicator has expired by then.
      typing: obj({ stop_hold_ms: int(1000, 0, 60_000), repeat_min_ms: int(2000, 0, 60_000) }),
      // How far each member has read (actors/read-positions.ts): told to the room at most once per member per
      // announce interval, written to the store at most once per save interval.
      read_positions: obj({ announce_interval_ms: int(1000, 0, 60_000), save_interval_ms: int(2000, 1, 600_000) }),
      agents: obj({ chain_limit: int(2, 0, 100), on_no_answer: oneOf(['silent', 'note'], 'silent') }),
      // replay_page_records: records a resume's replay reads and holds at a time per socket (actors/replay-pages.ts).
      cache: obj({ recent_messages: int(100, 1, 1_000_000), replay_page_records: int(256, 1, 100_000) }),
      supervision: obj({
        max_restarts: int(3, 0, 1000),
        restart_window_s: num(60, 0.001, 86_400),
        idle_timeout_s: num(300, 0.001, 604_800),
      }),
      ownership: obj({
        instance_id: str('', { maxLength: 256 }),
        address: str('', { maxLength: 1024 }),
        claim_ttl_s: num(15, 0.01, 3600),
        forward: bool(false),
      }),
      security: obj({ retention_days: num(0, 0, 36_500), sweep_interval_s: num(3600, 1, 604_800) }),
      nlweb: obj({
        endpoints: { type: 'array', items: nlwebEndpoint, default: [], maxItems: 100 },
        standin: obj({
          enabled: bool(false),
          port: int(0, 0, 65535),
          latency_ms: int(10, 0, 600_000),
          batches: int(3, 1, 100),
          style: oneOf(['current', 'legacy'], 'current'),
        }),
      }),
    }),
    observability: obj({
      log_level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
      metrics: obj({ enabled: bool(true), path: str('/metrics', { pattern: '^/' }), port: int(0, 0, 65535) }),
      tracing: obj({ enabled: bool(false), sample_ratio: num(1, 0, 1), otlp_endpoint: str('') }),
      // /health/chat is unauthenticated and a conversation id is an invitation: digests unless the operator says so.
      health: obj({ conversation_ids: oneOf(['digest', 'plain'], 'digest') }),
      shutdown_deadline_s: num(10, 0.1, 3600),
    }),
  },
};

/**
 * Environment variables that override keys (applied before validation, so they are validated too).
 * docs/configuration.md lists the same table; test/unit/config.test.ts keeps them in step.
 */
export const ENV_OVERRIDES: ReadonlyArray<{ env: string; path: readonly string[]; type: 'string' | 'number' | 'boolean' }> = [
  { env: 'HOST', path: ['server', 'host'], type: 'string' },
  { env: 'PORT', path: ['server', 'port'], type: 'number' },
  { env: 'NLWEB_CHAT_INSTANCE_ID', path: ['chat', 'ownership', 'instance_id'], type: 'string' },
  { env: 'NLWEB_CHAT_ADDRESS', path: ['chat', 'ownership', 'address'], type: 'string' },
  { env: 'NLWEB_CHAT_AUTH_MODE', path: ['server', 'auth', 'mode'], type: 'string' },
  { env: 'NLWEB_CHAT_JWT_SECRET', path: ['server', 'auth', 'jwt_secret'], type: 'string' },
  { env: 'NLWEB_CHAT_TLS_CERT', path: ['server', 'tls', 'cert_file'], type: 'string' },
  { env: 'NLWEB_CHAT_TLS_KEY', path: ['server', 'tls', 'key_file'], type: 'string' },
  { env: 'NLWEB_CHAT_REQUIRE_TLS', path: ['server', 'tls', 'require_tls'], type: 'boolean' },
  { env: 'NLWEB_CHAT_STORAGE_BACKEND', path: ['chat', 'storage', 'backend'], type: 'string' },
  { env: 'NLWEB_CHAT_STORAGE_MIGRATIONS', path: ['chat', 'storage', 'migrations'], type: 'string' },
  { env: 'NLWEB_CHAT_SQLITE_PATH', path: ['chat', 'storage', 'sqlite', 'path'], type: 'string' },
  { env: 'NLWEB_CHAT_POSTGRES_URL', path: ['chat', 'storage', 'postgres', 'url'], type: 'string' },
  { env: 'NLWEB_CHAT_POSTGRES_SCHEMA', path: ['chat', 'storage', 'postgres', 'schema'], type: 'string' },
  { env: 'NLWEB_CHAT_POSTGRES_PREPARED_STATEMENTS', path: ['chat', 'storage', 'postgres', 'prepared_statements'], type: 'boolean' },
  { env: 'NLWEB_CHAT_REDIS_URL', path: ['chat', 'storage', 'redis', 'url'], type: 'string' },
  { env: 'NLWEB_CHAT_REDIS_KEY_PREFIX', path: ['chat', 'storage', 'redis', 'key_prefix'], type: 'string' },
  { env: 'NLWEB_CHAT_QUEUE_SIZE', path: ['chat', 'limits', 'queue_size'], type: 'number' },
  { env: 'NLWEB_CHAT_MAX_PARTICIPANTS', path: ['chat', 'limits', 'max_participants'], type: 'number' },
  { env: 'NLWEB_CHAT_NLWEB_TIMEOUT', path: ['chat', 'context', 'nlweb_timeout'], type: 'number' },
  { env: 'NLWEB_CHAT_LOG_LEVEL', path: ['observability', 'log_level'], type: 'string' },
  { env: 'NLWEB_CHAT_METRICS_ENABLED', path: ['observability', 'metrics', 'enabled'], type: 'boolean' },
  { env: 'NLWEB_CHAT_TRACING_ENABLED', path: ['observability', 'tracing', 'enabled'], type: 'boolean' },
];
