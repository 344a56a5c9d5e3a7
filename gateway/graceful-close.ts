import type { WebSocket } from 'ws';
import type { Clock } from '../actors/clock';
import type { ErrorCode } from '../actors/errors';
import { closeCodeOf } from './error-frames';

/** The socket under ws: a net.Socket can be reset; a TLS socket cannot (node throws ERR_INVALID_HANDLE_TYPE). */
export interface ResettableStream {
  resetAndDestroy?(): unknown;
}

/**
 * How a socket whose close handshake did not finish in time ends. `terminate`: destroyed, and what the kernel still
 * holds for the peer is sent before a FIN. `reset`: an RST, and the kernel drops it: for a peer that reads nothing,
 * which would leave megabytes queued in an orphaned socket (FIN-WAIT-1: 3.9 MB still there 20 s on, docs/protocol.md).
 */
export type CloseCut = 'terminate' | 'reset';

/**
 * Closes one socket with a close frame, and terminates it if the close handshake does not finish in
 * time: a dead or stalled peer never answers it, and its socket would stay open for the OS timeout.
 */
export class GracefulClose {
  private terminateTimer: unknown;

  constructor(
    private readonly ws: WebSocket,
    private readonly clock: Clock,
    /** The socket under ws, for a `reset` cut (without it, or on TLS, the socket is terminated). */
    private readonly transport?: ResettableStream,
  ) {}

  /**
   * Closes with the close code of `code` (its name as the reason, unless `reason` is given), or with a plain close
   * code and no reason.
   */
  start(code: ErrorCode | number, graceMs: number, reason?: string, cut: CloseCut = 'terminate'): void {
    if (typeof code === 'number') this.closeWith(code, reason ?? '', graceMs, cut);
    else this.closeWith(closeCodeOf(code), reason ?? code, graceMs, cut);
  }

  /** Closes with this close code and reason (a refused upgrade's code is not the error's own close code). */
  closeWith(closeCode: number, reason: string, graceMs: number, cut: CloseCut = 'terminate'): void {
    try {
      this.ws.close(closeCode, reason);
    } catch {
      this.ws.terminate();
    }
    this.terminateTimer = this.clock.setTimeout(() => {
      this.terminateTimer = undefined;
      this.cut(cut);
    }, graceMs);
  }

  private cut(how: CloseCut): void {
    if (how === 'reset' && this.transport?.resetAndDestroy !== undefined) {
      try {
        this.transport.resetAndDestroy();
        return;
      } catch {
        // Not a TCP handle (TLS): terminated below.
      }
    }
    this.ws.terminate();
  }

  /** The socket has closed: the pending termination is no longer needed. */
  finished(): void {
    if (this.terminateTimer !== undefined) this.clock.clearTimeout(this.terminateTimer);
    this.terminateTimer = undefined;
  }
}
