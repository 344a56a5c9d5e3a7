/** Exit codes of the replay CLI (documented in docs/replay.md). */
export const EXIT = {
  /** Everything read; no violation, no divergence. */
  ok: 0,
  /** Bad arguments, unreadable file, unreachable storage, unknown conversation, malformed journal line. */
  usage: 1,
  /** `--check` found at least one invariant violation. */
  violation: 2,
  /** `--rerun` found at least one divergence between the machine and the journal. */
  divergence: 3,
  /** `--follow` ended because the server ended the conversation for the follower (removed, or deleted). */
  followEnded: 4,
  /** `diff`: the two reads of the journal differ. */
  differ: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
