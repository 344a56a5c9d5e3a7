/**
 * Read state on the open conversation's page, wired to its client: marking what the user has seen (read-marker.ts,
 * on records, the end of a connection's replay, scrolling, visibility and focus) and "seen by" under the user's latest message
 * (seen-by.ts, on `read` events, member lists and new records). One per client: stop() removes every listener it
 * added to the page, so a conversation opened after it is not marked by its events.
 */
import type { ChatClient } from '../chat-client';
import { isScrolledToBottom } from './message-view';
import { createReadMarker } from './read-marker';
import type { SeenBy } from './seen-by';

export interface ReadStateDeps {
  readonly client: ChatClient;
  /** The element the messages scroll in. */
  readonly scroller: HTMLElement;
  readonly seenBy: SeenBy;
  /** The page marked the conversation read up to `sequenceId` (its list drops the badge). */
  markedRead(sequenceId: number): void;
}

export interface ReadState {
  /** Records were put in above the others (an earlier page): the user's latest message may be among them. */
  recordsAdded(): void;
  stop(): void;
}

export function wireReadState(deps: ReadStateDeps): ReadState {
  const { client, scroller } = deps;
  const marker = createReadMarker({
    isVisible: () => document.visibilityState === 'visible',
    atBottom: () => isScrolledToBottom(scroller),
    lastShown: () => client.lastSequenceId,
    markRead(sequenceId) {
      client.markRead(sequenceId);
      deps.markedRead(sequenceId);
    },
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  });
  const showSeenBy = (): void => deps.seenBy.show(client.participants, client.readPositions);
  const check = (): void => marker.check();
  const unsubscribe = [
    // Not at `connected`: a mark made before the connection's participant list is said again when it comes
    // (read-marks.ts, onWelcome), so it would go twice. `sync` ends every connect's replay, after that list.
    client.on('sync', check),
    client.on('message', () => {
      check();
      showSeenBy();
    }),
    client.on('read', showSeenBy),
    client.on('participants', showSeenBy),
  ];
  scroller.addEventListener('scroll', check, { passive: true });
  document.addEventListener('visibilitychange', check);
  window.addEventListener('focus', check);
  return {
    recordsAdded: showSeenBy,
    stop() {
      marker.stop();
      for (const off of unsubscribe) off();
      scroller.removeEventListener('scroll', check);
      document.removeEventListener('visibilitychange', check);
      window.removeEventListener('focus', check);
    },
  };
}
