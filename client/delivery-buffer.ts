/**
 * Ordered, exactly-once delivery of records to the application. The server may send a record
 * twice (replay after a reconnect overlaps live traffic) or out of order (a replay racing a live
 * fan-out), so records are deduplicated by sequence id, early ones are held until the gap before
 * them fills, and a gap asks the server for a `sync` replay. A `sync` spends a token of the message budget, as on the
 * server: with none left it waits for one instead of being refused. One the server refuses anyway (a token spent by
 * another socket or an HTTP post of the user: an `error` with reply_to "sync") is asked again after the wait it names.
 * Either wait is the one timer; gaps meanwhile send nothing.
 */
import { unrefTimer } from './client-platform';
import type { ClientClock } from './client-types';
import type { ChatMessage } from './protocol-frames';
import type { SendPacer } from './send-pacer';

/** What the buffer needs from the client around it. */
export interface DeliveryBufferDeps {
  readonly clock: ClientClock;
  /** The wait before asking again when a refused `sync` names none (retry_after_ms). */
  readonly defaultRetryAfterMs: number;
  /** Where to start: the last sequence id the application already has (undefined = live). */
  readonly initialSequenceId: number | undefined;
  /** Hands one record to the application; called exactly once per sequence id, in order. */
  deliver(message: ChatMessage): void;
  /** True while frames may be sent. */
  isReady(): boolean;
  /** Sends `sync{last_sequence_id}`; false if it could not be sent. */
  sendSync(lastSequenceId: number): boolean;
  /** The message budget, which the server also spends a token of for each sync (send-pacer.ts). */
  readonly pacer: Pick<SendPacer, 'waitMs' | 'spend'>;
}

/** The delivery state of one client (see the file comment). */
export interface DeliveryBuffer {
  /** Highest sequence id delivered (undefined before any, in 'live' mode). */
  readonly lastSequenceId: number | undefined;
  /** Records dropped as duplicates. */
  readonly duplicatesDropped: number;
  /** Moves the cursor (live start, or the server's journal is shorter than ours). */
  setCursor(sequenceId: number): void;
  onMessage(message: ChatMessage): void;
  /**
   * `sync_complete`: recovered false = part of the range is gone for good, up to `to` (the server never
   * sends this connection those ids; a range the journal dropped is reported before the records after it).
   */
  onSyncComplete(recovered: boolean, to?: number): void;
  /**
   * Asks for a replay after the cursor unless one is already in flight or one waits to be asked (for a token of the
   * message budget, or after a refusal).
   */
  requestSync(): void;
  /** Forgets an in-flight sync so the next requestSync sends again (explicit client.sync()). */
  forgetSync(): void;
  /**
   * An `error` frame answering our `sync` (a 429 with `retryAfterMs`, or a failed replay, which a close follows):
   * nothing is replayed, so no sync is in flight any more; it is asked again after the wait, by one timer.
   */
  onSyncRefused(retryAfterMs: number | undefined): void;
  /** The socket went away, or the client closed: the in-flight sync, its retry and held records go (a resume replays them). */
  onSocketGone(): void;
}

/** Creates the buffer with its cursor at `initialSequenceId`. */
export function createDeliveryBuffer(deps: DeliveryBufferDeps): DeliveryBuffer {
  let lastSeq = deps.initialSequenceId;
  /** Out-of-order records waiting for the gap before them to fill. */
  const buffer = new Map<number, ChatMessage>();
  let syncInFlight = false;
  /** The one timer that asks for a sync later: after a refusal's retry_after_ms, or when the budget has a token. */
  let syncRetry: unknown;
  /** Set by sync_complete{recovered:false}: the next gap cannot be filled, so skip it. */
  let skipNextGap = false;
  let duplicatesDropped = 0;

  function deliver(message: ChatMessage): void {
    // The cursor moves before the application sees the record, so a listener reads it up to date.
    lastSeq = message.sequence_id;
    deps.deliver(message);
  }

  function drain(): void {
    for (;;) {
      const next = buffer.get((lastSeq ?? 0) + 1);
      if (!next) break;
      buffer.delete(next.sequence_id);
      deliver(next);
    }
    // Anything at or below lastSeq left in the buffer is a duplicate.
    for (const seq of [...buffer.keys()]) if (seq <= (lastSeq ?? 0)) buffer.delete(seq);
  }

  function requestSync(): void {
    // During a wait the server would refuse another: the timer asks for everything at once.
    if (syncInFlight || syncRetry !== undefined || !deps.isReady()) return;
    const wait = deps.pacer.waitMs();
    if (wait > 0) {
      retryIn(wait);
      return;
    }
    syncInFlight = deps.sendSync(lastSeq ?? 0);
    if (syncInFlight) deps.pacer.spend();
  }

  function retryIn(ms: number): void {
    syncRetry = unrefTimer(
      deps.clock.setTimeout(() => {
        syncRetry = undefined;
        requestSync();
      }, ms),
    );
  }

  function cancelRetry(): void {
    if (syncRetry !== undefined) deps.clock.clearTimeout(syncRetry);
    syncRetry = undefined;
  }

  return {
    get lastSequenceId() {
      return lastSeq;
    },
    get duplicatesDropped() {
      return duplicatesDropped;
    },
    setCursor(sequenceId) {
      lastSeq = sequenceId;
    },
    onMessage(message) {
      const seq = message.sequence_id;
      if (typeof seq !== 'number') return;
      if (lastSeq !== undefined && seq <= lastSeq) {
        duplicatesDropped += 1;
        return;
      }
      const expected = (lastSeq ?? 0) + 1;
      if (seq !== expected) {
        if (buffer.has(seq)) duplicatesDropped += 1;
        buffer.set(seq, message);
        if (skipNextGap) {
          skipNextGap = false;
          lastSeq = Math.min(...buffer.keys()) - 1;
          drain();
        } else requestSync();
        return;
      }
      deliver(message);
      drain();
    },
    onSyncComplete(recovered, to) {
      syncInFlight = false;
      // A replay completing after a refusal (one asked before it) brought what the retry would have: a hole still
      // open is asked for below, as after any replay.
      cancelRetry();
      if (!recovered) {
        // Part of the range is gone for good: deliver what we have instead of waiting forever.
        if (typeof to === 'number') {
          // Exactly the ids the server says are gone: records after them (held or still to come) are kept.
          if (to > (lastSeq ?? 0)) lastSeq = to;
          drain();
        } else if (buffer.size > 0) {
          lastSeq = Math.min(...buffer.keys()) - 1;
          drain();
        } else skipNextGap = true;
      } else if (buffer.size > 0) {
        // Still a hole after a complete replay: ask again (bounded by the server's answers).
        requestSync();
      }
    },
    requestSync,
    forgetSync() {
      syncInFlight = false;
    },
    onSyncRefused(retryAfterMs) {
      syncInFlight = false;
      if (syncRetry !== undefined) return;
      retryIn(retryAfterMs ?? deps.defaultRetryAfterMs);
    },
    onSocketGone() {
      syncInFlight = false;
      cancelRetry();
      buffer.clear();
    },
  };
}
