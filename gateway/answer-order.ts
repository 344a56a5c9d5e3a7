/**
 * Keeps one socket's answers to its `message` frames (message_ack, an error frame with reply_to message) in the order
 * the frames came in. They are decided at different times: a refusal by the gateway at once, an ack or a runtime
 * refusal when the post settles, the ack at the end of that turn (delivery-progress.ts). Sent as decided, a 409 or a
 * 429 overtook the acks of earlier frames, and a client matching answers by message_id settled the wrong send.
 *
 * Each `message` frame takes a ticket as it is dispatched. An answer for the ticket that is due goes out at once;
 * one that would overtake an earlier frame's answer is held (the map is made only then) until that one is out. The
 * common path allocates nothing: the ticket is a number the post's callbacks already close over.
 */
export class AnswerOrder {
  /** Tickets handed out so far (the next frame's ticket). */
  private taken = 0;
  /** The ticket whose answer goes next. */
  private due = 0;
  /** Answers ready before their turn, by ticket (undefined while nothing waits). */
  private held: Map<number, () => void> | undefined;
  /** Callers of whenAnswered, each with the ticket count it waits for (undefined while none waits). */
  private waiters: Array<{ readonly upTo: number; readonly resolve: () => void }> | undefined;
  /** Answers for the end of the turn (answerAtEndOfTurn), flat: ticket, send, a, b, c for each. */
  private endOfTurn: unknown[] = [];
  /** The list endOfTurn was before the last drain, reused for the next turn's answers. */
  private spareEndOfTurn: unknown[] = [];

  /** The ticket of a `message` frame just read: answers go out in ticket order. */
  take(): number {
    return this.taken++;
  }

  /** The due frame's answer went out (or failed to): sends the held answers that are due next. */
  answered(): void {
    this.due++;
    const held = this.held;
    if (held !== undefined) {
      for (let send = held.get(this.due); send !== undefined; send = held.get(this.due)) {
        held.delete(this.due);
        this.due++;
        // A send that throws must not stop the answers behind it: they are due all the same.
        try {
          send();
        } catch {
          // Its own error is the sender's to log (FrameSender never throws for a closed socket).
        }
      }
      if (held.size === 0) this.held = undefined;
    }
    if (this.waiters !== undefined) this.wake();
  }

  /**
   * Resolves once every frame read so far has its answer sent: a socket that leaves (ws-connection.ts) closes after
   * them, or a message read just before the `leave` would lose its ack to the close.
   */
  whenAnswered(): Promise<void> {
    if (this.due >= this.taken) return Promise.resolve();
    const upTo = this.taken;
    return new Promise((resolve) => (this.waiters ??= []).push({ upTo, resolve }));
  }

  private wake(): void {
    const waiting = this.waiters!.filter((w) => w.upTo > this.due);
    for (const w of this.waiters!) if (w.upTo <= this.due) w.resolve();
    this.waiters = waiting.length > 0 ? waiting : undefined;
  }

  /** Sends the answer to `ticket` now if it is due, else once it is. */
  answer(ticket: number, send: () => void): void {
    this.answerWith(ticket, invoke, send, undefined, undefined);
  }

  /**
   * answerWith() once the turn's promise callbacks have run: every post's ack (delivery-progress.ts), queued from
   * the post's promise callback. One process.nextTick per socket and turn answers them all, in the order they came,
   * where a tick per ack cost a closure and a tick object each. The queued answers run where the first one's tick
   * would have, before ticks queued after it; no promise callback runs between ticks, so each reads what its own
   * tick would have read (the journal's progress, for `persisted`).
   */
  answerAtEndOfTurn<A, B, C>(ticket: number, send: (a: A, b: B, c: C) => void, a: A, b: B, c: C): void {
    const queued = this.endOfTurn;
    if (queued.length === 0) process.nextTick(this.answerQueued);
    queued.push(ticket, send, a, b, c);
  }

  /** The answers answerAtEndOfTurn queued, in the order they came; one that throws does not stop the rest. */
  private readonly answerQueued = (): void => {
    const queued = this.endOfTurn;
    this.endOfTurn = this.spareEndOfTurn;
    let failure: { err: unknown } | undefined;
    for (let i = 0; i < queued.length; i += 5) {
      try {
        this.answerWith(queued[i] as number, queued[i + 1] as Send, queued[i + 2], queued[i + 3], queued[i + 4]);
      } catch (err) {
        failure ??= { err };
      }
    }
    queued.length = 0;
    this.spareEndOfTurn = queued;
    // As a throw in a tick of its own would: uncaught, once the answers behind it are out.
    if (failure !== undefined) throw failure.err;
  };

  /**
   * answer() for the hot path, every post's ack (delivery-progress.ts): `send(a, b, c)` now when due; a closure over
   * the arguments is made only when the answer has to be held.
   */
  answerWith<A, B, C>(ticket: number, send: (a: A, b: B, c: C) => void, a: A, b: B, c: C): void {
    if (ticket !== this.due) {
      (this.held ??= new Map()).set(ticket, () => send(a, b, c));
      return;
    }
    try {
      send(a, b, c);
    } finally {
      // Even if the send threw: the answers behind this one are due.
      this.answered();
    }
  }
}

const invoke = (send: () => void): void => send();

type Send = (a: unknown, b: unknown, c: unknown) => void;
