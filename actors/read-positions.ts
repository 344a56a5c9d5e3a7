import { unrefTimer, type Clock } from './clock';
import type { Participant } from './message-types';
import { IntervalBatches } from './interval-batches';

export interface ReadPositionsDeps {
  readonly clock: Clock;
  /** The conversation's last sequence id now: no position is above it. */
  readonly lastSequenceId: () => number;
  /**
   * One member's position is told to the connections at most once per this many ms (chat.read_positions
   * .announce_interval_ms): the first change at once, later ones within the interval as one, with the latest value.
   */
  readonly announceIntervalMs: number;
  /** Changed positions are written to the store at most once per this many ms (chat.read_positions.save_interval_ms). */
  readonly saveIntervalMs: number;
  readonly announce: (participantId: string, sequenceId: number) => void;
  /**
   * Every raise since the last one, once per announce interval for the whole conversation (interval-batches.ts): for the
   * sockets that asked for `read_batch` frames instead of a `read` frame per member.
   */
  readonly announceBatch: (positions: Readonly<Record<string, number>>) => void;
  /** Writes the positions (the store raises, never lowers); a rejection keeps them to write at the next save. */
  readonly save: (positions: ReadonlyMap<string, number>) => Promise<void>;
  /** A save failed; `retrying`: false once the conversation stopped (its last save), when the raises are lost. */
  readonly saveFailed: (err: unknown, retrying: boolean) => void;
}

/**
 * A member's read position from the one it marked (or the store kept; undefined: none), its join record's id and the
 * conversation's last sequence id: at least the join record, and never past the last record (see ReadPositions). One
 * rule for a live conversation's actor and for the store's answer.
 */
export function readPositionFrom(marked: number | undefined, joinedAtSequence: number, lastSequenceId: number): number {
  return Math.min(Math.max(marked ?? 0, joinedAtSequence), lastSequenceId);
}

/**
 * How far each member of one conversation has read: "everything up to this sequence id". Per member, not per
 * connection (two tabs share one position), raised only. Kept in the conversation's shell next to presence, never
 * sequenced or journaled: a read is not a message and takes no sequence id. Two costs are bounded here, so that a
 * client marking every record it shows, in a room of 100, costs neither 100 frames per mark nor a write per mark:
 *  - announcements: a member's change reaches the connections at once, then at most once per announce interval
 *    (trailing, with the latest position), so each socket gets at most one `read` frame per member per interval;
 *  - saves: changed positions are written together, at most once per save interval (ChatStore.saveReadPositions),
 *    and at the conversation's clean stop (flush). A crash loses at most the last interval's raises.
 * A member without a position has read up to its own join record (`joined_at_sequence`): a joiner is not shown the
 * history before it as unread, and a re-join starts from the new join however far the old membership had read.
 * No position is above the conversation's last record. Positions are never lowered but in one case: a store whose
 * journal ends below a position it kept (its records lost, a journal restored from an older copy; ids past its end
 * will be given to new records) has that position taken down to the end when the conversation is loaded. Kept, it
 * would say the member had read records that come after the loss, and "seen by" would name people who never saw them.
 */
export class ReadPositions {
  /** Positions marked or restored (made on the first: most conversations in memory never see a read). */
  private positions: Map<string, number> | undefined;
  /**
   * When each member's position was last announced, and the members with a newer one waiting for their turn. Made
   * on first use, like `positions` (an idle conversation in memory keeps no empty collections: presence.ts).
   */
  private announcedAt: Map<string, number> | undefined;
  private waiting: Set<string> | undefined;
  private announceTimer: unknown;
  /** Members whose position changed since the last save. */
  private unsaved: Set<string> | undefined;
  private saveTimer: unknown;
  private saving: Promise<void> | undefined;
  private readonly batches: IntervalBatches<number>;
  private closed = false;
  /** flush() was called: the conversation is stopping, and no save after this one is scheduled. */
  private stopping = false;

  constructor(
    private readonly deps: ReadPositionsDeps,
    /** The positions the store kept (ChatStore.getReadPositions). */
    restored: ReadonlyMap<string, number> = new Map(),
    /** The conversation's last sequence id once loaded: a restored position above it is taken down to it. */
    loadedUpTo = Infinity,
  ) {
    this.batches = new IntervalBatches<number>({ clock: deps.clock, intervalMs: deps.announceIntervalMs, announce: deps.announceBatch });
    if (restored.size === 0) return;
    this.positions = new Map();
    for (const [id, position] of restored) this.positions.set(id, Math.min(position, loadedUpTo));
  }

