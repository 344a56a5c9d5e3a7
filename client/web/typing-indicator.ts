/**
 * "alice is typing…" on the chat page: who of the others is typing now, from their `typing` events. Apart from the
 * page's logic because it keeps its own timers: a member's page may close without saying it stopped, so each
 * indicator also ends TYPING_SHOWN_MS after the last `typing: true`.
 */

/** How long another member's typing indicator shows after their last `typing: true` (their page may have closed). */
export const TYPING_SHOWN_MS = 5000;

export interface TypingIndicatorDeps {
  readonly line: HTMLElement;
  nameOf(participantId: string): string;
}

export interface TypingIndicator {
  /** A member's `typing` event. */
  noted(participantId: string, isTyping: boolean): void;
  /** A message from `senderId` arrived: the sender has stopped typing. */
  messageFrom(senderId: string): void;
  /** Another conversation opened: nobody is shown typing. */
  clear(): void;
}

export function createTypingIndicator(deps: TypingIndicatorDeps): TypingIndicator {
  const typingNow = new Map<string, ReturnType<typeof setTimeout>>();
  const render = (): void => {
    const who = [...typingNow.keys()].map((id) => deps.nameOf(id));
    deps.line.textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
  };
  return {
    noted(participantId, isTyping) {
      const old = typingNow.get(participantId);
      if (old !== undefined) clearTimeout(old);
      if (isTyping)
        typingNow.set(
          participantId,
          setTimeout(() => (typingNow.delete(participantId), render()), TYPING_SHOWN_MS),
        );
      else typingNow.delete(participantId);
      render();
    },
    messageFrom(senderId) {
      const t = typingNow.get(senderId);
      if (t === undefined) return;
      clearTimeout(t);
      typingNow.delete(senderId);
      render();
    },
    clear() {
      typingNow.clear();
      render();
    },
  };
}
