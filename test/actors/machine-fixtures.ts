import type { ConversationPolicy } from '../../actors/conversation-context';

/** A small policy for machine tests: 3 participants, short windows, a cache of 4 and a dedup window of 100. */
export const policy: ConversationPolicy = {
  maxParticipants: 3,
  humanContextSize: 2,
  cacheSize: 4,
  dedupWindow: 100,
  chainLimit: 1,
  multiModeWindowMs: 2000,
  multiModeMaxWaitMs: 10_000,
  singleModeTypingWindowMs: 100,
};