  /** The member's position: the highest it marked, at least its join record, at most the last record. */
  positionOf(member: Participant): number {
    return readPositionFrom(this.positions?.get(member.participant_id), member.joined_at_sequence, this.deps.lastSequenceId());
  }

  /**
   * Every human member's position (participant id -> sequence id), for a new connection's roster. AI members read
   * nothing (markRead refuses them): listed at their join record, they were named by every "seen by".
   */
  of(members: readonly Participant[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of members) if (m.participant_type === 'human') out[m.participant_id] = this.positionOf(m);
    return out;
  }

  /**
   * Raises the member's position to `sequenceId` (already no higher than the conversation's last record); a value
   * at or below it changes nothing. Returns the position after.
   */
  mark(member: Participant, sequenceId: number): number {
    const before = this.positionOf(member);
    if (sequenceId <= before || this.closed) return before;
    const id = member.participant_id;
    (this.positions ??= new Map()).set(id, sequenceId);
    (this.unsaved ??= new Set()).add(id);
    this.scheduleSave();
    this.announceSoon(id);
    this.batches.changed(id, sequenceId);
    return sequenceId;
  }

  /**
   * The member left: a raise of its still waiting for the announce interval is not announced (its leave says the
   * rest). Announced after a re-join, it named the old membership's position, below the new join record every socket
   * holds for it: a position going down. The mark itself stays (saved, and below any new join: positionOf).
   */
  forget(participantId: string): void {
    this.waiting?.delete(participantId);
    this.batches.forget(participantId);
  }

  /** Writes what changed since the last save now (a clean stop); resolves when written or failed. */
  async flush(): Promise<void> {
    // The last save (a clean stop): what fails now is not tried again.
    this.stopping = true;
    if (this.saveTimer !== undefined) {
      this.deps.clock.clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    await this.saving;
    await this.save();
  }

  /** The conversation stops: nothing more is announced or scheduled (flush() may still write what is left). */
  close(): void {
    this.closed = true;
    this.batches.close();
    for (const timer of [this.announceTimer, this.saveTimer]) if (timer !== undefined) this.deps.clock.clearTimeout(timer);
    this.announceTimer = undefined;
    this.saveTimer = undefined;
    this.waiting?.clear();
  }

  private announceSoon(id: string): void {
    const now = this.deps.clock.now();
    const last = (this.announcedAt ??= new Map()).get(id);
    if (last === undefined || now - last >= this.deps.announceIntervalMs) {
      this.announce(id, now);
      return;
    }
    (this.waiting ??= new Set()).add(id);
    this.armAnnounceTimer(last + this.deps.announceIntervalMs - now);
  }

  private announce(id: string, now: number): void {
    this.waiting?.delete(id);
    this.announcedAt!.set(id, now);
    this.deps.announce(id, this.positions!.get(id)!);
  }

  private armAnnounceTimer(inMs: number): void {
    if (this.announceTimer !== undefined) return;
    this.announceTimer = unrefTimer(
      this.deps.clock.setTimeout(() => {
        this.announceTimer = undefined;
        this.announceDue();
      }, inMs),
    );
  }

  /** Announces every waiting member whose interval has passed; waits again for the earliest of the rest. */
  private announceDue(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    let next = Infinity;
    for (const id of [...(this.waiting ?? [])]) {
      const dueAt = this.announcedAt!.get(id)! + this.deps.announceIntervalMs;
      if (dueAt <= now) this.announce(id, now);
      else next = Math.min(next, dueAt - now);
    }
    if (next !== Infinity) this.armAnnounceTimer(next);
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined || this.saving !== undefined) return;
    this.saveTimer = unrefTimer(
      this.deps.clock.setTimeout(() => {
        this.saveTimer = undefined;
        void this.save();
      }, this.deps.saveIntervalMs),
    );
  }

  private save(): Promise<void> {
    const unsaved = this.unsaved;
    if (unsaved === undefined || unsaved.size === 0 || this.saving !== undefined) return this.saving ?? Promise.resolve();
    const batch = new Map<string, number>();
    for (const id of unsaved) batch.set(id, this.positions!.get(id)!);
    unsaved.clear();
    this.saving = this.deps
      .save(batch)
      .catch((err: unknown) => {
        // Kept for the next save (a raise marked meanwhile is already in unsaved with its newer value).
        for (const id of batch.keys()) unsaved.add(id);
        this.deps.saveFailed(err, !this.closed && !this.stopping);
      })
      .finally(() => {
        this.saving = undefined;
        if (unsaved.size > 0 && !this.closed && !this.stopping) this.scheduleSave();
      });
    return this.saving;
  }
}
