import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import { ChatError, isChatError } from '../actors/errors';
import { withoutForbiddenControl } from '../actors/input-rules';
import { DEFAULT_JWT_CLOCK_SKEW_S } from '../config/config-schema';
import type { NlwebChatConfig } from '../config/config-types';
import { hostHeaderName, isLoopbackAddress } from './net-utils';
import type { GatewayLogger } from './observability-hooks';
import { toWellFormed } from '../storage-providers/record-rules';
import { cutText } from './text-cut';

/** Who is calling. `userId` becomes the participant id. */
export interface AuthenticatedUser {
  readonly userId: string;
  readonly displayName?: string;
  readonly roles?: string[];
  /**
   * When the credential stops being valid (ms since the epoch, on the gateway's clock): a WebSocket accepted with it
   * is closed then (4001, reason TOKEN_EXPIRED_CLOSE_REASON), so a socket's authority ends with its token. The JWT
   * authenticator sets it from `exp`; undefined (no `exp`, dev mode) keeps the socket open as long as it lives.
   */
  readonly expiresAt?: number;
}

/** The message of a refusal for an expired credential (also what an embedder's authenticator may reject with). */
export const TOKEN_EXPIRED = 'token expired';

/**
 * Pluggable authentication: an embedding service passes its own (e.g. wrapping its session middleware).
 * Resolve undefined (or reject) to refuse: HTTP 401 / WebSocket upgrade refused with 401. Reject with a
 * GATEWAY_ERR_UNAUTHENTICATED ChatError to tell the caller why (its message becomes the answer's); any
 * other rejection is logged as the authenticator's failure and answered "authentication required".
 */
export type Authenticator = (req: IncomingMessage) => Promise<AuthenticatedUser | undefined>;

/** User ids accepted from tokens and dev mode: printable, no whitespace, bounded. */
const USER_ID = /^[A-Za-z0-9_.@:+-]{1,128}$/;
const USER_ID_RULE = '1 to 128 characters of [A-Za-z0-9_.@:+-]';

/** The longest display name kept, as the HTTP API's participants[].display_name allows. */
const MAX_DISPLAY_NAME = 200;

/**
 * A display name from a token's `name` claim or dev mode's `display_name`: at most MAX_DISPLAY_NAME UTF-16 units,
 * never cut through a surrogate pair (a high surrogate left at the end is dropped), and any other lone surrogate (a
 * JSON escape in a token can carry one) written as U+FFFD. Half a pair in a join record is text no store keeps as
 * sent: PostgreSQL's jsonb refuses the record.
 */
function displayNameFrom(raw: string): string {
  // Control characters (the content rule's: actors/input-rules.ts) are taken out: a token's claim is not the caller's to
  // fix, and an HTTP body's display_name with one is refused (400) rather than stored.
  let name = withoutForbiddenControl(raw).slice(0, MAX_DISPLAY_NAME);
  if (/[\uD800-\uDBFF]$/.test(name)) name = name.slice(0, -1);
  return toWellFormed(name);
}

/** A refusal that says why: a client cannot tell an expired token (refresh it) from a malformed one (its bug) otherwise. */
function unauthenticated(why: string): ChatError {
  return new ChatError('GATEWAY_ERR_UNAUTHENTICATED', why);
}

/**
 * Runs the authenticator for one of the gateway's entry points (the upgrade, the /chat routes): the user, or the
 * GATEWAY_ERR_UNAUTHENTICATED to answer, the authenticator's own when it rejected with one. Any other rejection is
 * the authenticator's bug, not the caller's: logged, and answered with the code's plain message.
 */
export async function authenticateCaller(
  authenticate: Authenticator,
  req: IncomingMessage,
  logger: GatewayLogger,
): Promise<AuthenticatedUser | ChatError> {
  try {
    const user = await authenticate(req);
    if (user === undefined) return new ChatError('GATEWAY_ERR_UNAUTHENTICATED');
    // An embedder's authenticate may set expiresAt (ms since the epoch). NaN or a string would arm the socket's expiry
    // timer with a delay that is never reached and fire it every millisecond: its bug, refused here like a throw.
    const { expiresAt } = user;
    if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) {
      logger.warn({ expires_at: String(expiresAt) }, 'authenticator failed: expiresAt must be a finite number (ms since the epoch)');
      return new ChatError('GATEWAY_ERR_UNAUTHENTICATED');
    }
    // An embedder's name goes through the rule the built-in authenticators apply: the runtime refuses a member's
    // name with a control character or a lone surrogate, and the caller could not fix its own directory entry.
    const { displayName } = user;
    if (typeof displayName !== 'string') return user;
    const cleaned = displayNameFrom(displayName);
    return cleaned === displayName ? user : { ...user, displayName: cleaned };
  } catch (err) {
    if (isChatError(err, 'GATEWAY_ERR_UNAUTHENTICATED')) return err;
    logger.warn({ err: (err as Error).message }, 'authenticator failed');
    return new ChatError('GATEWAY_ERR_UNAUTHENTICATED');
  }
}

