import type { Clock } from '../actors/clock';
import type { RateLimiter } from './rate-limiter';

/** A start not ended for this long is forgotten at the next sweep, unless its conversation still holds it typing. */
const FORGET_START_MS = 60_000;

/** Who sent a `typing` frame: its budget's key, and the member and conversation it is about. */
export interface Typist {
  readonly typingKey: string;
  readonly conversationId: string;
  readonly userId: string;
}

/**
 * Which `typing` frames of a participant reach its conversation. Typing fans out to every socket of the room, so it
 * has a small budget per participant; but the budget must not decide what the others end up believing. Dropping
 * a stop after its start got through left a quick chatter (true, a line, false, a line, ...) shown typing after
 * the last line, on every socket, until the indicator timed out. So only starts (`true`, also a repeat that keeps
 * an indicator alive) spend the budget; the stop of a start that was relayed always passes, free, and a stop of
 * a start nobody was told of says nothing new and is dropped. Each relayed start pays for at most one stop. The
 * conversation coalesces what the others are shown (actors/typing-display.ts): this relay bounds what reaches it.
 */
export class TypingRelay {
  /** Starts relayed and not yet stopped, by typing key, with when they were relayed and whom they are about. */
  private readonly relayedStarts = new Map<string, { at: number; typist: Typist }>();

  constructor(
    /** The budget for starts, per participant (keyed like the frames' typing key). */
    private readonly starts: RateLimiter,
    private readonly clock: Clock,
    /** Whether the live conversation still holds the member as typing (ChatRuntime.isTyping). */
    private readonly stillTyping: (conversationId: string, participantId: string) => boolean,
  ) {}

  /** Whether this frame of `typist` is relayed; it remembers the starts relayed. */
  admit(typist: Typist, isTyping: boolean): boolean {
    if (!isTyping) return this.relayedStarts.delete(typist.typingKey);
    if (!this.starts.take(typist.typingKey).ok) return false;
    // A copy: the frame's typist is its connection, which must not be kept after it closes.
    const { typingKey, conversationId, userId } = typist;
    this.relayedStarts.set(typingKey, { at: this.clock.now(), typist: { typingKey, conversationId, userId } });
    return true;
  }

  /**
   * Drops refilled budgets, and starts nobody ended for FORGET_START_MS whose conversation no longer holds the
   * member typing (its tab closed while typing: the conversation ended it when it went offline; or the conversation
   * stopped). One the conversation still holds is kept: its stop, however late, must reach the others, who were
   * told of the start and show it until told otherwise. So what is kept is bounded by the members typing now.
   */
  sweep(): void {
    this.starts.sweep();
    const now = this.clock.now();
    for (const [key, { at, typist }] of this.relayedStarts)
      if (now - at >= FORGET_START_MS && !this.stillTyping(typist.conversationId, typist.userId)) this.relayedStarts.delete(key);
  }
}
