import type { Agent, AgentOutput, AgentTurn } from './agent';

/**
 * Answers every human message with "echo: <content>". For tests and demos; it never answers
 * another agent, so two echo agents cannot loop.
 */
export function createEchoAgent(options: { id?: string; displayName?: string; pieces?: number } = {}): Agent {
  const pieces = Math.max(1, options.pieces ?? 1);
  return {
    id: options.id ?? 'echo',
    displayName: options.displayName ?? 'Echo',
    wantsTurn: (message) => message.sender_type === 'human',
    async *respond(turn: AgentTurn, signal: AbortSignal): AsyncIterable<AgentOutput> {
      const text = turn.burst.map((m) => m.content).join('\n');
      for (let i = 1; i <= pieces; i++) {
        if (signal.aborted) return;
        yield { content: pieces === 1 ? `echo: ${text}` : `echo ${i}/${pieces}: ${text}`, final: i === pieces };
      }
    },
  };
}
