import type { IncomingMessage } from 'node:http';

/** What the policy says of one request's `Origin`. */
export type OriginVerdict =
  /** No Origin header: not a browser (Node clients, curl, the benchmark); browsers always send one cross-origin. */
  | 'none'
  /** A page of this server itself (its Origin names the Host the request came to). */
  | 'same'
  /** A page of another origin that `server.allowed_origins` lists (or `"*"`): gets CORS headers over HTTP. */
  | 'allowed'
  /** Any other page: GATEWAY_ERR_ORIGIN_NOT_ALLOWED (403), over HTTP and on a WebSocket upgrade alike. */
  | 'refused';

export interface OriginPolicy {
  judge(req: IncomingMessage): OriginVerdict;
}

/**
 * Which browser pages may call the server (`server.allowed_origins`, docs/security.md, Browser origins). A page
 * the server serves itself always may; other origins only when listed. Refusing the rest matters twice: an
 * authenticator of the embedder's that trusts cookies would otherwise let any site a user visits open a socket
 * or post as that user (cross-site WebSocket hijacking, CSRF), and dev mode, where a caller names itself with
 * `?user_id=`, would let any site read a developer's local conversations. Origins compare as browsers send them
 * (scheme, host, port; case-insensitive). "Same" compares the Origin's host and port with the Host header, or with
 * X-Forwarded-Host, which a proxy that rewrites Host usually sets. Trusting that header without knowing the proxy is
 * safe here: the threat is another site's page, and a page cannot set it (a WebSocket handshake takes no headers
 * from script, and a request with a header of its own needs a preflight, which is refused); a client that can
 * set headers sends no Origin at all, or any it likes, and carries no victim's cookies.
 */
export function createOriginPolicy(allowedOrigins: readonly string[]): OriginPolicy {
  const anyOrigin = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins.map((origin) => origin.toLowerCase()));
  return {
    judge(req) {
      const origin = req.headers.origin;
      if (origin === undefined) return 'none';
      const lower = origin.toLowerCase();
      if (isSameOrigin(lower, req.headers.host) || isSameOrigin(lower, forwardedHost(req))) return 'same';
      return anyOrigin || allowed.has(lower) ? 'allowed' : 'refused';
    },
  };
}

/** The first X-Forwarded-Host (a chain of proxies appends theirs). */
function forwardedHost(req: IncomingMessage): string | undefined {
  const header = req.headers['x-forwarded-host'];
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim();
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const scheme = origin.indexOf('://');
  // "null" (a sandboxed frame, a file:// page) and anything else without a scheme is never this server.
  return scheme > 0 && origin.slice(scheme + 3) === host.toLowerCase();
}
