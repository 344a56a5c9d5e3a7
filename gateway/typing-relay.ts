import type { Clock } from '../actors/clock';
import type { RateLimiter } from './rate-limiter';

/** A start nobody ended (its tab closed while typing) is forgotten this long after it was relayed or repeated. */
const FORGET_START_MS = 60_000;

/**
 * Which `typing` frames of a participant reach the others. Typing fans out to every socket of the room, so it
 * has a small budget per participant; but the budget must not decide what the others end up believing. Dropping
 * a stop after its start got through left a quick chatter (true, a line, false, a line, ...) shown typing after
 * the last line, on every socket, until the indicator timed out. So only starts (`true`, also a repeat that keeps
 * an indicator alive) spend the budget; the stop of a start that was relayed always passes, free, and a stop of
 * a start nobody was told of says nothing new and is dropped. Each relayed start pays for at most one stop, so
 * the frames relayed stay within twice the start budget.
 */
export class TypingRelay {
  /** Participants (their typing keys) the others were last told are typing, with when it was said. */
  private readonly shownTyping = new Map<string, number>();

  constructor(
    /** The budget for starts, per participant (keyed like the frames' typing key). */
    private readonly starts: RateLimiter,
    private readonly clock: Clock,
  ) {}

  /** Whether this frame of the participant `key` is relayed; it remembers what the others were told. */
  admit(key: string, isTyping: boolean): boolean {
    if (!isTyping) return this.shownTyping.delete(key);
    if (!this.starts.take(key).ok) return false;
    this.shownTyping.set(key, this.clock.now());
    return true;
  }

  /** Drops refilled budgets and starts nobody ended for FORGET_START_MS (their stop, if it comes, is dropped then). */
  sweep(): void {
    this.starts.sweep();
    const now = this.clock.now();
    for (const [key, at] of this.shownTyping) if (now - at >= FORGET_START_MS) this.shownTyping.delete(key);
  }
}
