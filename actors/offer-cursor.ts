import type { ConversationContext, TurnRequest } from './conversation-context';

/**
 * How far the agents have been offered the humans' posts, kept in the store so that a load after a crash can tell a
 * post that waited for the input window and was never offered from one that was (never-offered-posts.ts). An agent
 * that declines (`wantsTurn` false) writes no record, so the journal alone cannot tell "declined" from "never asked".
 *
 * The mark is the AI member's read position (ChatStore.saveReadPositions): an AI member reads nothing otherwise
 * (markRead refuses it), every provider keeps a position per member, raised only, with no new column or key, and a
 * position above a journal's end is lowered at load like any other. Its meaning for an AI member: the last human
 * post it was offered.
 */

export interface OfferCursorDeps {
  /** Raises the stored positions (ChatStore.saveReadPositions). */
  readonly save: (positions: ReadonlyMap<string, number>) => Promise<void>;
  /** A save failed: the marks are kept and written with the next offer or the clean stop's flush. */
  readonly saveFailed: (err: unknown) => void;
}

/**
 * Whether a turn hands the agents human posts that a load after a crash could otherwise offer again. A single-mode
 * post offered in the step that sequenced it needs no mark: a load never offers a post sequenced in single mode (the
 * step that stored it offered it). A mark is written for every other turn answering human posts: a multi-mode burst,
 * or posts that waited in a typing window or over a leave. One write per multi-mode burst, none per single-mode post.
 * `firstNew` is the first record the step sequenced: `emitted` may be an earlier step's when this step sequenced
 * nothing (the window's end), and then the burst is no newer than it.
 */
export function turnNeedsMark(turn: TurnRequest, mode: ConversationContext['mode'], firstNew: number): boolean {
  if (turn.trigger.sender_type !== 'human') return false;
  return mode === 'multi' || turn.burst[0].sequence_id < firstNew;
}

/**
 * The marks of one conversation: raised in memory as turns are offered, written as soon as possible (one write in
 * flight at a time, the latest marks after it), since a crash before the write lands would have the next load offer
 * those posts again.
 */
export class OfferCursor {
  private unsaved: Map<string, number> | undefined;
  private saving: Promise<void> | undefined;

  constructor(private readonly deps: OfferCursorDeps) {}

  /** A step's turns were offered: marks those that need it (turnNeedsMark) and starts their write. */
  offered(context: Pick<ConversationContext, 'turns' | 'mode' | 'emitted'>): void {
    const firstNew = context.emitted.length > 0 ? context.emitted[0].sequence_id : Infinity;
    for (const turn of context.turns) {
      if (turnNeedsMark(turn, context.mode, firstNew)) this.raise(turn.participantId, turn.trigger.sequence_id);
    }
    this.writeAfterStep();
  }

  /**
   * Turns a machine crash left unoffered, offered once the restarted machine runs (machine-supervisor.ts): every one
   * answering human posts is marked, whatever step planned it. A mark too many costs a write; one missing would have
   * a load after a process crash offer a burst a second time.
   */
  offeredLeftovers(turns: readonly TurnRequest[]): void {
    for (const turn of turns) if (turn.trigger.sender_type === 'human') this.raise(turn.participantId, turn.trigger.sequence_id);
    this.writeAfterStep();
  }

  /** Writes what is not written yet; resolves when done or failed (a clean stop: passivation, shutdown). */
  async flush(): Promise<void> {
    await this.saving;
    this.saveSoon();
    await this.saving;
  }

  /** After the step: a synchronous store (SQLite) would otherwise write inside the machine's transition. */
  private writeAfterStep(): void {
    if (this.unsaved !== undefined && this.saving === undefined) queueMicrotask(() => this.saveSoon());
  }

  private raise(participantId: string, sequenceId: number): void {
    const marks = (this.unsaved ??= new Map());
    if ((marks.get(participantId) ?? 0) < sequenceId) marks.set(participantId, sequenceId);
  }

  private saveSoon(): void {
    if (this.saving !== undefined || this.unsaved === undefined) return;
    this.saving = this.saveAll().finally(() => (this.saving = undefined));
  }

  private async saveAll(): Promise<void> {
    while (this.unsaved !== undefined) {
      const marks = this.unsaved;
      this.unsaved = undefined;
      try {
        await this.deps.save(marks);
      } catch (err) {
        // Kept for the next write: a mark lost here would have a load after a crash offer those posts again.
        for (const [id, sequenceId] of marks) this.raise(id, sequenceId);
        this.deps.saveFailed(err);
        return;
      }
    }
  }
}