/** Why jsonwebtoken refused a token, in the caller's terms (its own messages name expected values). */
function tokenRefusal(err: unknown): ChatError {
  const { name, message } = err as { name?: string; message?: string };
  if (name === 'TokenExpiredError') return unauthenticated(TOKEN_EXPIRED);
  if (message === 'invalid signature') return unauthenticated('token signature does not verify');
  if (message === 'invalid algorithm') return unauthenticated('token algorithm must be HS256');
  if (message?.startsWith('jwt issuer invalid') === true) return unauthenticated('token issuer is not the one this server expects');
  return unauthenticated('token is not a valid JWT');
}

/**
 * Verifies HS256 JWTs from `Authorization: Bearer <token>` or the `token` query parameter (browsers
 * cannot set headers on WebSocket connects). The algorithm is pinned so "none"/RS-confusion tokens fail.
 * The user id is the `sub` claim (or `user_id`); `name` and `roles` are optional claims. A refused request is
 * rejected with a GATEWAY_ERR_UNAUTHENTICATED saying why (no token, expired, bad signature, no user id ...).
 */
export function createJwtAuthenticator(options: {
  secret: string;
  issuer?: string;
  maxAgeS?: number;
  /** How far ahead of this server's clock a token's iat or nbf may be (issuers' clocks drift); default 60 s. */
  clockSkewS?: number;
}): Authenticator {
  if (!options.secret) throw new ChatError('CONFIG_ERR_INVALID', 'server.auth.jwt_secret is required when server.auth.mode is "jwt"');
  const clockSkewS = options.clockSkewS ?? DEFAULT_JWT_CLOCK_SKEW_S;
  // nbf is checked below, with the skew allowance and a message saying how far ahead it is; exp keeps no allowance:
  // a socket is closed at exp (ws-connection.ts), so a token accepted past it would open a socket closed at once.
  const verifyOptions: jwt.VerifyOptions = { algorithms: ['HS256'], ignoreNotBefore: true };
  if (options.issuer) verifyOptions.issuer = options.issuer;
  // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a public
  // key on every call, which costs about a millisecond per handshake; with the KeyObject it is ~20 µs.
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  return async (req) => {
    const token = bearerToken(req) ?? queryParam(req, 'token');
    if (!token) throw unauthenticated('no token: send Authorization: Bearer <JWT> or ?token=<JWT>');
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, key, verifyOptions);
    } catch (err) {
      throw tokenRefusal(err);
    }
    if (typeof claims !== 'object') throw unauthenticated('token payload is not a JSON object');
    const timeProblem = claimFromTheFutureProblem(claims, clockSkewS);
    if (timeProblem !== undefined) throw unauthenticated(timeProblem);
    const lifetimeProblem = tokenLifetimeProblem(claims, options.maxAgeS ?? 0);
    if (lifetimeProblem !== undefined) throw unauthenticated(lifetimeProblem);
    const userId = typeof claims.sub === 'string' ? claims.sub : typeof claims.user_id === 'string' ? claims.user_id : undefined;
    if (userId === undefined) throw unauthenticated('token has no sub (or user_id) claim');
    if (!USER_ID.test(userId)) throw unauthenticated(`token user id must be ${USER_ID_RULE}`);
    const user: { userId: string; displayName?: string; roles?: string[]; expiresAt?: number } = { userId };
    if (typeof claims.name === 'string') user.displayName = displayNameFrom(claims.name);
    if (Array.isArray(claims.roles)) user.roles = claims.roles.filter((r): r is string => typeof r === 'string');
    // jsonwebtoken has refused a non-numeric exp, so a number here is the token's end, in seconds.
    if (typeof claims.exp === 'number') user.expiresAt = claims.exp * 1000;
    return user;
  };
}

