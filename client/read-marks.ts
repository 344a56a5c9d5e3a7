/**
 * The client's own read position (docs/protocol.md, Read positions): markRead(id) sends a `read` frame when `id` is
 * above what it already said, and a mark made while disconnected, or lost with a connection, is said again once the
 * next connection's participant list shows the server has less. The server coalesces what it tells the others, so
 * an application may call markRead for every record it shows. A `read` the server refuses with `retry_after_ms`
 * (the conversation restarting after a crash) is said again after that wait, with the latest mark.
 */
import type { ClientClock } from './client-types';
import { unrefTimer } from './client-platform';

export interface ReadMarksDeps {
  readonly clock: ClientClock;
  isReady(): boolean;
  sendRead(sequenceId: number): void;
}

export interface ReadMarks {
  /** The highest id marked so far (undefined before any). */
  readonly markedUpTo: number | undefined;
  mark(sequenceId: number): void;
  /**
   * A new connection's `connected` came, naming the conversation's last id: nothing has been said on it yet. A mark
   * above that id (records of an older incarnation the server no longer has, e.g. a memory journal lost in a
   * restart) is taken as that id, as the server takes it: kept, it would swallow every later mark up to it.
   */
  onConnected(lastSequenceId: number): void;
  /**
   * A connection's participant list came: `readPositions` is the list's `read_positions` (undefined: a server from
   * before read positions, which would refuse a `read` frame as an unknown type: nothing is sent to it).
   */
  onWelcome(readPositions: Readonly<Record<string, number>> | undefined, ownId: string | undefined): void;
  /**
   * The server refused a `read` and said when to try again: the latest mark goes again after `retryAfterMs`, once.
   * Marks made meanwhile wait for it (sent at once, they would be refused too): the one send carries the highest.
   */
  onRefused(retryAfterMs: number): void;
  /** The socket went away or the client closed: a waiting re-send goes (the next welcome says what is missing). */
  onSocketGone(): void;
}

export function createReadMarks(deps: ReadMarksDeps): ReadMarks {
  let marked: number | undefined;
  // Until a welcome says otherwise: a server that knows read positions lists them in every participant list.
  let serverKeepsReads = true;
  /**
   * The highest mark sent on this connection. A mark made after `connected` and before that connection's
   * participant list goes at once; the list, a snapshot taken before it arrived, still shows less, and saying it
   * again made two identical frames.
   */
  let sentOnConnection: number | undefined;
  /** The one timer re-sending the latest mark after a refusal's retry_after_ms. */
  let retryTimer: unknown;
  const send = (sequenceId: number): void => {
    sentOnConnection = sequenceId;
    deps.sendRead(sequenceId);
  };
  const cancelRetry = (): void => {
    if (retryTimer !== undefined) deps.clock.clearTimeout(retryTimer);
    retryTimer = undefined;
  };
  return {
    get markedUpTo() {
      return marked;
    },
    mark(sequenceId) {
      if (!Number.isSafeInteger(sequenceId) || sequenceId < 0) throw new RangeError(`markRead: ${sequenceId} is not an integer >= 0`);
      if (marked !== undefined && sequenceId <= marked) return;
      marked = sequenceId;
      if (deps.isReady() && serverKeepsReads && retryTimer === undefined) send(sequenceId);
    },
    onConnected(lastSequenceId) {
      sentOnConnection = undefined;
      if (marked !== undefined && marked > lastSequenceId) marked = lastSequenceId;
    },
    onWelcome(readPositions, ownId) {
      serverKeepsReads = readPositions !== undefined;
      const serverPosition = readPositions === undefined || ownId === undefined ? undefined : readPositions[ownId];
      const told = Math.max(serverPosition ?? 0, sentOnConnection ?? 0);
      if (serverKeepsReads && marked !== undefined && marked > told && retryTimer === undefined) send(marked);
    },
    onRefused(retryAfterMs) {
      // Not taken: a later welcome on this connection (a sync's) must not count it as said.
      sentOnConnection = undefined;
      if (retryTimer !== undefined) return;
      retryTimer = unrefTimer(
        deps.clock.setTimeout(
          () => {
            retryTimer = undefined;
            if (deps.isReady() && serverKeepsReads && marked !== undefined) send(marked);
          },
          Math.max(0, retryAfterMs),
        ),
      );
    },
    onSocketGone: cancelRetry,
  };
}
