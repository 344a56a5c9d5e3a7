import { ChatError } from './errors';
import type { CreateConversationInput, ParticipantInput, PostInput } from './runtime-types';
import { hasLoneSurrogate, idProblem, jsonObjectProblem } from '../storage-providers/record-rules';
import { RUNTIME_ONLY_MESSAGE_TYPES } from './message-types';

/**
 * What the runtime's public entry points accept. A post, a join or a new conversation becomes journal records
 * once sequenced, and a record delivered to everyone cannot be taken back when the store then refuses it: the
 * conversation's journal writer would retry it for good. So input is checked here, before anything is
 * sequenced, against the store's own rule (storage-providers/record-rules.ts): ids of 1 to 256 characters,
 * metadata and settings JSON can carry. The gateway checks the same before it calls the runtime, stricter in
 * places (ids of 1 to 128 characters from a fixed alphabet: docs/protocol.md); embedders get these checks.
 */

/** Control characters other than \t, \n and \r (C0, DEL and C1). */
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Whether `text` has a control character the content rule refuses (anything but \t, \n and \r). */
export function hasForbiddenControl(text: string): boolean {
  return FORBIDDEN_CONTROL.test(text);
}

/** `text` with every control character the content rule refuses taken out (a copy only when there is one). */
export function withoutForbiddenControl(text: string): string {
  return FORBIDDEN_CONTROL.test(text) ? text.replace(new RegExp(FORBIDDEN_CONTROL.source, 'g'), '') : text;
}

/**
 * The content rule of every post (WebSocket frames, HTTP posts, runtime.post). Returns a reason, or undefined
 * when the content is acceptable.
 */
export function contentProblem(content: unknown, maxLength: number): string | undefined {
  if (typeof content !== 'string') return 'content must be a string';
  if (content.trim().length === 0) return 'content is empty';
  if (content.length > maxLength) return `content is longer than ${maxLength} characters`;
  // No store keeps one as sent: SQLite and PostgreSQL text write U+FFFD, so a replay would differ from what was delivered.
  if (hasLoneSurrogate(content)) return 'content is not well-formed Unicode (a lone surrogate)';
  if (hasForbiddenControl(content)) return 'content contains control characters (only \\n, \\r and \\t are allowed)';
  return undefined;
}

/** Why runtime.post refuses `input` (CHAT_ERR_INVALID_MESSAGE), or undefined. A few type checks unless it has metadata. */
export function postProblem(input: PostInput, maxContentLength: number): string | undefined {
  if (typeof input !== 'object' || input === null) return 'the post must be an object';
  return (
    idProblem(input.sender_id, 'sender_id') ??
    idProblem(input.message_id, 'message_id') ??
    contentProblem(input.content, maxContentLength) ??
    (input.message_type === undefined ? undefined : messageTypeProblem(input.message_type)) ??
    (input.metadata === undefined ? undefined : objectProblem(input.metadata, 'metadata'))
  );
}

/** Refuses a member to add (runtime.join, createConversation's participants) with CHAT_ERR_INVALID_ARGUMENT. */
export function assertValidParticipant(participant: ParticipantInput, name = 'participant'): void {
  const problem = participantProblem(participant, name);
  if (problem !== undefined) throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', problem);
}

/** Refuses runtime.createConversation's input with CHAT_ERR_INVALID_ARGUMENT, naming the first problem. */
export function assertValidCreation(input: CreateConversationInput): void {
  const problem = creationProblem(input);
  if (problem !== undefined) throw new ChatError('CHAT_ERR_INVALID_ARGUMENT', problem);
}

function creationProblem(input: CreateConversationInput): string | undefined {
  if (typeof input !== 'object' || input === null) return 'the conversation input must be an object';
  const { conversation_id, created_by, title, settings, participants } = input;
  const problem =
    (conversation_id === undefined ? undefined : idProblem(conversation_id, 'conversation_id')) ??
    idProblem(created_by, 'created_by') ??
    reservedIdProblem(created_by, 'created_by') ??
    (title === undefined ? undefined : shownTextProblem(title, 'title')) ??
    (settings === undefined || settings === null ? undefined : objectProblem(settings, 'settings'));
  if (problem !== undefined || participants === undefined) return problem;
  if (!Array.isArray(participants)) return 'participants must be an array';
  for (let i = 0; i < participants.length; i++) {
    const found = participantProblem(participants[i], `participants[${i}]`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The sender id of the conversation's own records (mode changes, redactions, edits, lost placeholders), whose message
 * ids are predictable (`mode-7`, `edit-4-1`): a member with this id could post them first and be taken for them.
 */
const SYSTEM_SENDER_ID = 'system';

function reservedIdProblem(id: string | undefined, name: string): string | undefined {
  return id === SYSTEM_SENDER_ID
    ? `${name} "${SYSTEM_SENDER_ID}" is reserved: it is the sender of the conversation's own records`
    : undefined;
}

function participantProblem(p: ParticipantInput, name: string): string | undefined {
  if (typeof p !== 'object' || p === null) return `${name} must be an object`;
  return (
    idProblem(p.participant_id, `${name}.participant_id`) ??
    // Named without its index: the gateway puts the caller first, so the index would not be the caller's own.
    reservedIdProblem(p.participant_id, 'participant_id') ??
    (p.participant_type === 'human' || p.participant_type === 'ai' ? undefined : `${name}.participant_type must be "human" or "ai"`) ??
    (p.display_name === undefined ? undefined : shownTextProblem(p.display_name, `${name}.display_name`)) ??
    (p.role === undefined || p.role === 'owner' || p.role === 'member' ? undefined : `${name}.role must be "owner" or "member"`) ??
    (p.agent_id === undefined ? undefined : idProblem(p.agent_id, `${name}.agent_id`))
  );
}

/**
 * A title or display name: shown to every member and kept by the store, so it follows the content rule's
 * character checks (the gateway refuses the same for HTTP callers; embedders calling the runtime got "a\u0007b"
 * stored and shown, and a lone surrogate that SQLite and PostgreSQL would keep as U+FFFD, unlike what was delivered).
 */
function shownTextProblem(value: unknown, name: string): string | undefined {
  if (typeof value !== 'string') return `${name} must be a string`;
  const problem = shownTextCharacterProblem(value);
  return problem === undefined ? undefined : `${name} ${problem}`;
}

/** What the rule of shown names refuses in `text` (a lone surrogate, a control character), or undefined. */
export function shownTextCharacterProblem(text: string): string | undefined {
  if (hasLoneSurrogate(text)) return 'is not well-formed Unicode (a lone surrogate)';
  if (hasForbiddenControl(text)) return 'contains control characters (only \\n, \\r and \\t are allowed)';
  return undefined;
}

/** A message type a post or an agent's piece may carry: an id, and none of the types only the runtime writes. */
export function messageTypeProblem(type: unknown): string | undefined {
  const problem = idProblem(type, 'message_type');
  if (problem !== undefined) return problem;
  return RUNTIME_ONLY_MESSAGE_TYPES.has(type as string) ? `message_type "${type as string}" is written by the runtime only` : undefined;
}

/** An object JSON can carry (metadata, settings); the store's copy is only paid for one with keys. */
export function objectProblem(value: unknown, what: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${what} must be an object`;
  for (const _key in value) return jsonObjectProblem(value, what);
  return undefined;
}
