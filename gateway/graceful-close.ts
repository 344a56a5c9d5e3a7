import type { WebSocket } from 'ws';
import type { Clock } from '../actors/clock';
import type { ErrorCode } from '../actors/errors';
import { closeCodeOf } from './error-frames';

/**
 * Closes one socket with a close frame, and terminates it if the close handshake does not finish in
 * time: a dead or stalled peer never answers it, and its socket would stay open for the OS timeout.
 */
export class GracefulClose {
  private terminateTimer: unknown;

  constructor(
    private readonly ws: WebSocket,
    private readonly clock: Clock,
  ) {}

  /**
   * Closes with the close code of `code` (its name as the reason, unless `reason` is given), or with a plain close
   * code and no reason.
   */
  start(code: ErrorCode | number, graceMs: number, reason?: string): void {
    if (typeof code === 'number') this.closeWith(code, reason ?? '', graceMs);
    else this.closeWith(closeCodeOf(code), reason ?? code, graceMs);
  }

  /** Closes with this close code and reason (a refused upgrade's code is not the error's own close code). */
  closeWith(closeCode: number, reason: string, graceMs: number): void {
    try {
      this.ws.close(closeCode, reason);
    } catch {
      this.ws.terminate();
    }
    this.terminateTimer = this.clock.setTimeout(() => {
      this.terminateTimer = undefined;
      this.ws.terminate();
    }, graceMs);
  }

  /** The socket has closed: the pending termination is no longer needed. */
  finished(): void {
    if (this.terminateTimer !== undefined) this.clock.clearTimeout(this.terminateTimer);
    this.terminateTimer = undefined;
  }
}
