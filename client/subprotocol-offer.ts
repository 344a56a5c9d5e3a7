/**
 * What the next connection attempt offers as WebSocket subprotocols: the refusal subprotocol (with the presence-batches
 * opt-in), or none.
 *
 * Rule: offer what last completed a handshake; after a handshake that failed, offer the other.
 *
 * Why. A server that selects none of the offered subprotocols fails the handshake, in browsers (the
 * WHATWG WebSocket standard requires it) and in Node's `ws` alike: behind a proxy that strips
 * `Sec-WebSocket-Protocol` from the 101, or against a gateway older than the subprotocol, a client that
 * always offered it could never connect. A browser reports that failure exactly as it reports a network
 * failure or a refused upgrade (an error event, then close 1006, no detail), so the client cannot know why
 * a handshake failed; it can only try the other way next time. Hence:
 * - behind such a proxy the first connect fails once, the second (offering none) connects, and the later
 *   reconnects of the client start without the subprotocol: no repeated failed handshakes;
 * - during an outage, when every handshake fails, attempts alternate, so the client is never stuck with either
 *   choice; whichever connects first when the server is back becomes the preference;
 * - a preference for "none" picked up by such a chance costs one attempt per refused upgrade in a browser:
 *   the refusal arrives as a bare 1006 (a failed handshake), so the next attempt offers the subprotocol
 *   again and gets the coded close.
 * Node's `ws` does say why ("Server sent no subprotocol"); the same rule serves it, since without the
 * subprotocol `ws` still reports refusals as HTTP statuses. The attempts stay within the client's
 * backoff and maxRetries: a fallback is an ordinary retry.
 *
 * Each server address learns for itself (subprotocolOffers): a proxy stands in front of one address, not of all, and
 * a client that leaves a dead server for the next one of its list (entry-points.ts) must not drop the subprotocol
 * there because the dead one failed its handshake.
 */

/**
 * What an attempt offers: one subprotocol, or several (the refusal subprotocol and the presence-batches opt-in, which
 * the server reads off the offer and never selects while the refusal one is offered too).
 */
export type Offered = string | string[];

/** The offer of one client (each client learns for itself; nothing is shared between clients). */
export interface SubprotocolOffer {
  /** The `protocols` argument of the next attempt; undefined offers none. */
  next(): Offered | undefined;
  /** The socket of an attempt that offered `offered` opened: its handshake completed. */
  completed(offered: Offered | undefined): void;
  /** The socket of an attempt that offered `offered` closed without ever opening. */
  failed(offered: Offered | undefined): void;
}

/** Starts by offering `subprotocol` (all of them, when several). */
export function createSubprotocolOffer(subprotocol: Offered): SubprotocolOffer {
  let offering = true;
  return {
    next: () => (offering ? subprotocol : undefined),
    completed(offered) {
      offering = offered !== undefined;
    },
    failed(offered) {
      offering = offered === undefined;
    },
  };
}

/** The offer of each server address a client connects to, made when first asked for. */
export function subprotocolOffers(subprotocol: Offered): (server: string) => SubprotocolOffer {
  const offers = new Map<string, SubprotocolOffer>();
  return (server) => {
    let offer = offers.get(server);
    if (offer === undefined) {
      offer = createSubprotocolOffer(subprotocol);
      offers.set(server, offer);
    }
    return offer;
  };
}
