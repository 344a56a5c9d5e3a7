/**
 * Holds the client's one current WebSocket. A socket that has been replaced or dropped is
 * detached first, so its late events (a close racing our own close, a frame already in flight)
 * can never touch the state of the connection that replaced it.
 */
import type { WebSocketConstructor, WebSocketLike } from './client-types';
import { httpStatusToClose } from './chat-socket-url';
import { CLOSE_CODES, type ClientFrame } from './protocol-frames';

const OPEN = 1;

/** Callbacks for the events of the current socket. */
export interface ChatSocketHandlers {
  /** The handshake completed (a socket that fails its handshake closes without this). */
  onOpen(): void;
  /** Raw frame data (parsing is the caller's: an unparseable frame still proves liveness). */
  onData(data: unknown): void;
  /**
   * The socket closed by itself. A refused upgrade arrives as its close code: sent by the server on the
   * refusal subprotocol, or mapped from the HTTP status `ws` reports (a server that ignores the subprotocol).
   */
  onClose(code: number, reason: string): void;
}

/** The current-socket holder of one client. */
export interface ChatSocket {
  readonly current: WebSocketLike | undefined;
  /**
   * Opens a socket to `url`, offering `protocols` (undefined: none), and makes it current; throws what the
   * constructor throws.
   */
  open(Impl: WebSocketConstructor, url: string, protocols: string | string[] | undefined, handlers: ChatSocketHandlers): WebSocketLike;
  /** Sends on the current socket; false if there is none, it is not open, or send threw. */
  send(frame: ClientFrame): boolean;
  /** Forgets the current socket without closing it (it is already gone). */
  detach(): void;
  /** Detaches and closes the current socket, if any. */
  close(code: number, reason: string): void;
}

/** Creates an empty holder. */
export function createChatSocket(): ChatSocket {
  let socket: WebSocketLike | undefined;

  function detach(ws: WebSocketLike): void {
    // No-ops rather than null: `ws` emits 'error' when a CONNECTING socket is closed, and an
    // EventEmitter 'error' without a listener would throw.
    const noop = (): void => undefined;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
    if (socket === ws) socket = undefined;
  }

  return {
    get current() {
      return socket;
    },
    open(Impl, url, protocols, handlers) {
      // Offering the refusal subprotocol makes refusals close codes a browser can see (protocol.md,
      // "Connecting"); subprotocol-offer.ts decides when not to.
      const ws = protocols === undefined ? new Impl(url) : new Impl(url, protocols);
      socket = ws;
      let errorText = '';
      ws.onopen = () => {
        if (socket === ws) handlers.onOpen();
      };
      ws.onerror = (ev: { message?: string; error?: { message?: string } }) => {
        // `ws` reports a refused upgrade ("Unexpected server response: 401") only here.
        errorText = ev?.message ?? ev?.error?.message ?? '';
      };
      ws.onmessage = (ev: { data: unknown }) => {
        if (socket !== ws) return;
        handlers.onData(ev.data);
      };
      ws.onclose = (ev: { code?: number; reason?: string }) => {
        if (socket !== ws) return;
        let code = ev?.code ?? CLOSE_CODES.ABNORMAL;
        const m = /Unexpected server response: (\d+)/.exec(errorText);
        // An HTTP refusal of the upgrade maps onto the close code the server would have used.
        if (m) code = httpStatusToClose(Number(m[1]));
        handlers.onClose(code, ev?.reason || errorText || '');
      };
      return ws;
    },
    send(frame) {
      if (!socket || socket.readyState !== OPEN) return false;
      try {
        socket.send(JSON.stringify(frame));
        return true;
      } catch {
        return false;
      }
    },
    detach() {
      if (socket) detach(socket);
      socket = undefined;
    },
    close(code, reason) {
      const ws = socket;
      if (!ws) return;
      detach(ws);
      try {
        ws.close(code, reason);
      } catch {
        /* closing a CONNECTING socket throws in some implementations */
      }
    },
  };
}
