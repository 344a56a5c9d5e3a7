/** JSON Schemas of the HTTP API request bodies (docs/http-api.md). */
import { MAX_MESSAGE_ID_LENGTH } from './protocol/client-frames';

type Schema = Record<string, unknown>;

const ID_PATTERN = '^[A-Za-z0-9_.@:+-]{1,128}$';
const id: Schema = { type: 'string', pattern: ID_PATTERN };

export interface CreateConversationBody {
  conversation_id?: string;
  title?: string;
  participants?: Array<{
    participant_id?: string;
    /** NLWeb's name for participant_id. */
    user_id?: string;
    participant_type?: 'human' | 'ai';
    display_name?: string;
    /** NLWeb's name for display_name. */
    name?: string;
    agent_id?: string;
  }>;
  /** Agent ids to add as AI participants. */
  agents?: string[];
  settings?: Record<string, unknown>;
  /** Join every configured auto_join agent (default true). */
  auto_join_agents?: boolean;
  /** NLWeb's name for auto_join_agents. */
  enable_ai?: boolean;
}

export const CREATE_CONVERSATION_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    conversation_id: id,
    title: { type: 'string', maxLength: 200 },
    participants: {
      type: 'array',
      maxItems: 10_000,
      items: {
        type: 'object',
        additionalProperties: false,
        anyOf: [{ required: ['participant_id'] }, { required: ['user_id'] }],
        properties: {
          participant_id: id,
          user_id: id,
          participant_type: { enum: ['human', 'ai'] },
          display_name: { type: 'string', maxLength: 200 },
          name: { type: 'string', maxLength: 200 },
          agent_id: id,
        },
      },
    },
    agents: { type: 'array', maxItems: 100, items: id },
    // Free-form (handed to agents), but the one key the gateway reads must be what it reads (invite-only.ts).
    settings: { type: 'object', properties: { invite_only: { type: 'boolean' } } },
    auto_join_agents: { type: 'boolean' },
    enable_ai: { type: 'boolean' },
  },
};

export interface PostMessageBody {
  message_id: string;
  content: string;
  metadata?: Record<string, unknown>;
}

export const POST_MESSAGE_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['message_id', 'content'],
  properties: {
    message_id: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH },
    content: { type: 'string' },
    metadata: { type: 'object' },
  },
};

export interface RedactBody {
  message_ids?: string[];
  sender_id?: string;
}

export const REDACT_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  oneOf: [{ required: ['message_ids'] }, { required: ['sender_id'] }],
  properties: {
    message_ids: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH } },
    sender_id: id,
  },
};

/** POST /chat/conversations/{id}/edit: the caller replaces the content of its own message `message_id`. */
export interface EditMessageBody {
  message_id: string;
  content: string;
}

export const EDIT_MESSAGE_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['message_id', 'content'],
  properties: {
    message_id: { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_ID_LENGTH },
    content: { type: 'string' },
  },
};

/** POST /chat/conversations/{id}/read: the caller has read everything up to `sequence_id`. */
export interface MarkReadBody {
  sequence_id: number;
}

export const MARK_READ_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['sequence_id'],
  properties: { sequence_id: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
};

/** POST /chat/conversations/{id}/participants: a member adds a human or an AI agent (membership-routes.ts). */
export interface AddParticipantBody {
  participant_id: string;
  participant_type?: 'human' | 'ai';
  display_name?: string;
  /** AI participants: the registered agent that answers (defaults to participant_id). */
  agent_id?: string;
}

export const ADD_PARTICIPANT_SCHEMA: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['participant_id'],
  properties: {
    participant_id: id,
    participant_type: { enum: ['human', 'ai'] },
    display_name: { type: 'string', maxLength: 200 },
    agent_id: id,
  },
};

/** POST …/join and …/leave take no fields: a body, if any, is `{}` (a field there was taken silently, then ignored). */
export type NoFieldsBody = Record<string, never>;

export const NO_FIELDS_SCHEMA: Schema = { type: 'object', additionalProperties: false, properties: {} };
