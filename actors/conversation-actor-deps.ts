import type { AgentFailureLog } from './agent-failure-log';
import type { ConversationPolicy } from './conversation-context';
import type { ConversationActor } from './conversation-actor';
import type { RecordNotifier } from './record-notifier';
import type { PostInput, PostResult } from './runtime-types';
import type { RuntimeServices } from './runtime-services';
import type { SharedConversationMachine } from './shared-conversation-machine';

/** What the runtime gives each conversation actor: its services, the shared machine and the callbacks of its ends. */
export interface ConversationActorDeps extends RuntimeServices {
  readonly policy: ConversationPolicy;
  /** The runtime's one machine definition, which every conversation runs (shared-conversation-machine.ts). */
  readonly machines: SharedConversationMachine;
  /** Called when the conversation has no connections and no pending work (passivation candidate). */
  readonly onIdle: (conversation: ConversationActor) => void;
  /** Called once when the restart intensity is exceeded. */
  readonly onFailed: (conversation: ConversationActor, err: unknown) => void;
  /** Called once when the journal says the conversation no longer exists (deleted elsewhere); the actor has stopped. */
  readonly onDeleted?: (conversation: ConversationActor) => void;
  /**
   * Called once when another runtime claimed the conversation (a fenced write: `reason` is the STORAGE_ERR_FENCED
   * error; or a renewal that no longer found the claim); the actor has stopped.
   */
  readonly onMoved?: (conversation: ConversationActor, reason: unknown) => void;
  /**
   * Asks for a claim renewal now: sequencing work waits because the claim may have lapsed by this runtime's clock
   * (ClaimKeeper.confirmSoon). Absent: nothing is asked (the work waits for the next renewal on its timer).
   */
  readonly claimLapsed?: () => void;
  /** Posts again through the runtime: for a post refused because the conversation moved away while it waited. */
  readonly postAgain?: (input: PostInput) => Promise<PostResult>;
  /** The runtime's rate-limited log of agent call failures (one for all conversations: the limit is per agent). */
  readonly agentFailures?: AgentFailureLog;
  /** Tells the embedder's onRecord listener of each stored record; absent without one (record-notifier.ts). */
  readonly recordNotifier?: RecordNotifier;
}
