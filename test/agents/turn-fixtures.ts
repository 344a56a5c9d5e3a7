import type { AgentTurn } from '../../actors/agents/agent';
import type { ChatMessage, Participant } from '../../actors/message-types';

/** Builders for AgentTurn values in agent tests (the actor builds them in production). */
let seq = 0;

export function message(partial: Partial<ChatMessage> & { content: string }): ChatMessage {
  seq++;
  return {
    message_id: partial.message_id ?? `m-${seq}`,
    conversation_id: partial.conversation_id ?? 'conv-1',
    sequence_id: partial.sequence_id ?? seq,
    sender_id: partial.sender_id ?? 'alice',
    sender_type: partial.sender_type ?? 'human',
    message_type: partial.message_type ?? 'text',
    content: partial.content,
    timestamp: partial.timestamp ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    metadata: partial.metadata ?? {},
  };
}

export const alice: Participant = {
  participant_id: 'alice',
  participant_type: 'human',
  display_name: 'Alice Example',
  joined_at_sequence: 1,
  role: 'owner',
};

export function turn(query: string, extra: Partial<AgentTurn> = {}): AgentTurn {
  const trigger = message({ content: query, sequence_id: 42, message_id: 'trigger-1' });
  return {
    conversationId: 'conv-1',
    trigger,
    burst: [trigger],
    recentHumanMessages: [trigger],
    lastAiAnswer: [],
    sender: alice,
    participants: [alice],
    settings: {},
    chainDepth: 0,
    ...extra,
  };
}
