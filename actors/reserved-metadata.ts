import { ChatError } from './errors';
import type { Participant } from './message-types';
import type { PostInput, PostResult } from './runtime-types';

/**
 * Metadata keys the runtime itself writes on non-system records: what an agent answer carries (job, part,
 * completion, what it answers, the hop count), the redaction flag, the edit marks and the duplicate rename. Clients and
 * `replay --check` read them as the runtime's word (an AI record with `complete: true` ends a job), so a human
 * post may not set them. `final` is the agents' own end marker (AgentOutput.final), reserved so no client
 * mistakes a human's `final` for it. System-record keys (participant, mode, reason, ...) need no entry: a post
 * never becomes a system record.
 */
export const RESERVED_METADATA_KEYS = [
  'job_id',
  'part',
  'complete',
  'final',
  'in_reply_to',
  'in_reply_to_sequence',
  'in_reply_to_sequences',
  'chain_depth',
  'redacted',
  'edited',
  'edited_at',
  'edit_count',
  'duplicate_of_sequence',
] as const;

/** The reserved keys `metadata` has (own properties), in the list's order; empty for most posts. */
export function reservedKeysIn(metadata: Readonly<Record<string, unknown>> | undefined): string[] {
  if (metadata === undefined) return [];
  return RESERVED_METADATA_KEYS.filter((key) => Object.prototype.hasOwnProperty.call(metadata, key));
}

/** Why a human's metadata is refused (naming the keys), or undefined when it may be posted. */
export function reservedMetadataProblem(metadata: Readonly<Record<string, unknown>> | undefined): string | undefined {
  // Most posts carry no metadata: no empty list to make for them.
  if (metadata === undefined) return undefined;
  const keys = reservedKeysIn(metadata);
  if (keys.length === 0) return undefined;
  const named = keys.map((k) => JSON.stringify(k)).join(', ');
  return `metadata key${keys.length > 1 ? 's' : ''} ${named} ${keys.length > 1 ? 'are' : 'is'} reserved for agent answers`;
}

/** What postUnlessReserved needs of a conversation: its members and its post. */
interface PostingConversation {
  readonly participants: readonly Participant[];
  post(input: PostInput): Promise<PostResult>;
}

/**
 * runtime.post's check for embedders: a human sender's post carrying reserved keys is refused with
 * CHAT_ERR_INVALID_MESSAGE. AI senders keep them (an external AI participant passes its own chain_depth, which
 * the runtime counts on); strangers get the actor's CHAT_ERR_NOT_PARTICIPANT. Costs one check when no metadata.
 */
export function postUnlessReserved(conversation: PostingConversation, input: PostInput): Promise<PostResult> {
  if (input.metadata === undefined) return conversation.post(input);
  const problem = reservedMetadataProblem(input.metadata);
  if (problem !== undefined) {
    const sender = conversation.participants.find((p) => p.participant_id === input.sender_id);
    if (sender?.participant_type === 'human') return Promise.reject(new ChatError('CHAT_ERR_INVALID_MESSAGE', problem));
  }
  return conversation.post(input);
}
