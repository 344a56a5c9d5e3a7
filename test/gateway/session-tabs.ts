import type { SessionSocket } from './session-socket';
import type { TabView } from './session-tab-view';

/** One member's membership of one conversation, as the session model follows it. */
export interface Membership {
  member: boolean;
  /** Bumped when a leave/re-join starts and when it ends: an answer racing one may say either. */
  epoch: number;
  /** Leaves/re-joins of this member in progress. */
  changing: number;
  /** The highest read mark sent (as far as the tab held) while surely a member since its last join: the least the server may hold. */
  marked: number;
  /**
   * Marks sent as `read` frames while surely a member: taken for sure only if their socket is still open at the end
   * (a frame sent just before the socket was cut may never reach the server, and a taken `read` has no answer).
   */
  framed: Array<{ readonly socket: SessionSocket; readonly upTo: number }>;
}

/** One browser tab: a user's connection slot in one conversation. */
export interface Tab {
  readonly conv: Conversation;
  readonly userId: string;
  readonly label: string;
  socket: SessionSocket | undefined;
  /** Highest sequence id the tab holds (what it resumes from); undefined before its first connection. */
  lastSeen: number | undefined;
  /** What the tab shows. */
  readonly view: TabView;
  /** History-bounded resumes sent on the current socket and not completed: a jump in the stream is their bound. */
  historyPending: number;
  /**
   * Ids a history bound left out that the tab could not page in because it had left meanwhile (403): a member again,
   * it reads them then, as a client scrolling back after re-joining does, else it would show their targets unedited.
   */
  unpaged: Array<{ readonly first: number; readonly last: number }>;
  /** The membership when the tab last sent a `read` frame (a refusal of it is judged against it). */
  readSentAt: Membership | undefined;
  /** Connects, drops and queued sends run one after another per tab. */
  chain: Promise<void>;
  queued: number;
}

export interface Conversation {
  readonly index: number;
  readonly id: string;
  readonly members: Map<string, Membership>;
  readonly tabs: Tab[][];
}

/** Whether a leave or re-join of this member started or ended since `before` (either outcome is then right). */
export function raced(before: Membership, now: Membership): boolean {
  return before.epoch !== now.epoch || before.changing > 0;
}
