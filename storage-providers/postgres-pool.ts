import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { ChatError, isChatError } from '../actors/errors';

/** Connection settings of the PostgreSQL provider. */
export interface PgPoolOptions {
  readonly url: string;
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  /** See PG_OPERATION_TIMEOUT_MS; 0 = unbounded. */
  readonly operationTimeoutMs?: number;
  readonly applicationName?: string;
  /**
   * Every operation runs in its own `BEGIN READ ONLY` transaction with unnamed statements (PostgresStoreOptions.readOnly):
   * PostgreSQL refuses any write, and nothing outlives the transaction on the server connection (readOnlyOperation).
   */
  readonly readOnly?: boolean;
  /**
   * Whether statements the store names are prepared once per connection and then only bound (default true). false
   * sends every statement unnamed, so that no statement outlives its operation on the server connection: what a
   * pooler in transaction mode needs (PgBouncer before 1.21), which runs each transaction on whichever server
   * connection is free (PostgresStoreOptions.preparedStatements).
   */
  readonly preparedStatements?: boolean;
}

/**
 * How long one operation (a statement, or a transaction's statements) may wait for PostgreSQL. A database
 * that stops answering without closing the connection (a partition, a frozen host) would otherwise hold the
 * operation, and the journal writes queued behind it, until TCP gives up (about 15 minutes on Linux). After it
 * the connection is discarded and the caller gets STORAGE_ERR_UNAVAILABLE, which journal writes retry.
 */
export const PG_OPERATION_TIMEOUT_MS = 15_000;

/**
 * A pg Pool plus the bookkeeping the store needs: every operation runs on a pooled client, is
 * tracked so end() can wait for it, has its driver errors mapped to coded ones, and a client whose
 * connection failed is discarded instead of being handed to the next caller.
 */
export class PgRunner {
  private readonly pool: Pool;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly operationTimeoutMs: number;
  private readonly readOnly: boolean;
  private readonly preparedStatements: boolean;

  constructor(options: PgPoolOptions) {
    this.operationTimeoutMs = options.operationTimeoutMs ?? PG_OPERATION_TIMEOUT_MS;
    this.readOnly = options.readOnly ?? false;
    this.preparedStatements = options.preparedStatements ?? true;
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      application_name: options.applicationName ?? 'nlweb-chat',
    });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    this.pool.on('error', () => undefined);
    // A client released after a connection error can still emit a late 'error' (write ECONNRESET);
    // without a listener that is an uncaught exception. The failing query already reported it.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  run<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.track(this.operation(fn), this.operationTimeoutMs);
  }

  /** run() without the operation bound (migrations at open). */
  runUnbounded<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.track(this.operation(fn), 0);
  }

  /** `fn` as this runner runs it: read-only in a transaction of its own, or with unnamed statements, or as it is. */
  private operation<T>(fn: (client: PoolClient) => Promise<T>): (client: PoolClient) => Promise<T> {
    if (this.readOnly) return readOnlyOperation(fn);
    if (!this.preparedStatements) return (client) => fn(withUnnamedStatements(client));
    return fn;
  }

  private track<T>(fn: (client: PoolClient) => Promise<T>, timeoutMs: number): Promise<T> {
    const work = (async () => {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw mapPgError(err, 'cannot reach PostgreSQL');
      }
      let broken: Error | undefined;
      try {
        return await withinBound(fn(client), timeoutMs);
      } catch (err) {
        if (!isChatError(err) && !isStatementError(err)) broken = err instanceof Error ? err : new Error(String(err));
        throw mapPgError(err, 'PostgreSQL operation failed');
      } finally {
        client.release(broken);
      }
    })();
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  async query(text: string, values: unknown[], name?: string): Promise<QueryResultRow[]> {
    return this.run(async (c) => (await c.query({ text, values, name })).rows);
  }

  /** Runs `fn` between BEGIN and COMMIT (ROLLBACK when it throws); read-only, run() already does. */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.readOnly ? this.run(fn) : this.run((c) => inTransaction(c, 'BEGIN', fn));
  }

  /** Waits for running operations (callers stop starting new ones first), then closes the pool. */
  async end(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.pool.end();
  }
}

