/**
 * The client's own read position (docs/protocol.md, Read positions): markRead(id) sends a `read` frame when `id` is
 * above what it already said, and a mark made while disconnected, or lost with a connection, is said again once the
 * next connection's participant list shows the server has less. The server coalesces what it tells the others, so
 * an application may call markRead for every record it shows.
 */
export interface ReadMarksDeps {
  isReady(): boolean;
  sendRead(sequenceId: number): void;
}

export interface ReadMarks {
  /** The highest id marked so far (undefined before any). */
  readonly markedUpTo: number | undefined;
  mark(sequenceId: number): void;
  /** A connection's participant list came: `serverPosition` is ours as the server has it (undefined: not told). */
  onWelcome(serverPosition: number | undefined): void;
}

export function createReadMarks(deps: ReadMarksDeps): ReadMarks {
  let marked: number | undefined;
  return {
    get markedUpTo() {
      return marked;
    },
    mark(sequenceId) {
      if (!Number.isSafeInteger(sequenceId) || sequenceId < 0) throw new RangeError(`markRead: ${sequenceId} is not an integer >= 0`);
      if (marked !== undefined && sequenceId <= marked) return;
      marked = sequenceId;
      if (deps.isReady()) deps.sendRead(sequenceId);
    },
    onWelcome(serverPosition) {
      if (marked !== undefined && marked > (serverPosition ?? 0)) deps.sendRead(marked);
    },
  };
}
