/**
 * Node's `ws` between a client under test and the real server, losing the server frames a test names, as a path that
 * dropped one record would: the client then holds what follows behind a gap and asks for a `sync`. It also records
 * every frame each way, so a test can count what the client sent and wait until the client has handled a frame.
 */
import { WebSocket } from 'ws';
import type { WebSocketConstructor, WebSocketLike } from '../../client';

type Handler = ((event: never) => void) | null;

/** A frame as seen on the wire (only what the tests look at is typed). */
export interface WireFrame {
  readonly type?: string;
  readonly message?: { readonly sequence_id?: number; readonly content?: string };
  readonly [field: string]: unknown;
}

/** The network between the client and the server, for every socket the client opens. */
export interface LossyNetwork {
  /** The WebSocketImpl to give the client. */
  readonly WebSocketImpl: WebSocketConstructor;
  /** Frames the client sent, in order, over all its sockets. */
  readonly sent: WireFrame[];
  /** Frames the client was handed (lost ones not included), in order. */
  readonly delivered: WireFrame[];
  /** The next server frame matching `predicate` is lost (once); resolves when it was. */
  loseNext(predicate: (frame: WireFrame) => boolean): Promise<void>;
  /**
   * The next frame the client sends matching `predicate` never reaches the server (once), as a frame still in the
   * send buffer of a connection that dies: it is in `sent` (the client sent it), not on the wire.
   */
  loseNextSent(predicate: (frame: WireFrame) => boolean): void;
  /** Resolves once the client has handled a server frame matching `predicate` (also one handled before). */
  handled(predicate: (frame: WireFrame) => boolean): Promise<void>;
}

export function lossyNetwork(): LossyNetwork {
  const sent: WireFrame[] = [];
  const delivered: WireFrame[] = [];
  const losses: ((frame: WireFrame) => boolean)[] = [];
  const sentLosses: ((frame: WireFrame) => boolean)[] = [];
  const waiters = new Set<{ predicate: (frame: WireFrame) => boolean; resolve: () => void }>();

  /** A server frame reached the client's socket: lost, or handed to the client and then to whoever waits for it. */
  const arrived = (text: string, hand: (data: string) => void): void => {
    const frame = JSON.parse(text) as WireFrame;
    const loss = losses.findIndex((lose) => lose(frame));
    if (loss >= 0) {
      losses.splice(loss, 1);
      return;
    }
    hand(text);
    delivered.push(frame);
    for (const w of [...waiters]) {
      if (!w.predicate(frame)) continue;
      waiters.delete(w);
      w.resolve();
    }
  };

  class LossyWebSocket implements WebSocketLike {
    onopen: Handler = null;
    onmessage: Handler = null;
    onclose: Handler = null;
    onerror: Handler = null;
    private readonly ws: WebSocket;

    constructor(url: string, protocols?: string | string[]) {
      this.ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
      const call = (handler: Handler, event: object): void => (handler as ((e: object) => void) | null)?.(event);
      this.ws.on('open', () => call(this.onopen, { type: 'open' }));
      this.ws.on('message', (data) => arrived(String(data), (text) => call(this.onmessage, { type: 'message', data: text })));
      this.ws.on('error', (err) => call(this.onerror, { type: 'error', message: err.message }));
      this.ws.on('close', (code, reason) => call(this.onclose, { type: 'close', code, reason: String(reason) }));
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      const frame = JSON.parse(data) as WireFrame;
      sent.push(frame);
      const loss = sentLosses.findIndex((lose) => lose(frame));
      if (loss >= 0) {
        sentLosses.splice(loss, 1);
        return;
      }
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  }

  return {
    WebSocketImpl: LossyWebSocket,
    sent,
    delivered,
    loseNext(predicate) {
      return new Promise<void>((resolve) =>
        losses.push((frame) => {
          if (!predicate(frame)) return false;
          resolve();
          return true;
        }),
      );
    },
    loseNextSent(predicate) {
      sentLosses.push(predicate);
    },
    handled(predicate) {
      if (delivered.some(predicate)) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ predicate, resolve }));
    },
  };
}
