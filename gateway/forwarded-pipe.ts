import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Clock } from '../actors/clock';
import { ClientFrameGate } from './client-frame-gate';
import { closeCodeOf } from './error-frames';

/**
 * One WebSocket a forwarding server pipes to its conversation's holder (owner-forwarding.ts): the client's bytes to
 * the holder through a ClientFrameGate, the holder's back unchanged. When one side ends, what is already on its way to
 * the other is written before that one is closed too (a close frame in flight would otherwise be cut); a side that
 * does not take it within `graceMs` is cut.
 */
export class ForwardedPipe {
  /** Resolves once both sockets have closed. */
  readonly closed: Promise<void>;
  private readonly gate = new ClientFrameGate();
  private cutTimer: unknown;

  constructor(
    private readonly client: Duplex,
    private readonly upstream: Duplex,
    head: Buffer,
    private readonly clock: Clock,
    private readonly graceMs: number,
  ) {
    let clientClosed = false;
    let upstreamClosed = false;
    this.closed = new Promise((resolve) => {
      const closedOne = (): void => {
        if (!clientClosed || !upstreamClosed) return;
        if (this.cutTimer !== undefined) this.clock.clearTimeout(this.cutTimer);
        this.cutTimer = undefined;
        resolve();
      };
      client.once('close', () => {
        clientClosed = true;
        this.endAfterWrites(upstream);
        closedOne();
      });
      upstream.once('close', () => {
        upstreamClosed = true;
        this.endAfterWrites(client);
        closedOne();
      });
    });
    // A reset is no close handshake to pass on: both go at once, and the client sees the connection lost (1006).
    client.on('error', () => this.cut());
    upstream.on('error', () => this.cut());
    if (head.length > 0) this.gate.write(head);
    client.pipe(this.gate).pipe(upstream);
    upstream.pipe(client);
  }

  /**
   * The forwarding server is shutting down: a close frame 1001 GATEWAY_ERR_SHUTTING_DOWN goes to the holder on the
   * client's behalf, after the client's frame now under way. The holder answers it with the same close frame (RFC 6455
   * section 5.5.1), which reaches the client as the close a server's own sockets get at shutdown, and ends the
   * connection; both are cut if that takes longer than `graceMs`.
   */
  shutDown(): Promise<void> {
    this.gate.insertAtBoundary(maskedCloseFrame(closeCodeOf('GATEWAY_ERR_SHUTTING_DOWN'), 'GATEWAY_ERR_SHUTTING_DOWN'));
    this.cutAfterGrace();
    return this.closed;
  }

  /** Both sockets, now. */
  cut(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** Ends `socket` once what was written to it has gone, or cuts it after the grace. */
  private endAfterWrites(socket: Duplex): void {
    if (socket.destroyed) return;
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    socket.once('finish', () => socket.destroy());
    socket.end();
    this.cutAfterGrace();
  }

  private cutAfterGrace(): void {
    if (this.cutTimer !== undefined) return;
    this.cutTimer = this.clock.setTimeout(() => {
      this.cutTimer = undefined;
      this.cut();
    }, this.graceMs);
  }
}

/**
 * A close frame as a client sends it (masked, as RFC 6455 section 5.3 requires of every client frame; the holder
 * refuses unmasked ones). `reason` must fit the 123 bytes a close frame leaves it.
 */
export function maskedCloseFrame(code: number, reason: string): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, 'utf8')]);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, masked]);
}
