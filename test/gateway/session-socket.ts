import type { MessageAckFrame, ServerFrame } from '../../gateway/protocol/server-frames';
import type { SocketEvent, SocketTrace } from './session-socket-check';
import { TestClient } from './ws-test-client';

/** How a request sent on a socket was answered: its final ack, a coded error, or not at all (socket gone). */
export type Answer =
  | { readonly kind: 'ack'; readonly sequenceId: number; readonly duplicate: boolean }
  | { readonly kind: 'error'; readonly code: string }
  | { readonly kind: 'lost' };

interface Waiter {
  /** The message_id the answer names; undefined for errors that name none. */
  readonly messageId: string | undefined;
  readonly accepts: (answer: Answer) => boolean;
  readonly resolve: (answer: Answer) => void;
  /** A `persisted: false` ack came for this send (at most one, before the final ack). */
  provisional: boolean;
}

/** What a socket reports to the session model as frames arrive. */
export interface SocketObserver {
  /** Every `message_ack` (persisted or not): the ledger checks its sequence id. */
  onAck(frame: MessageAckFrame): void;
  /** Every `message` frame's sequence id, and the `connected` frame's last id (tab cursors). */
  onRecord(sequenceId: number): void;
  onConnected(lastSequenceId: number): void;
  problem(why: string): void;
}

/**
 * One WebSocket of a random session: records what it saw for checkSocketStream, matches answers to
 * the requests sent on it (by message_id; errors without one in order), and reports a close nobody
 * asked for. Closes the session caused are announced first with allowClose().
 */
export class SessionSocket implements SocketTrace {
  readonly events: SocketEvent[] = [];
  readonly client: TestClient;
  /** Resolves with the close code once the socket closed. */
  readonly closed: Promise<number>;
  closeCode: number | undefined;
  /** How far the stream got: the highest sequence id received (or the point it started after). */
  maxSequenceId = 0;
  private readonly allowed = new Set<number>();
  private opened = false;
  private readonly waiters: Waiter[] = [];
  private syncDone: (() => void) | undefined;
  /** Resume points of the `sync` frames not completed yet, oldest first. */
  private syncsSent: number[] = [];
  /** Set while a `sync` sent on this socket has not been completed. */
  outstandingSync: Promise<void> | undefined;

  constructor(
    url: string,
    readonly label: string,
    readonly conversationId: string,
    readonly userId: string,
    readonly resumeFrom: number | undefined,
    private readonly observer: SocketObserver,
    track: (client: TestClient) => TestClient,
  ) {
    this.client = track(new TestClient(url));
    this.client.ws.on('message', (data) => this.onFrame(JSON.parse(data.toString()) as ServerFrame));
    this.client.ws.once('open', () => (this.opened = true));
    this.closed = this.client.closed.then(({ code, reason }) => {
      this.closeCode = code;
      // A refused upgrade is judged by whoever opened it (its status), not by its close.
      if (this.opened && !this.allowed.has(code))
        observer.problem(`${label}: closed with ${code} ${reason} (allowed: ${[...this.allowed].join(',') || 'none'})`);
      for (const w of this.waiters.splice(0)) w.resolve({ kind: 'lost' });
      this.finishSyncs(Infinity);
      return code;
    });
  }

  get isOpen(): boolean {
    return this.closeCode === undefined && this.client.ws.readyState === this.client.ws.OPEN;
  }

  /** A close with `code` is one the session caused (or documents for what it did). */
  allowClose(...codes: number[]): void {
    for (const c of codes) this.allowed.add(c);
  }

  send(frame: unknown): void {
    this.client.send(frame);
  }

  /** Sends a frame and resolves with its answer (the first not yet claimed that `accepts`). */
  request(frame: unknown, messageId: string | undefined, accepts: (answer: Answer) => boolean): Promise<Answer> {
    if (!this.isOpen) return Promise.resolve({ kind: 'lost' });
    const answer = new Promise<Answer>((resolve) => this.waiters.push({ messageId, accepts, resolve, provisional: false }));
    this.send(frame);
    return answer;
  }

