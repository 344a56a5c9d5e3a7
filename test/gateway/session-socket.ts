import type { ChatMessage } from '../../actors/message-types';
import type { MessageAckFrame, ServerFrame } from '../../gateway/protocol/server-frames';
import { ReadRoster } from './session-read-roster';
import type { SocketEvent, SocketTrace } from './session-socket-check';
import { TestClient } from './ws-test-client';

/**
 * How a request sent on a socket was answered: its final ack, an edit's or delete's `change_ack`, a coded error
 * (`replyTo`: the frame type it answers, if it names one), or not at all (socket gone).
 */
export type Answer =
  | { readonly kind: 'ack'; readonly sequenceId: number; readonly duplicate: boolean }
  | { readonly kind: 'change'; readonly replyTo: 'edit' | 'delete'; readonly changed: boolean; readonly sequenceId: number | undefined }
  | { readonly kind: 'error'; readonly code: string; readonly replyTo: string | undefined }
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
  /** Every `message` frame's record, and the `connected` frame's last id (tab cursors and views). */
  onRecord(message: ChatMessage): void;
  onConnected(lastSequenceId: number): void;
  /** A `sync_complete` (a history-bounded one says has_earlier: the tab pages the ids it left out over HTTP). */
  onSyncComplete(frame: Extract<ServerFrame, { type: 'sync_complete' }>): void;
  /** An `error` answering a `read` frame (a taken `read` has no answer, so nobody waits for it). */
  onReadRefused(code: string): void;
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
  /** The `sync` frames not completed yet, oldest first. */
  private syncsSent: Array<{ readonly after: number; readonly history: number | undefined }> = [];
  /** Set while a `sync` sent on this socket has not been completed. */
  outstandingSync: Promise<void> | undefined;
  /** The read positions this socket's client holds. */
  readonly reads: ReadRoster;

  constructor(
    url: string,
    readonly label: string,
    readonly conversationId: string,
    readonly userId: string,
    readonly resumeFrom: number | undefined,
    readonly history: number | undefined,
    private readonly observer: SocketObserver,
    track: (client: TestClient) => TestClient,
  ) {
    this.reads = new ReadRoster(label, (why) => observer.problem(why));
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
  sync(points: readonly number[], history?: number): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.outstandingSync ??= new Promise((resolve) => (this.syncDone = resolve));
    for (const after of points) {
      this.events.push({ kind: 'sync', after, history });
      this.syncsSent.push({ after, history });
      this.reads.syncSent();
      this.send({ type: 'sync', last_sequence_id: after, ...(history === undefined ? {} : { history }) });
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
    this.reads.onFrame(frame);
    switch (frame.type) {
      case 'connected':
        // The stream starts after the resume point (or, without one, live after the conversation's last id).
        this.maxSequenceId = Math.min(this.resumeFrom ?? Infinity, frame.last_sequence_id);
        this.observer.onConnected(frame.last_sequence_id);
        return;
      case 'message':
        this.maxSequenceId = Math.max(this.maxSequenceId, frame.message.sequence_id);
        this.observer.onRecord(frame.message);
        return;
      case 'message_ack':
        this.observer.onAck(frame);
        if (frame.persisted) this.answer(frame.message_id, { kind: 'ack', sequenceId: frame.sequence_id, duplicate: frame.duplicate });
        else this.provisionalAck(frame);
        return;
      case 'error':
        if (frame.reply_to === 'read') return this.observer.onReadRefused(frame.error);
        // A sync racing the user's leave is refused (the close with 4003 follows, which the leave allowed).
        if (frame.message_id === undefined && frame.error === 'CHAT_ERR_NOT_PARTICIPANT' && this.outstandingSync) {
          this.finishSyncs(Infinity);
          return;
        }
        this.answer(frame.message_id, { kind: 'error', code: frame.error, replyTo: frame.reply_to });
        return;
      case 'change_ack':
        this.answer(frame.message_id, { kind: 'change', replyTo: frame.reply_to, changed: frame.changed, sequenceId: frame.sequence_id });
        return;
      case 'sync_complete':
        this.maxSequenceId = Math.max(this.maxSequenceId, frame.to);
        this.observer.onSyncComplete(frame);
        this.finishSyncs(this.syncAnswered(frame.from));
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

  /**
   * Which sync a `sync_complete` starting at `from` answers (its index; -1: none, e.g. the URL's resume): the one
   * resuming right before it, else the latest history-bounded one before it (the bound moved its start forward).
   */
  private syncAnswered(from: number): number {
    const exact = this.syncsSent.findIndex((s) => s.after === from - 1);
    if (exact >= 0) return exact;
    for (let i = this.syncsSent.length - 1; i >= 0; i--)
      if (this.syncsSent[i].history !== undefined && this.syncsSent[i].after < from) return i;
    return -1;
  }

  /** Completes the sync at `index` and any earlier one it superseded (Infinity: all of them). */
  private finishSyncs(index: number): void {
    const i = index === Infinity ? this.syncsSent.length - 1 : index;
    this.syncsSent.splice(0, i + 1);
    if (this.syncsSent.length > 0) return;
    // No list is owed any more: a superseded sync's never comes.
    this.reads.syncsDone();
    const done = this.syncDone;
    this.syncDone = undefined;
    this.outstandingSync = undefined;
    done?.();
  }
}
