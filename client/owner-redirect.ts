/**
 * Following a conversation to the server that holds it. Several servers may share one store, and only
 * one of them sequences a conversation at a time (docs/conversations.md, "Several servers on one store");
 * the others refuse it with close 4421 and, when the holder published `chat.ownership.address`, the
 * reason `CHAT_ERR_OWNED_ELSEWHERE <address>`. Going there at once beats waiting out a backoff for a
 * load balancer to route the retry to the right server by chance.
 *
 * The entry point (the client's `url`, or the current one of its list: entry-points.ts) stays the home base: any
 * other close sends the next attempt back there, because the followed server may be the one that went away, and
 * whoever holds the conversation now answers with its own address.
 */
import { CLOSE_CODES } from './protocol-frames';
import { createUnreachableServers, type UnreachableServers } from './unreachable-servers';

/** true (the default): follow any ws/wss/http/https address; false: never; a function: those it accepts. */
export type FollowOwnerOption = boolean | ((ownerAddress: string) => boolean);

/** The refusal's error code: the close reason starts with it, the owner's address follows after a space. */
const OWNED_ELSEWHERE_REASON = 'CHAT_ERR_OWNED_ELSEWHERE ';
/**
 * Redirects followed without a healthy connection (connection-loop.ts) in between. Two servers can each name the
 * other while a conversation moves (the old holder's claim not yet expired, the new one's already refused): past
 * this many the client falls back to its backoff instead of bouncing between them.
 */
const MAX_FOLLOWS_WITHOUT_CONNECTING = 3;

export interface OwnerRedirect {
  /** The base URL of the next attempt: the entry point, or the owner a refusal named. */
  readonly base: string;
  /** True while `base` is an owner a refusal named (not the entry point). */
  readonly following: boolean;
  /** A socket closed: returns the address the next attempt goes to if this close redirects it. */
  onClose(code: number, reason: string): string | undefined;
  /** A healthy connection ended (connection-loop.ts): the redirects before it no longer count against the bounce limit */
  onConnected(): void;
}

/**
 * `entryPoint` is read at every use when it is a function: the client's current server of its list. `unreachable`:
 * the servers the client could not reach (connection-loop.ts marks them, a followed owner whose handshake failed
 * included): a refusal naming one is not followed, so a client is not sent back to a killed server, again and again,
 * while its claims run out.
 */
export function createOwnerRedirect(
  entryPoint: string | (() => string),
  follow: FollowOwnerOption = true,
  unreachable: UnreachableServers = createUnreachableServers(Date.now),
): OwnerRedirect {
  const entry = typeof entryPoint === 'string' ? () => entryPoint : entryPoint;
  /** The owner address being followed; undefined at the entry point. */
  let followed: string | undefined;
  let followsWithoutConnecting = 0;

  function acceptable(address: string): boolean {
    let target: URL;
    try {
      target = new URL(address);
    } catch {
      return false;
    }
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) return false;
    // Never from TLS to plain text: the token would travel in the clear.
    if (isSecure(entry()) && !isSecure(address)) return false;
    if (unreachable.has(address)) return false;
    return typeof follow === 'function' ? follow(address) : follow;
  }

  return {
    get base() {
      return followed ?? entry();
    },
    get following() {
      return followed !== undefined;
    },
    onClose(code, reason) {
      const address =
        code === CLOSE_CODES.OWNED_ELSEWHERE && reason.startsWith(OWNED_ELSEWHERE_REASON)
          ? reason.slice(OWNED_ELSEWHERE_REASON.length).trim()
          : '';
      const base = followed ?? entry();
      if (address !== '' && address !== base && followsWithoutConnecting < MAX_FOLLOWS_WITHOUT_CONNECTING && acceptable(address)) {
        followsWithoutConnecting += 1;
        // Named back to the entry point (a conversation moving between two servers): that is no owner being followed.
        followed = address === entry() ? undefined : address;
        return address;
      }
      followed = undefined;
      return undefined;
    },
    onConnected() {
      followsWithoutConnecting = 0;
    },
  };
}

function isSecure(url: string): boolean {
  return /^(wss|https):/i.test(url);
}
