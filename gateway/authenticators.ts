import { createSecretKey } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import jwt from 'jsonwebtoken';
import { ChatError } from '../actors/errors';
import type { NlwebChatConfig } from '../config/config-types';
import { isLoopbackAddress } from './net-utils';

/** Who is calling. `userId` becomes the participant id. */
export interface AuthenticatedUser {
  readonly userId: string;
  readonly displayName?: string;
  readonly roles?: string[];
}

/**
 * Pluggable authentication: an embedding service passes its own (e.g. wrapping its session middleware).
 * Resolve undefined (or reject) to refuse: HTTP 401 / WebSocket upgrade refused with 401.
 */
export type Authenticator = (req: IncomingMessage) => Promise<AuthenticatedUser | undefined>;

/** User ids accepted from tokens and dev mode: printable, no whitespace, bounded. */
const USER_ID = /^[A-Za-z0-9_.@:+-]{1,128}$/;

/**
 * Verifies HS256 JWTs from `Authorization: Bearer <token>` or the `token` query parameter (browsers
 * cannot set headers on WebSocket connects). The algorithm is pinned so "none"/RS-confusion tokens fail.
 * The user id is the `sub` claim (or `user_id`); `name` and `roles` are optional claims.
 */
export function createJwtAuthenticator(options: { secret: string; issuer?: string }): Authenticator {
  if (!options.secret) throw new ChatError('CONFIG_ERR_INVALID', 'server.auth.jwt_secret is required when server.auth.mode is "jwt"');
  const verifyOptions: jwt.VerifyOptions = { algorithms: ['HS256'] };
  if (options.issuer) verifyOptions.issuer = options.issuer;
  // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it as a public
  // key on every call, which costs about a millisecond per handshake; with the KeyObject it is ~20 µs.
  const key = createSecretKey(Buffer.from(options.secret, 'utf8'));
  return async (req) => {
    const token = bearerToken(req) ?? queryParam(req, 'token');
    if (!token) return undefined;
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(token, key, verifyOptions);
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object') return undefined;
    const userId = typeof claims.sub === 'string' ? claims.sub : typeof claims.user_id === 'string' ? claims.user_id : undefined;
    if (userId === undefined || !USER_ID.test(userId)) return undefined;
    const user: { userId: string; displayName?: string; roles?: string[] } = { userId };
    if (typeof claims.name === 'string') user.displayName = claims.name.slice(0, 200);
    if (Array.isArray(claims.roles)) user.roles = claims.roles.filter((r): r is string => typeof r === 'string');
    return user;
  };
}

/**
 * Development mode: the caller names itself with `user_id` (query parameter, or X-User-Id header) and
 * optionally `display_name`. Requests that did not arrive on a loopback address are refused, whatever
 * the server was told; createChatServer also refuses to start on a non-loopback host in this mode.
 */
export function createDevAuthenticator(): Authenticator {
  return async (req) => {
    if (!isLoopbackAddress(req.socket.localAddress)) return undefined;
    const header = req.headers['x-user-id'];
    const userId = queryParam(req, 'user_id') ?? (typeof header === 'string' ? header : undefined);
    if (userId === undefined || !USER_ID.test(userId)) return undefined;
    const displayName = queryParam(req, 'display_name');
    return displayName ? { userId, displayName: displayName.slice(0, 200) } : { userId };
  };
}

/** The authenticator config.server.auth asks for. */
export function createAuthenticatorFromConfig(config: NlwebChatConfig): Authenticator {
  const auth = config.server.auth;
  if (auth.mode === 'dev') return createDevAuthenticator();
  return createJwtAuthenticator({ secret: auth.jwt_secret, issuer: auth.jwt_issuer || undefined });
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
