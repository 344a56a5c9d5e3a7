import { setTimeout as delay } from 'node:timers/promises';
import { ChatError } from '../../actors/errors';

/** Where, and as whom, `--server` reads. */
export interface ServerTarget {
  /** The server's base URL: http(s)://host:port, optionally with a path prefix (behind a proxy). */
  readonly url: string;
  /** Bearer token (the server's jwt mode, or whatever its authenticator takes from that header). */
  readonly token?: string;
  /** Dev mode (loopback only): the caller's user id, sent as the `user_id` query parameter. */
  readonly user?: string;
  /** Per request (default REQUEST_TIMEOUT_MS): a server that stops answering must not hang the CLI. */
  readonly timeoutMs?: number;
}

export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * HTTP 429 (the server's per-user read budget, chat.limits.reads_per_second / reads_burst: a long journal is more
 * pages than the burst) is waited out as the answer says (retry_after_ms, else Retry-After), up to this many times
 * in a row for one request and at most RATE_LIMIT_MAX_WAIT_MS each; past either, the 429 is the error.
 */
export const RATE_LIMIT_MAX_RETRIES = 20;
export const RATE_LIMIT_MAX_WAIT_MS = 30_000;

/**
 * A failed request to `--server`. `code` is the server's error code (`HTTP_<status>` when the answer
 * carried none) or, when no answer came, the network error's (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...).
 */
export class ServerRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServerRequestError';
  }
}

export interface ServerClient {
  /** GETs `path` (below the base URL) and returns the JSON object it answered; throws ServerRequestError. */
  getJson(path: string, query?: Readonly<Record<string, string | number>>): Promise<Record<string, unknown>>;
}

/** Checks a `--server` URL: http or https, no credentials, query or fragment (they would be lost or leak). */
export function parseServerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new ChatError('CONFIG_ERR_INVALID', `--server must be a URL like http://127.0.0.1:8000, got ${JSON.stringify(text)}`, {
      cause: err,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ChatError('CONFIG_ERR_INVALID', `--server must be http:// or https://, got ${url.protocol}${otherSchemeHint(url.protocol)}`);
  if (url.username || url.password) throw new ChatError('CONFIG_ERR_INVALID', '--server must not carry credentials: use --token');
  if (url.search || url.hash) throw new ChatError('CONFIG_ERR_INVALID', '--server takes the base URL only, without ?query or #fragment');
  return url;
}

/** Where a `--server` URL of another kind belongs: a database's goes after --storage, a socket's has an http twin. */
function otherSchemeHint(protocol: string): string {
  if (/^(postgres|postgresql|redis|rediss|sqlite):$/.test(protocol)) return ' (a database URL goes after --storage)';
  if (protocol === 'ws:' || protocol === 'wss:') return ` (the server's HTTP address: ${protocol === 'ws:' ? 'http' : 'https'}://…)`;
  return '';
}

/** A JSON-over-HTTP reader of one server, with the CLI's credentials on every request. */
export function createServerClient(target: ServerTarget): ServerClient {
  const base = parseServerUrl(target.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const timeoutMs = target.timeoutMs ?? REQUEST_TIMEOUT_MS;
  // The token goes in a header only, never in a URL: URLs end up in error messages and server logs.
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  return {
    async getJson(path, query = {}) {
      const url = new URL(prefix + path, base.origin);
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
      if (target.user !== undefined) url.searchParams.set('user_id', target.user);
      const request = `GET ${url.href}`;
      for (let retries = 0; ; retries++) {
        let status: number;
        let text: string;
        let retryAfterHeader: string | null;
        try {
          const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
          status = res.status;
          retryAfterHeader = res.headers.get('retry-after');
          text = await res.text();
        } catch (err) {
          throw networkError(err, base.origin, timeoutMs);
        }
        const body = parseObject(text);
        const waitMs = status === 429 ? retryAfterMs(body, retryAfterHeader) : undefined;
        if (waitMs !== undefined && waitMs <= RATE_LIMIT_MAX_WAIT_MS && retries < RATE_LIMIT_MAX_RETRIES) {
          await delay(waitMs);
          continue;
        }
        if (status < 200 || status > 299) throw httpError(request, status, body, target.token !== undefined);
        if (!body) throw new ServerRequestError('HTTP_INVALID_BODY', `${request} answered HTTP ${status} without a JSON object`, status);
        return body;
      }
    },
  };
}

/** How long a 429 asks to wait: the gateway's exact retry_after_ms, else Retry-After in seconds; undefined when neither says. */
function retryAfterMs(body: Record<string, unknown> | undefined, header: string | null): number | undefined {
  const exact = body?.retry_after_ms;
  if (typeof exact === 'number' && Number.isFinite(exact) && exact >= 0) return exact;
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What to do about the usual refusals, added to the server's own message. A 401 to a token the caller gave is about
 * that token: "give --token" read as if none had been sent, to someone whose token had the wrong secret.
 */
function hint(status: number, tokenGiven: boolean): string {
  if (status === 401 && tokenGiven)
    return " (the server refused the token of --token or NLWEB_CHAT_TOKEN: in jwt mode it must be signed with the server's NLWEB_CHAT_JWT_SECRET, name a member in sub and not have expired)";
  if (status === 401) return ' (give --token or NLWEB_CHAT_TOKEN; a dev-mode server on loopback takes --user)';
  if (status === 403) return ' (the caller must be a member of the conversation)';
  return '';
}

/** `<server code>: GET <url> answered HTTP <status>: <server message>` (the gateway's `{error, code, message}`). */
function httpError(request: string, status: number, body: Record<string, unknown> | undefined, tokenGiven: boolean): ServerRequestError {
  const code = typeof body?.error === 'string' ? body.error : `HTTP_${status}`;
  const message = typeof body?.message === 'string' ? `: ${body.message}` : '';
  return new ServerRequestError(code, `${request} answered HTTP ${status}${message}${hint(status, tokenGiven)}`, status);
}

/**
 * No answer: name the system error fetch wraps (undici puts it in `cause`, for a host with several
 * addresses inside an AggregateError). Duck-typed: the error may come from another realm (jest's vm).
 */
function networkError(err: unknown, origin: string, timeoutMs: number): ServerRequestError {
  const outer = err as ErrorLike | undefined;
  if (outer?.name === 'TimeoutError')
    return new ServerRequestError('ETIMEDOUT', `no answer from ${origin} within ${timeoutMs} ms`, undefined, { cause: err });
  const cause = outer?.cause as ErrorLike | undefined;
  const inner = Array.isArray(cause?.errors) ? (cause.errors[0] as ErrorLike | undefined) : cause;
  const code = [inner?.code, cause?.code, outer?.code].find((c): c is string => typeof c === 'string') ?? 'EFETCH';
  const detail = [inner?.message, outer?.message].find((m): m is string => typeof m === 'string' && m.length > 0) ?? String(err);
  return new ServerRequestError(code, `cannot reach ${origin}: ${detail}`, undefined, { cause: err });
}

interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}
