import type { AgentRegistry } from './agents/agent';
import { ChatError, type ChatErrorDetails } from './errors';
import type { ParticipantInput } from './runtime-types';

/**
 * The agent ids that AI participants about to be added name (agent_id, else participant_id) and that no
 * registered agent has, each once, in order. External AI participants name none: the embedder speaks for them.
 */
export function unknownAgentIds(participants: readonly ParticipantInput[], agents: AgentRegistry): string[] {
  const unknown = new Set<string>();
  for (const p of participants) {
    if (p.participant_type !== 'ai' || p.external === true) continue;
    const agentId = p.agent_id ?? p.participant_id;
    if (!agents.has(agentId)) unknown.add(agentId);
  }
  return [...unknown];
}

/**
 * Refuses (CHAT_ERR_UNKNOWN_AGENT) AI participants naming no registered agent: such a member never answers, yet
 * counts as a participant (a third one switches the conversation to multi mode and delays the real agents by the
 * input window). Checked only when members are added, never on restore: a conversation keeps members whose agent
 * was removed from the configuration later (they are skipped when turns are offered).
 */
export function assertKnownAgents(participants: readonly ParticipantInput[], agents: AgentRegistry): void {
  const unknown = unknownAgentIds(participants, agents);
  if (unknown.length === 0) return;
  throw new ChatError('CHAT_ERR_UNKNOWN_AGENT', `unknown agent ${unknown.map((id) => JSON.stringify(id)).join(', ')}`, {
    details: { agent_ids: unknown } satisfies ChatErrorDetails['CHAT_ERR_UNKNOWN_AGENT'],
  });
}
