/**
 * Cumulative `ack` frames, throttled: one ack covers every record up to its sequence id, so the
 * client sends one at most every `intervalMs`, or at once after `every` newly delivered records
 * (so a fast replay still lets the server trim its per-connection buffer early).
 */
import type { ClientClock } from './client-types';
import { unrefTimer } from './client-platform';

/** What the throttle needs from the client around it. */
export interface AckThrottleDeps {
  readonly clock: ClientClock;
  readonly intervalMs: number;
  /** At least 1. */
  readonly every: number;
  /** The sequence id the server already knows we have (the resume point). */
  readonly initialAcked: number;
  /** The highest delivered sequence id, read when an ack is due. */
  lastSequenceId(): number | undefined;
  /** Sends `ack{sequence_id}`; false if it could not be sent (it is retried with the next one). */
  sendAck(sequenceId: number): boolean;
}

/** Ack scheduling for one client. */
export interface AckThrottle {
  /** A record was delivered: ack now if `every` are unacked, else within `intervalMs`. */
  schedule(): void;
  /** Sends an ack for everything delivered so far, if anything is unacked. */
  flush(): void;
  /** The server's cursor moved (new connection): acks are counted from `sequenceId`. */
  reset(sequenceId: number): void;
  /** Cancels a pending ack (socket gone or client closed). */
  stop(): void;
}

/** Creates the throttle. */
export function createAckThrottle(deps: AckThrottleDeps): AckThrottle {
  const { clock } = deps;
  let lastAckSent = deps.initialAcked;
  let timer: unknown;

  function stop(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  function flush(): void {
    stop();
    const lastSeq = deps.lastSequenceId();
    if (lastSeq === undefined || lastSeq <= lastAckSent) return;
    if (deps.sendAck(lastSeq)) lastAckSent = lastSeq;
  }

  return {
    schedule() {
      if ((deps.lastSequenceId() ?? 0) - lastAckSent >= deps.every) return flush();
      if (timer === undefined)
        timer = unrefTimer(
          clock.setTimeout(() => {
            timer = undefined;
            flush();
          }, deps.intervalMs),
        );
    },
    flush,
    reset(sequenceId) {
      lastAckSent = sequenceId;
    },
    stop,
  };
}
