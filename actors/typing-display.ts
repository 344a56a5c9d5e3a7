import { unrefTimer, type Clock } from './clock';

export interface TypingDisplayDeps {
  readonly clock: Clock;
  /**
   * How long a member's stop waits before the others are told (chat.typing.stop_hold_ms): a start from the same member
   * within it cancels it, so someone who types, pauses and types again (true, false, true within a second) stays shown
   * typing instead of flickering, and costs no frame per pause. A pause longer than this is a real stop and is shown,
   * this late. 0: every stop is shown at once.
   */
  readonly stopHoldMs: number;
  /**
   * The least time between two starts of a member already shown typing that are both relayed
   * (chat.typing.repeat_min_ms). A client repeats its start while typing goes on so that the others' indicator, which
   * ends a few seconds after the last start it heard (the chat page: 5 s after, repeated every 3 s), does not expire;
   * a repeat sooner than this says nothing new. The default, 2000, is below the page's 3 s so that its repeats pass
   * even when the network delays one of two by up to a second. 0: every start is relayed.
   */
  readonly repeatMinMs: number;
  /** Tells the others (every connection but the member's own) that the member is typing or not. */
  readonly announce: (participantId: string, isTyping: boolean) => void;
}

/** A member the others were last told is typing. */
interface ShownTyping {
  /** When the last start the others heard was announced (clock ms). */
  announcedAt: number;
  /** The stop waiting out the hold (stopHoldMs), if one came. */
  heldStop: unknown;
}

/**
 * What the other members are shown of each member's typing: the conversation's typing events, coalesced. The
 * conversation's own use of typing (the single-mode input window, conversation-machine.ts) takes each event at once;
 * only what is shown waits. A start is shown at once; a stop is held stopHoldMs and dropped if a start comes
 * meanwhile; a repeated start is shown again only repeatMinMs after the last one. A member's own
 * line (or leave), and its going offline, end its typing at once: nobody sees it typing after its line appears.
 * Ephemeral like presence: kept in the conversation's shell, never sequenced or journaled.
 */
export class TypingDisplay {
  /** Made on the first start: most live conversations have nobody typing. */
  private shown: Map<string, ShownTyping> | undefined;
  private closed = false;

  constructor(private readonly deps: TypingDisplayDeps) {}

  /** Whether the others were last told the member is typing (its stop may be held). */
  isShown(participantId: string): boolean {
    return this.shown?.has(participantId) ?? false;
  }

  /** Whether anybody is shown typing (nothing to end otherwise: the common record costs one check). */
  get anyShown(): boolean {
    return (this.shown?.size ?? 0) > 0;
  }

  /** The member says it is typing. */
  started(participantId: string): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    const member = this.shown?.get(participantId);
    if (member === undefined) {
      (this.shown ??= new Map()).set(participantId, { announcedAt: now, heldStop: undefined });
      this.deps.announce(participantId, true);
      return;
    }
    // Typing again within the hold: the others never learn of the pause.
    this.cancelHeldStop(member);
    if (now - member.announcedAt < this.deps.repeatMinMs) return;
    member.announcedAt = now;
    this.deps.announce(participantId, true);
  }

  /** The member says it stopped typing: the others are told stopHoldMs later, unless it starts again. */
  stopped(participantId: string): void {
    const member = this.shown?.get(participantId);
    if (member === undefined || member.heldStop !== undefined || this.closed) return;
    // No hold: shown now, not on a 0 ms timer (which would still put the stop after whatever comes next).
    if (this.deps.stopHoldMs === 0) return this.end(participantId);
    // A background timer, as presence's grace: a stop nobody may be left to hear must not keep the process alive.
    member.heldStop = unrefTimer(this.deps.clock.setTimeout(() => this.end(participantId), this.deps.stopHoldMs));
  }

  /** The member's line or leave was delivered, or it went offline: its typing ends now, a held stop included. */
  endNow(participantId: string): void {
    const member = this.shown?.get(participantId);
    if (member === undefined || this.closed) return;
    this.cancelHeldStop(member);
    this.end(participantId);
  }

  /** The conversation stops: no timer stays behind and nothing more is announced. */
  close(): void {
    this.closed = true;
    for (const member of this.shown?.values() ?? []) this.cancelHeldStop(member);
  }

  private end(participantId: string): void {
    this.shown!.delete(participantId);
    this.deps.announce(participantId, false);
  }

  private cancelHeldStop(member: ShownTyping): void {
    if (member.heldStop === undefined) return;
    this.deps.clock.clearTimeout(member.heldStop);
    member.heldStop = undefined;
  }
}