async function inTransaction<T>(client: PoolClient, begin: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  await client.query(begin);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * A read-only store's operation: `fn` in a transaction of its own that is READ ONLY from its BEGIN, with every
 * statement unnamed. Nothing is set for the session: behind a pooler in transaction mode (PgBouncer) each transaction
 * may run on another server connection, which the next transaction of any client then gets, so a session setting
 * (`SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY`, what this store did before) neither stays with the
 * reader's statements nor stays away from other clients'. A named statement is session state too: prepared on the
 * server connection, it stays there (another client preparing the same name gets 42P05) while the driver, which
 * prepares a name once per connection it knows, may send the next use to one without it (26000).
 */
function readOnlyOperation<T>(fn: (client: PoolClient) => Promise<T>): (client: PoolClient) => Promise<T> {
  return (client) => inTransaction(client, 'BEGIN READ ONLY', () => fn(withUnnamedStatements(client)));
}

/** `client` whose query() drops a statement name: the statement is parsed with the query, and kept by no one. */
function withUnnamedStatements(client: PoolClient): PoolClient {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const unnamed = (config: unknown, ...rest: unknown[]) =>
    query(typeof config === 'object' && config !== null && 'name' in config ? { ...config, name: undefined } : config, ...rest);
  return Object.assign(Object.create(client) as PoolClient, { query: unnamed });
}

/**
 * `work`, or a rejection once `ms` pass without its answer. The rejection is not a statement error, so
 * run() discards the connection (the late answer, if any, goes nowhere) and maps it to UNAVAILABLE.
 */
function withinBound<T>(work: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from PostgreSQL within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** An error the server reported for one statement (SQLSTATE) that leaves the connection usable. */
function isStatementError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57|53)/.test(code);
}

/** What to do when named statements fail (42P05, 26000), which in practice means a pooler in transaction mode. */
export const PREPARED_STATEMENTS_HINT =
  'behind a pooler in transaction mode, such as PgBouncer before 1.21, set chat.storage.postgres.prepared_statements: false';

const CONSTRAINT_CODES: Record<string, 'STORAGE_ERR_DUPLICATE_SEQUENCE' | 'STORAGE_ERR_DUPLICATE_MESSAGE' | 'CHAT_ERR_ALREADY_EXISTS'> = {
  nlweb_messages_sequence_pk: 'STORAGE_ERR_DUPLICATE_SEQUENCE',
  nlweb_messages_sender_message_uq: 'STORAGE_ERR_DUPLICATE_MESSAGE',
  nlweb_conversations_pk: 'CHAT_ERR_ALREADY_EXISTS',
};

/**
 * Unique violations (23505) map by constraint name, data exceptions (class 22, e.g. a NUL
 * character text cannot hold: retrying never helps) to INVALID_ARGUMENT, everything else
 * (connection refused/lost, timeouts, server shutting down) to UNAVAILABLE; the driver error is the cause.
 */
export function mapPgError(err: unknown, context: string): unknown {
  if (isChatError(err)) return err;
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code === '23505' && e.constraint && CONSTRAINT_CODES[e.constraint]) {
    return new ChatError(CONSTRAINT_CODES[e.constraint], e.message, { cause: err });
  }
  if (typeof e?.code === 'string' && e.code.startsWith('22')) {
    return new ChatError('STORAGE_ERR_INVALID_ARGUMENT', `${context}: ${e.message ?? ''}`, { cause: err });
  }
  // A statement name already prepared on the server connection, or missing from it: what named statements meet behind
  // a pooler in transaction mode, which runs each transaction on whichever server connection is free. Still a
  // retryable outage (the next operation may land on a connection that suits it), but one the operator can end.
  if (e?.code === '42P05' || e?.code === '26000') {
    return new ChatError('STORAGE_ERR_UNAVAILABLE', `${context}: ${e.message ?? ''} (${PREPARED_STATEMENTS_HINT})`, { cause: err });
  }
  return new ChatError('STORAGE_ERR_UNAVAILABLE', `${context}: ${e?.message ?? String(err)}`, { cause: err });
}