/**
 * Development mode: the caller names itself with `user_id` (query parameter, or X-User-Id header) and
 * optionally `display_name`. Requests that did not arrive on a loopback address are refused, whatever
 * the server was told; createChatServer also refuses to start on a non-loopback host in this mode. So are two kinds
 * that arrive on loopback from elsewhere: one whose Host is not a loopback name (a page of another site whose name
 * it rebound to 127.0.0.1: its Origin matches its Host, so the origin check takes it for the server's own page),
 * and one a proxy forwarded (X-Forwarded-For / Forwarded: a proxy on this machine would open dev mode to the
 * network). A refused request is rejected with a GATEWAY_ERR_UNAUTHENTICATED saying why.
 */
export function createDevAuthenticator(): Authenticator {
  return async (req) => {
    if (!isLoopbackAddress(req.socket.localAddress)) throw unauthenticated(DEV_LOOPBACK_ONLY);
    // No Host at all (HTTP/1.0) is no browser's request: nothing was rebound.
    const host = hostHeaderName(req.headers.host);
    if (req.headers.host !== undefined && !host.loopback)
      throw unauthenticated(`${DEV_LOOPBACK_ONLY}: Host "${cutText(host.name, 64)}" is not a loopback name`);
    const proxied = PROXY_HEADERS.find((name) => req.headers[name] !== undefined);
    if (proxied !== undefined)
      throw unauthenticated(`${DEV_LOOPBACK_ONLY}: this one came through a proxy (${PROXY_HEADER_NAMES[proxied]})`);
    const header = req.headers['x-user-id'];
    const userId = queryParam(req, 'user_id') ?? (typeof header === 'string' ? header : undefined);
    if (userId === undefined) throw unauthenticated('no user_id: name yourself with ?user_id=<id> (development authentication)');
    if (!USER_ID.test(userId)) throw unauthenticated(`user_id must be ${USER_ID_RULE}`);
    const displayName = queryParam(req, 'display_name');
    return displayName ? { userId, displayName: displayNameFrom(displayName) } : { userId };
  };
}

const DEV_LOOPBACK_ONLY = 'development authentication serves loopback requests only';
/** Headers a reverse proxy adds, lower-case as node gives them, with the spelling the refusal names. */
const PROXY_HEADER_NAMES: Readonly<Record<string, string>> = { 'x-forwarded-for': 'X-Forwarded-For', forwarded: 'Forwarded' };
const PROXY_HEADERS = Object.keys(PROXY_HEADER_NAMES);

/**
 * With `server.auth.jwt_max_age_s` set, why a verified token may not be used: it has no `exp` (it would work for
 * ever once stolen) or its `exp` is further ahead than the bound. jsonwebtoken has already refused an expired one.
 */
function tokenLifetimeProblem(claims: jwt.JwtPayload, maxAgeS: number): string | undefined {
  if (maxAgeS === 0) return undefined;
  if (typeof claims.exp !== 'number') return 'token has no exp claim (server.auth.jwt_max_age_s requires one)';
  if (claims.exp - Date.now() / 1000 > maxAgeS)
    return `token lives too long: exp is more than ${maxAgeS} s from now (server.auth.jwt_max_age_s)`;
  return undefined;
}

/**
 * Why a token's time claims say it cannot be used yet: `iat` (issued at) or `nbf` (not before) more than `skewS`
 * ahead of this server's clock, or one that is not a number. A token "issued" in the future was minted by a clock
 * that is wrong or by someone choosing its times (a token minted ahead to outlive a revocation or key rotation).
 * jsonwebtoken checks iat only with its own maxAge option, and nbf without any allowance for drift.
 */
function claimFromTheFutureProblem(claims: jwt.JwtPayload, skewS: number): string | undefined {
  const nowS = Date.now() / 1000;
  for (const [claim, what] of [
    ['iat', 'token issued in the future'],
    ['nbf', 'token not valid yet'],
  ] as const) {
    const value: unknown = claims[claim];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `token ${claim} claim is not a number (seconds since the epoch)`;
    const aheadS = value - nowS;
    if (aheadS > skewS)
      return `${what}: ${claim} is ${Math.ceil(aheadS)} s ahead of this server's clock, more than the ${skewS} s allowed (server.auth.jwt_clock_skew_s)`;
  }
  return undefined;
}

/** The authenticator config.server.auth asks for. */
export function createAuthenticatorFromConfig(config: NlwebChatConfig): Authenticator {
  const auth = config.server.auth;
  if (auth.mode === 'dev') return createDevAuthenticator();
  return createJwtAuthenticator({
    secret: auth.jwt_secret,
    issuer: auth.jwt_issuer || undefined,
    maxAgeS: auth.jwt_max_age_s,
    clockSkewS: auth.jwt_clock_skew_s,
  });
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

function queryParam(req: IncomingMessage, name: string): string | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get(name);
  return value === null || value === '' ? undefined : value;
}
