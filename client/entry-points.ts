/**
 * The servers a client may connect to: the `url` option, one address or several (servers of one deployment, on one
 * store: the conversation and its sequence ids are the same on each, so a resume or a re-send means the same there).
 * One of them is current; every attempt that is not following an owner's address (owner-redirect.ts) goes there.
 *
 * The policy (docs/client.md, "Several servers"):
 * - the current server stays current for as long as it serves: there is no going back to the first of the list;
 * - a close that says the server is gone, or cannot serve now (isServerGone), makes the next one in the list current,
 *   and it is tried at once: waiting would not bring the gone server back sooner, and the next one may be up;
 * - a round is every server failing once since the last healthy connection (connection-loop.ts) or wait: only then
 *   does the client wait out its backoff, and that wait starts a new round, at the server after the last one that
 *   failed;
 * - a close about this client rather than the server (its token expired, it read too slowly) retries the same server
 *   with backoff, as with a single url.
 * With one url a round is one attempt: every retriable close waits out the backoff, as before there was a list.
 */
import { CLOSE_CODES, isTokenExpiredClose } from './protocol-frames';

export interface EntryPoints {
  /** The server the next attempt goes to (unless it follows an owner's address). */
  readonly current: string;
  /**
   * The current server is gone: the next one in the list becomes current. True when it has not failed in this round
   * (try it at once); false when every server has (wait out the backoff first: the next round begins with that wait).
   */
  moveOn(): boolean;
  /** A wait began, or a healthy connection ended: the failures so far no longer count towards the round. */
  newRound(): void;
}

/**
 * The `url` option as a list: at least one address, each one a string; RangeError otherwise. An address given again is
 * dropped (its first place and spelling kept): it is the same server, and a round would otherwise try a gone server
 * twice at once. "Again" is by serverKey, so `ws://a`, `WS://A:80/` and `http://a` are one server.
 */
export function entryPointList(url: string | readonly string[]): readonly string[] {
  const list = typeof url === 'string' ? [url] : [...url];
  if (list.length === 0 || list.some((u) => typeof u !== 'string' || u === '')) {
    throw new RangeError('url: a server address, or a non-empty list of them');
  }
  const seen = new Set<string>();
  return list.filter((u) => {
    const key = serverKey(u);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const SOCKET_SCHEMES: Readonly<Record<string, string>> = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' };

/**
 * The server an address names, the same for every spelling the client would connect to the same place with: http(s)
 * as ws(s) (buildChatSocketUrl maps them), scheme and host in lower case, no default port (the URL class drops 80 for
 * http/ws and 443 for https/wss alike), no trailing slashes on the path (buildChatSocketUrl drops them). An address
 * the URL class cannot parse, or of another scheme, stays as given: it is not refused here, as it never was; its
 * WebSocket constructor throws when it is tried, and that counts as the server being gone (connection-loop.ts).
 */
function serverKey(address: string): string {
  let parsed: URL;
  try {
    parsed = new URL(address);
  } catch {
    return address;
  }
  const scheme = SOCKET_SCHEMES[parsed.protocol];
  if (scheme === undefined) return address;
  const userInfo = parsed.username || parsed.password ? `${parsed.username}:${parsed.password}@` : '';
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${scheme}//${userInfo}${parsed.host}${path}${parsed.search}${parsed.hash}`;
}

export function createEntryPoints(urls: readonly string[]): EntryPoints {
  let index = 0;
  /** Servers that failed since the round began. */
  let failedThisRound = 0;
  return {
    get current() {
      return urls[index]!;
    },
    moveOn() {
      failedThisRound += 1;
      index = (index + 1) % urls.length;
      return failedThisRound < urls.length;
    },
    newRound() {
      failedThisRound = 0;
    },
  };
}

/**
 * Whether a retriable close says its server is gone or cannot serve the conversation now, rather than something about
 * this client: everything but a token that expired (a fresh one is for the same server) and a slow consumer (this
 * client read too slowly; the server is fine). So: a connection refused or reset, a handshake that failed, an upgrade
 * refused for now (1013, an HTTP 5xx), a shutdown or restart (1001, 1012), an internal error (1011), a heartbeat or
 * connect timeout (4000), a refusal naming no owner to follow (4421).
 */
export function isServerGone(code: number, reason: string): boolean {
  return code !== CLOSE_CODES.SLOW_CONSUMER && !isTokenExpiredClose(code, reason);
}