  /**
   * Sends one `sync` per resume point, back to back (distinct points: a sync_complete names its own by
   * `from`); resolves once the last one completed (a later sync may supersede an earlier one's replay) or
   * the socket closed.
   */
  sync(...points: number[]): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.outstandingSync ??= new Promise((resolve) => (this.syncDone = resolve));
    for (const after of points) {
      this.events.push({ kind: 'sync', after });
      this.syncsSent.push(after);
      this.send({ type: 'sync', last_sequence_id: after });
    }
    return this.outstandingSync;
  }

  /** Resolves once the connection is up; false when the upgrade was refused (with `refusedStatus`). */
  async connected(): Promise<{ ok: true } | { ok: false; status: number }> {
    try {
      await this.client.opened;
    } catch (err) {
      return { ok: false, status: (err as { statusCode?: number }).statusCode ?? -1 };
    }
    await this.client.waitFor('connected');
    return { ok: true };
  }

  private onFrame(frame: ServerFrame): void {
    this.events.push({ kind: 'frame', frame });
    switch (frame.type) {
      case 'connected':
        // The stream starts after the resume point (or, without one, live after the conversation's last id).
        this.maxSequenceId = Math.min(this.resumeFrom ?? Infinity, frame.last_sequence_id);
        this.observer.onConnected(frame.last_sequence_id);
        return;
      case 'message':
        this.maxSequenceId = Math.max(this.maxSequenceId, frame.message.sequence_id);
        this.observer.onRecord(frame.message.sequence_id);
        return;
      case 'message_ack':
        this.observer.onAck(frame);
        if (frame.persisted) this.answer(frame.message_id, { kind: 'ack', sequenceId: frame.sequence_id, duplicate: frame.duplicate });
        else this.provisionalAck(frame);
        return;
      case 'error':
        // A sync racing the user's leave is refused (the close with 4003 follows, which the leave allowed).
        if (frame.message_id === undefined && frame.error === 'CHAT_ERR_NOT_PARTICIPANT' && this.outstandingSync) {
          this.finishSyncs(Infinity);
          return;
        }
        this.answer(frame.message_id, { kind: 'error', code: frame.error });
        return;
      case 'sync_complete':
        this.maxSequenceId = Math.max(this.maxSequenceId, frame.to);
        this.finishSyncs(frame.from - 1);
        return;
      default:
        return;
    }
  }

  /** A `persisted: false` ack: the first for a send still waiting for its final ack. */
  private provisionalAck(frame: MessageAckFrame): void {
    const ack: Answer = { kind: 'ack', sequenceId: frame.sequence_id, duplicate: frame.duplicate };
    const w = this.waiters.find((x) => x.messageId === frame.message_id && x.accepts(ack) && !x.provisional);
    if (w) w.provisional = true;
    else this.observer.problem(`${this.label}: persisted: false ack nobody waited for: ${JSON.stringify(frame)}`);
  }

  private answer(messageId: string | undefined, answer: Answer): void {
    const i = this.waiters.findIndex((w) => w.messageId === messageId && w.accepts(answer));
    if (i < 0) {
      this.observer.problem(`${this.label}: answer nobody waited for: ${messageId ?? '(no message_id)'} ${JSON.stringify(answer)}`);
      return;
    }
    const [w] = this.waiters.splice(i, 1);
    w.resolve(answer);
  }

  /** A sync_complete for `after` completes that sync and any earlier one it superseded. */
  private finishSyncs(after: number): void {
    const i = after === Infinity ? this.syncsSent.length - 1 : this.syncsSent.indexOf(after);
    this.syncsSent.splice(0, i + 1);
    if (this.syncsSent.length > 0) return;
    const done = this.syncDone;
    this.syncDone = undefined;
    this.outstandingSync = undefined;
    done?.();
  }
}
