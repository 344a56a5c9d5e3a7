/**
 * `ws` wrapped to behave like a browser's WebSocket, for client tests that must not rely on what only
 * Node's `ws` tells: `onerror` gets a bare event (a browser never tells the page why a handshake failed,
 * neither the HTTP status of a refused upgrade nor a missing subprotocol, where `ws` says "Unexpected
 * server response: 401" or "Server sent no subprotocol"), and `onclose` a code and a reason.
 */
import { WebSocket } from 'ws';
import type { WebSocketConstructor, WebSocketLike } from '../../client';

type Handler = ((event: never) => void) | null;

/** What each construction was given, in order. */
export interface OpenedSockets {
  readonly urls: string[];
  /** The `protocols` argument of each construction (undefined: none offered). */
  readonly protocols: (string | string[] | undefined)[];
}

export function openedSockets(): OpenedSockets {
  return { urls: [], protocols: [] };
}

/** `offer: false` drops the subprotocols, as a client that does not offer the refusal subprotocol. */
export function browserLikeWebSocket(offer: boolean, opened: OpenedSockets): WebSocketConstructor {
  return class BrowserLikeWebSocket implements WebSocketLike {
    onopen: Handler = null;
    onmessage: Handler = null;
    onclose: Handler = null;
    onerror: Handler = null;
    private readonly ws: WebSocket;

    constructor(url: string, protocols?: string | string[]) {
      opened.urls.push(url);
      opened.protocols.push(protocols);
      this.ws = offer && protocols !== undefined ? new WebSocket(url, protocols) : new WebSocket(url);
      const call = (handler: Handler, event: object): void => (handler as ((e: object) => void) | null)?.(event);
      this.ws.on('open', () => call(this.onopen, { type: 'open' }));
      this.ws.on('message', (data) => call(this.onmessage, { type: 'message', data: String(data) }));
      this.ws.on('error', () => call(this.onerror, { type: 'error' }));
      this.ws.on('close', (code, reason) => call(this.onclose, { type: 'close', code, reason: String(reason) }));
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
  };
}

/** Node's own `ws`, recording what each construction was given (it reports why a handshake failed). */
export function recordingNodeWebSocket(opened: OpenedSockets): WebSocketConstructor {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      opened.urls.push(url);
      opened.protocols.push(protocols);
      super(url, protocols);
    }
  } as unknown as WebSocketConstructor;
}
