import { WebSocket } from 'ws';

/**
 * ws's WebSocket, with the connection's held frames written before any close frame ws writes.
 *
 * The gateway's frames are held per turn by TurnWriteBatch and written behind ws's back. ws writes its
 * own close frame straight to the socket from inside its parser: it answers a client's close frame, or a
 * protocol error (invalid UTF-8, an oversized frame), in the same read that may already have produced an
 * error frame for an earlier frame. Written after the close frame, that error frame is dropped by every
 * client (RFC 6455 5.5.1: nothing follows a close frame). ws funnels every close it writes through
 * close(), so the flush goes there; pings and pongs may go out ahead of held frames (control frames
 * interleave freely between whole messages).
 */
export class FlushingWebSocket extends WebSocket {
  /** Writes what the connection holds this turn (set once the connection exists; a shared function, no closure). */
  beforeClose: (() => void) | undefined = undefined;

  override close(code?: number, data?: string | Buffer): void {
    // Only while open: once our close frame is out nothing more may follow it.
    if (this.readyState === WebSocket.OPEN) this.beforeClose?.();
    super.close(code, data);
  }
}
