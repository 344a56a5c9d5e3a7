/**
 * The client's `leave()` (docs/client.md, Leaving): a promise settled by the server's answer, not by the client
 * closing its socket. The server answers a `leave` frame in one of these ways (docs/protocol.md):
 * - it removes the member, then closes with 1000: resolved;
 * - past the user's membership budget it sends a non-fatal `error` frame (GATEWAY_ERR_RATE_LIMITED, retry_after_ms)
 *   and keeps the socket, a member's; a runtime failure (e.g. CHAT_ERR_QUEUE_FULL) is an `error` frame too: rejected
 *   with that error, the client stays connected;
 * - the member was removed otherwise meanwhile (4003 CHAT_ERR_NOT_PARTICIPANT, also as the refusal of a reconnect):
 *   resolved, the user is no member.
 * The leave's error frames say `reply_to: "leave"`, so a refused `sync` (same code, no message_id) is not taken for
 * one. Messages sent after leave() wait for its answer (canSend), so none is posted after an accepted leave.
 * A socket that ends before the answer leaves the outcome unknown: the leave is kept, and the next connection finds
 * out (refused 4003 when the member is gone; otherwise the leave is sent again on it). The client never connects
 * with join=true, so such a reconnect cannot make the user a member again.
 */
import { ChatClientError } from './client-types';
import type { ErrorFrame } from './protocol-frames';

/** What the leave needs from the client around it. */
export interface LeaveRequestDeps {
  /** Sends `leave`; false if it could not be sent. */
  sendLeave(): boolean;
  /** The leave was refused without ending the client: the messages it held back may go now. */
  resumeSending(): void;
}

/** The one leave of a client (leave() while one is pending returns the same promise). */
export interface LeaveRequest {
  /** True from the frame going out until the answer: messages wait meanwhile. */
  readonly inFlight: boolean;
  /** Starts a leave, sent now if `ready` (else at the next connection), or joins the pending one. */
  start(ready: boolean): Promise<void>;
  /** A connection is ready (after its `connected` frame and the outbox's flush): sends a pending leave. */
  onReady(): void;
  /** An `error` frame answering our `leave` (reply_to "leave"; err built from it): settles the leave. */
  onErrorFrame(frame: ErrorFrame, err: ChatClientError): void;
  /** The socket ended: the answer, if any, is lost; a pending leave goes again on the next connection. */
  onSocketEnded(): void;
  /** The client ended with `err`: resolves when the server confirmed (1000 after the leave, or no member), else rejects. */
  onClientEnded(err: ChatClientError): void;
}

/** Where a pending leave is. */
type Phase =
  | 'none'
  /** Waiting for a connection. */
  | 'queued'
  /** `leave` sent on the current socket: its error frame or close answers it. */
  | 'sent';

/** Creates a client's leave state, with nothing pending. */
export function createLeaveRequest(deps: LeaveRequestDeps): LeaveRequest {
  let phase: Phase = 'none';
  /** A `leave` went out on some socket: a close 1000 confirms it. */
  let everSent = false;
  let pending: { promise: Promise<void>; resolve(): void; reject(err: Error): void } | undefined;

  function send(): void {
    if (!deps.sendLeave()) {
      phase = 'queued';
      return;
    }
    phase = 'sent';
    everSent = true;
  }

  function settle(err?: Error): void {
    const p = pending;
    pending = undefined;
    phase = 'none';
    everSent = false;
    if (!p) return;
    if (err) p.reject(err);
    else p.resolve();
  }

  return {
    get inFlight() {
      return phase === 'sent';
    },
    start(ready) {
      if (pending) return pending.promise;
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A caller that does not wait for the answer (fire and forget, as leave() was) gets no unhandled rejection:
      // a refusal is also an `error` event. One that awaits or catches still gets it.
      promise.catch(() => undefined);
      pending = { promise, resolve, reject };
      phase = 'queued';
      if (ready) send();
      return promise;
    },
    onReady() {
      if (phase === 'queued') send();
    },
    onErrorFrame(frame, err) {
      // Only the socket the leave went on can answer it (after a reconnect it is sent again).
      if (phase !== 'sent') return;
      // Removed otherwise just before (the close 4003 follows): what leave() asked for is true.
      if (frame.error === 'CHAT_ERR_NOT_PARTICIPANT') {
        settle();
        return;
      }
      settle(err);
      deps.resumeSending();
    },
    onSocketEnded() {
      if (phase !== 'none') phase = 'queued';
    },
    onClientEnded(err) {
      if (!pending) return;
      const confirmed = (everSent && err.closeCode === 1000) || err.code === 'CHAT_ERR_NOT_PARTICIPANT';
      settle(confirmed ? undefined : err);
    },
  };
}

/**
 * leave() refused by the client itself: `CLIENT_NOT_CONNECTED` before connect() (it has no socket, and does not open
 * one just to leave), `CLIENT_CLOSED` once closed. Handled as the pending leave's promise is, so a caller that does
 * not wait gets no unhandled rejection.
 */
export function refusedLeave(state: 'idle' | 'closed'): Promise<void> {
  const err =
    state === 'idle'
      ? new ChatClientError(
          'CLIENT_NOT_CONNECTED',
          'leave() needs a connected client: call connect() first, or leave over HTTP (POST /chat/conversations/{id}/leave)',
        )
      : new ChatClientError('CLIENT_CLOSED', 'client is closed');
  const promise = Promise.reject(err);
  promise.catch(() => undefined);
  return promise;
}
