import fc from 'fast-check';

/**
 * What a random chat session is made of (random-sessions.property.test.ts). Indices are taken modulo
 * what the run actually has (humans, conversations, tabs), so every generated command is runnable and
 * shrinking never produces an out-of-range one.
 */

/** One browser tab: a user's connection slot in one conversation. */
export interface TabRef {
  readonly conv: number;
  readonly user: number;
  readonly tab: number;
}

/** How a tab reconnects: from the last id it holds, from an older one, or without a resume point. */
export type ResumeFrom = 'last' | 'stale' | 'none';

/** How a membership command leaves or re-joins. */
export type MembershipVia = 'ws' | 'http' | 'owner';

/** Edits, deletes and read marks go over the tab's socket or over HTTP. */
export type ChangeVia = 'ws' | 'http';

/** Frames the gateway must refuse with a coded error: the socket stays open except after `not_json`. */
export type InvalidVariant = 'unknown_type' | 'extra_field' | 'bad_content' | 'not_json';

export type SessionCommand =
  /** Post message id `m<id>`: the first time a new message, after that a retry of the same id. */
  | { readonly kind: 'post'; readonly at: TabRef; readonly id: number; readonly via: 'ws' | 'http'; readonly wait: boolean }
  /** Ends the tab's socket: `abrupt` terminates it (no close handshake), otherwise a normal close. */
  | { readonly kind: 'drop'; readonly at: TabRef; readonly abrupt: boolean; readonly wait: boolean }
  /**
   * (Re)connects the tab, terminating its socket first if it is open. `back`: how stale a stale point is;
   * `join`: with `?join=true` (harmless for a member, a re-join for someone who left).
   */
  | {
      readonly kind: 'connect';
      readonly at: TabRef;
      readonly from: ResumeFrom;
      readonly back: number;
      readonly join: boolean;
      /** `history=N` on the URL: at most the last N records (the tab pages what it left out over HTTP). */
      readonly history: number | undefined;
      readonly wait: boolean;
    }
  /** A `sync` frame on the open socket, from the tab's last id or an older one; `twice`: a stale one, then one from the last id, back to back. */
  | {
      readonly kind: 'sync';
      readonly at: TabRef;
      readonly stale: boolean;
      readonly twice: boolean;
      readonly back: number;
      /** The sync's `history` bound, if any. */
      readonly history: number | undefined;
      readonly wait: boolean;
    }
  /** Every tab of a conversation is cut off at once, then all reconnect (a network blip). */
  | { readonly kind: 'storm'; readonly conv: number; readonly from: ResumeFrom; readonly wait: boolean }
  /**
   * Leaves when a member, re-joins when not: over HTTP, or with the tab's socket (`leave` frame / `?join=true`);
   * `owner`: the owner removes the member (`DELETE …/participants/{id}`; the owner's own id is a leave; without an
   * owner left, an HTTP leave), a re-join is over HTTP.
   */
  | { readonly kind: 'membership'; readonly at: TabRef; readonly via: MembershipVia }
  | { readonly kind: 'invalid'; readonly at: TabRef; readonly variant: InvalidVariant; readonly id: number; readonly wait: boolean }
  | { readonly kind: 'typing'; readonly at: TabRef; readonly isTyping: boolean }
  /** Edits the tab user's message `m<id>` to one of a few texts (the same text again changes nothing). */
  | {
      readonly kind: 'edit';
      readonly at: TabRef;
      readonly id: number;
      readonly version: number;
      readonly via: ChangeVia;
      readonly wait: boolean;
    }
  /** Deletes the tab user's message `m<id>` (`delete` frame, or HTTP `…/redact` by message_ids: the owner's covers every sender's). */
  | { readonly kind: 'delete'; readonly at: TabRef; readonly id: number; readonly via: ChangeVia; readonly wait: boolean }
  /** The owner (whoever holds the role) redacts over HTTP: every sender's `m<id>`, or everything the tab's user sent. */
  | { readonly kind: 'redact'; readonly at: TabRef; readonly id: number; readonly bySender: boolean; readonly wait: boolean }
  /** Marks read up to `back` records before the tab's last (or past the conversation's end: clamped), by frame or HTTP. */
  | {
      readonly kind: 'read';
      readonly at: TabRef;
      readonly back: number;
      readonly pastEnd: boolean;
      readonly via: ChangeVia;
      readonly wait: boolean;
    }
  /** `options {read_batches: true}`: the socket takes `read_batch` frames instead of `read` frames. */
  | { readonly kind: 'options'; readonly at: TabRef }
  /** Waits for everything in flight. */
  | { readonly kind: 'settle' };

