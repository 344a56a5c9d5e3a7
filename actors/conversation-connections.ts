import type { ChatMessage } from './message-types';
import type { ConversationOutput } from './runtime-types';

export type OutputListener = (output: ConversationOutput) => void;

/** One subscriber (a WebSocket, an embedding service's callback) of one participant. */
export interface Connection {
  readonly id: string;
  readonly participantId: string;
  readonly listener: OutputListener;
  /** While a resume replay reads storage, live outputs wait here (delivered after the replay). */
  buffer: ConversationOutput[] | undefined;
  /** Highest sequence id handed to this connection: guards the replay/live seam against duplicates. */
  lastSequenceId: number;
  closed: boolean;
  /**
   * Closed by its member's own leave: a replay its subscriber reads itself (paged) may still be read to its end,
   * which is before the leave record (those records were the member's), until the subscriber releases it.
   */
  closedByLeave?: boolean;
  /** The subscriber closed the subscription, or its listener threw: nothing more is read or handed to it, its replay included. */
  released?: boolean;
}

/**
 * Nothing more goes to the connection: released, or closed otherwise than by its member's own leave. A connection
 * closed by that leave still takes the replay it began with (pushed or paged), then what waited behind it.
 */
export function isCut(c: Connection): boolean {
  return c.released === true || (c.closed && c.closedByLeave !== true);
}

const CLOSED_BY_LEAVE: ConversationOutput = Object.freeze({ type: 'closed', reason: 'removed' });

/**
 * The connections of one conversation. Delivery is a plain loop over them (O(N) per record);
 * a listener that throws is disconnected instead of breaking delivery to the others.
 */
export class ConnectionSet {
  private readonly byId = new Map<string, Connection>();

  constructor(private readonly onListenerError: (connection: Connection, err: unknown) => void) {}

  get size(): number {
    return this.byId.size;
  }

  add(connection: Connection): void {
    this.byId.set(connection.id, connection);
  }

  remove(id: string): Connection | undefined {
    const c = this.byId.get(id);
    if (c) {
      c.closed = true;
      this.byId.delete(id);
    }
    return c;
  }

  values(): IterableIterator<Connection> {
    return this.byId.values();
  }

  countFor(participantId: string): number {
    let n = 0;
    for (const c of this.byId.values()) if (c.participantId === participantId) n++;
    return n;
  }

  /** Delivers sequenced records to every connection; returns the number of hand-offs. */
  deliver(records: readonly ChatMessage[]): number {
    let handed = 0;
    // One frozen output per record, shared by every recipient: fan-out allocates nothing per connection.
    // The last says so (endsDelivery): a recipient's gateway socket can write at once instead of after the step.
    // Every output of a step has the field, so the listeners see one object shape.
    const last = records.length - 1;
    const outputs = records.map(
      (message, i) => Object.freeze({ type: 'message', message, endsDelivery: i === last }) as ConversationOutput & { type: 'message' },
    );
    for (const c of this.byId.values()) {
      for (const output of outputs) {
        const message = output.message;
        if (message.sequence_id <= c.lastSequenceId) continue;
        if (c.buffer) c.buffer.push(output);
        else {
          c.lastSequenceId = message.sequence_id;
          this.send(c, output);
          handed++;
        }
        // A participant's own leave record is the last record its connections receive (after a replay, if one is pushed).
        if (message.message_type === 'leave' && message.sender_id === c.participantId) break;
      }
    }
    return handed;
  }

  /** Sends an unsequenced output to every connection (optionally all but one participant's). */
  broadcast(output: ConversationOutput, exceptParticipantId?: string): void {
    for (const c of this.byId.values()) {
      if (c.participantId === exceptParticipantId) continue;
      if (c.buffer) c.buffer.push(output);
      else this.send(c, output);
    }
  }

  /**
   * Hands a resumed connection one page of its replay (replay-pages.ts: records, and `sync_complete` frames for a
   * dropped range and at the end), skipping records it already has; the live outputs that arrive meanwhile wait
   * in its buffer for finishReplay: no gap and no duplicate at the seam.
   */
  replayed(c: Connection, outputs: readonly ConversationOutput[]): void {
    for (const output of outputs) {
      if (isCut(c)) return;
      if (output.type === 'message') {
        if (output.message.sequence_id <= c.lastSequenceId) continue;
        c.lastSequenceId = output.message.sequence_id;
      } else if (output.type === 'sync_complete') {
        // Ids named gone (or not recovered) are never sent on this connection, live either.
        c.lastSequenceId = Math.max(c.lastSequenceId, output.to);
      }
      this.send(c, output);
    }
  }

  /** Ends a replay: hands over buffered live outputs, skipping records the replay already sent. */
  finishReplay(c: Connection): void {
    const buffered = c.buffer ?? [];
    c.buffer = undefined;
    for (const output of buffered) {
      if (isCut(c)) return;
      if (output.type === 'message') {
        if (output.message.sequence_id <= c.lastSequenceId) continue;
        c.lastSequenceId = output.message.sequence_id;
      }
      this.send(c, output);
    }
  }

  /**
   * Ends a connection for its member's own leave (before its removal from the set): `closed: removed` goes after
   * what waits for it, a pushed replay's buffer (the leave record last), which the replay hands over at its end.
   */
  closeForLeave(c: Connection): void {
    c.closedByLeave = true;
    if (c.buffer) c.buffer.push(CLOSED_BY_LEAVE);
    else this.send(c, CLOSED_BY_LEAVE);
  }

  send(c: Connection, output: ConversationOutput): void {
    if (isCut(c)) return;
    try {
      c.listener(output);
    } catch (err) {
      // Disconnected, and called no more: also a connection its member's leave closed, whose replay goes on.
      c.released = true;
      this.onListenerError(c, err);
    }
  }
}
