/**
 * Tells the others that this page's user is typing: `typing: true` when typing starts and again every
 * TYPING_REFRESH_MS while it goes on, `typing: false` two seconds after the last key. Apart from the indicator of
 * the others' typing (typing-indicator.ts): this side paces what the page sends, that side times what it shows.
 */
import type { ChatClient } from '../chat-client';

/** How often a page that keeps typing says so again: well inside TYPING_SHOWN_MS (typing-indicator.ts), within the typing budget (a start every 1 s, burst 3: gateway/typing-relay.ts). */
export const TYPING_REFRESH_MS = 3000;
/** Typing has stopped when no key came for this long. */
const TYPING_PAUSE_MS = 2000;

export interface TypingAnnouncer {
  /** The user changed the message box. */
  typed(): void;
}

/** `client`: the open conversation's client, if any (nothing is said without one). */
export function createTypingAnnouncer(client: () => ChatClient | undefined): TypingAnnouncer {
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  /** When this page last said `typing: true` (Date.now()), to say it again before the others' indicator expires. */
  let typingSaidAt = 0;
  return {
    typed() {
      const c = client();
      if (!c) return;
      // Said again while the typing goes on: the other pages drop an indicator TYPING_SHOWN_MS after the last `true`.
      if (typingTimer === undefined || Date.now() - typingSaidAt >= TYPING_REFRESH_MS) {
        c.setTyping(true);
        typingSaidAt = Date.now();
      }
      if (typingTimer !== undefined) clearTimeout(typingTimer);
      typingTimer = setTimeout(() => {
        typingTimer = undefined;
        client()?.setTyping(false);
      }, TYPING_PAUSE_MS);
    },
  };
}
