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
 * - a server that could not be reached (unreachable-servers.ts: refused, reset, no handshake) is left out while one
 *   that answers is current: a live server refusing for now (a 4421 while a killed owner's claim runs out) is tried
 *   again after the backoff rather than left for the dead one, which could not answer at all. When the current
 *   server is unreachable too, nothing answers: the list is gone through in its order as if nothing were marked;
 * - a close about this client rather than the server (its token expired, it read too slowly) retries the same server
 *   with backoff, as with a single url.
 * With one url a round is one attempt: every retriable close waits out the backoff, as before there was a list.
 */
import { CLOSE_CODES, isTokenExpiredClose } from './protocol-frames';
import { serverKey } from './server-key';
import { createUnreachableServers, type UnreachableServers } from './unreachable-servers';

export interface EntryPoints {
  /** The server the next attempt goes to (unless it follows an owner's address). */
  readonly current: string;
  /**
   * The current server is gone: the next one in the list that has not failed in this round becomes current (try it at
   * once: true), skipping unreachable ones unless the current one is unreachable too. False when there is none: wait
   * out the backoff first, and the next round begins with that wait, at the first server after this one that is not
   * unreachable (this one again when the others are), or at the next one when none is reachable.
   */
  moveOn(): boolean;
  /** A wait began, or a healthy connection ended: the failures so far no longer count towards the round. */
  newRound(): void;
}

/**
 * The `url` option as a list: at least one address, each one a string, and at least one of them an address a WebSocket
 * can open; RangeError otherwise. An address given again is dropped (its first place and spelling kept): it is the same
 * server, and a round would otherwise try a gone server twice at once. "Again" is by serverKey, so `ws://a`,
 * `WS://A:80/` and `http://a` are one server.
 */
export function entryPointList(url: string | readonly string[]): readonly string[] {
  // Checked as unknown: a JavaScript caller's `url: undefined` is told what is missing, not "url is not iterable".
  const list: unknown[] = typeof url === 'string' ? [url] : Array.isArray(url) ? [...(url as readonly unknown[])] : [];
  if (list.length === 0 || !list.every((u): u is string => typeof u === 'string' && u !== '')) {
    throw new RangeError('url: a server address, or a non-empty list of them');
  }
  // One address of a list that does not parse fails when tried and the next is tried; with none that can, every attempt
  // fails alike and connect() retried for ever (`127.0.0.1:8000`, no scheme, only showed "reconnecting").
  if (!list.some(isSocketAddress)) {
    throw new RangeError(
      `url: ${list.map((u) => JSON.stringify(u)).join(', ')} names no ws://, wss://, http:// or https:// address (e.g. ws://127.0.0.1:8000)`,
    );
  }
  const seen = new Set<string>();
  return list.filter((u) => {
    const key = serverKey(u);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isSocketAddress(address: string): boolean {
  if (!/^(wss?|https?):\/\//i.test(address)) return false;
  try {
    new URL(address);
    return true;
  } catch {
    return false;
  }
}

/** `unreachable`: the client's marks (connection-loop.ts makes them); none by default. */
export function createEntryPoints(
  urls: readonly string[],
  unreachable: UnreachableServers = createUnreachableServers(Date.now),
): EntryPoints {
  let index = 0;
  /** Indexes of the servers that failed since the round began. */
  const failedThisRound = new Set<number>();
  const isUnreachable = (i: number): boolean => unreachable.has(urls[i]!);
  /** The other servers in list order from the one after the current, then the current one. */
  const fromNext = (): number[] => urls.map((_, k) => (index + 1 + k) % urls.length);
  return {
    get current() {
      return urls[index]!;
    },
    moveOn() {
      const answered = !isUnreachable(index);
      failedThisRound.add(index);
      const untried = fromNext().filter((i) => !failedThisRound.has(i));
      const next = untried.find((i) => !isUnreachable(i)) ?? (answered ? undefined : untried[0]);
      if (next !== undefined) {
        index = next;
        return true;
      }
      index = fromNext().find((i) => !isUnreachable(i)) ?? (index + 1) % urls.length;
      return false;
    },
    newRound() {
      failedThisRound.clear();
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
