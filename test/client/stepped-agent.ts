/**
 * For the chat page's browser tests: an agent whose answer comes in pieces the test releases one by one, so a
 * test sees the page after each piece.
 */
import type { Agent, AgentOutput } from '../../actors/agents/agent';

/** Answers each message `wantsTurn` accepts (default: every human message) with `pieces`, each after release(). */
export function steppedAgent(
  pieces: readonly string[],
  wantsTurn: Agent['wantsTurn'] = (m) => m.sender_type === 'human',
): Agent & { release(): void } {
  let gate: (() => void) | undefined;
  let opened = 0;
  const waitForRelease = (): Promise<void> => new Promise((resolve) => (opened > 0 ? (opened--, resolve()) : (gate = resolve)));
  return {
    id: 'nlweb',
    displayName: 'NLWeb',
    wantsTurn,
    async *respond(): AsyncIterable<AgentOutput> {
      for (const [i, content] of pieces.entries()) {
        await waitForRelease();
        yield { content, message_type: 'nlweb_response', metadata: { part: i + 1 }, final: i === pieces.length - 1 };
      }
    },
    release() {
      if (gate) {
        const g = gate;
        gate = undefined;
        g();
      } else opened++;
    },
  };
}