/** The shape of one run: who takes part and how the server is configured. */
export interface SessionSetup {
  readonly humans: number;
  readonly conversations: number;
  readonly tabsPerUser: number;
  /** chat.cache.recent_messages: 2 makes most resumes read the journal (the replay/live seam). */
  readonly cacheSize: number;
  /** Journal writes and reads finish a turn later: acks say persisted: false first, replays wait. */
  readonly slowStore: boolean;
  /** chat.supervision.idle_timeout_s: tiny values passivate a conversation whenever nobody is connected. */
  readonly idleTimeoutS: number;
  /** chat.cache.replay_page_records: 2 or 5 make most replays several pages. */
  readonly pageRecords: number;
  /** chat.read_positions.announce_interval_ms: 0 announces every raise, 30 holds later ones (read-positions.ts). */
  readonly announceMs: number;
}

/** Message ids come from a small pool per user so that retries of earlier ids are common. */
export const MESSAGE_ID_POOL = 12;

const resumeFrom: fc.Arbitrary<ResumeFrom> = fc.constantFrom('last' as const, 'last' as const, 'stale' as const, 'none' as const);

const tabRef: fc.Arbitrary<TabRef> = fc.record({ conv: fc.nat(1), user: fc.nat(3), tab: fc.nat(1) });

export const sessionSetupArb: fc.Arbitrary<SessionSetup> = fc.record({
  humans: fc.constantFrom(3, 4),
  conversations: fc.constantFrom(1, 1, 2),
  tabsPerUser: fc.constantFrom(1, 2),
  cacheSize: fc.constantFrom(2, 100),
  slowStore: fc.boolean(),
  idleTimeoutS: fc.constantFrom(300, 0.001),
  pageRecords: fc.constantFrom(2, 5, 256),
  announceMs: fc.constantFrom(0, 30),
});

const history: fc.Arbitrary<number | undefined> = fc.option(fc.integer({ min: 1, max: 6 }), { freq: 3, nil: undefined });
const changeVia: fc.Arbitrary<ChangeVia> = fc.constantFrom<ChangeVia>('ws', 'ws', 'http');

export const sessionCommandArb: fc.Arbitrary<SessionCommand> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      at: tabRef,
      id: fc.nat(MESSAGE_ID_POOL - 1),
      via: fc.constantFrom('ws' as const, 'ws' as const, 'ws' as const, 'http' as const),
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: tabRef, abrupt: fc.boolean(), wait: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('connect' as const),
      at: tabRef,
      from: resumeFrom,
      back: fc.nat(4),
      join: fc.constantFrom(false, false, false, true),
      history,
      wait: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      at: tabRef,
      stale: fc.boolean(),
      twice: fc.constantFrom(false, false, true),
      back: fc.nat(4),
      history,
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('storm' as const), conv: fc.nat(1), from: resumeFrom, wait: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('membership' as const),
      at: tabRef,
      via: fc.constantFrom<MembershipVia>('ws', 'http', 'owner'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('invalid' as const),
      at: tabRef,
      variant: fc.constantFrom('unknown_type' as const, 'extra_field' as const, 'bad_content' as const, 'not_json' as const),
      id: fc.nat(MESSAGE_ID_POOL - 1),
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('typing' as const), at: tabRef, isTyping: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('settle' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('edit' as const),
      at: tabRef,
      id: fc.nat(MESSAGE_ID_POOL - 1),
      version: fc.nat(2),
      via: changeVia,
      wait: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      at: tabRef,
      id: fc.nat(MESSAGE_ID_POOL - 1),
      via: changeVia,
      wait: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('redact' as const),
      at: tabRef,
      id: fc.nat(MESSAGE_ID_POOL - 1),
      bySender: fc.constantFrom(false, false, false, true),
      wait: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      at: tabRef,
      back: fc.nat(3),
      pastEnd: fc.constantFrom(false, false, false, true),
      via: changeVia,
      wait: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('options' as const), at: tabRef }) },
);

/** A one-line description of a command for failure reports. */
export function describeCommand(c: SessionCommand): string {
  if (c.kind === 'settle' || c.kind === 'storm') return JSON.stringify(c);
  const { kind, at, ...rest } = c;
  return `${kind}(c${at.conv} u${at.user} t${at.tab} ${JSON.stringify(rest)})`;
}
