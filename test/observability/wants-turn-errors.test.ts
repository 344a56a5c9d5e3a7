import { createEchoAgent, type Agent, type AgentOutput } from '../../actors';
import { createChatTelemetry } from '../../observability/chat-telemetry';
import { METRICS } from '../../observability/telemetry-names';
import { makeRuntime, settle } from '../actors/runtime-helpers';
import { createTestMeterProvider } from './metric-collector';

/**
 * nlweb_chat.agent.wants_turn.errors: an agent whose wantsTurn throws declines the turn (actors/agent-jobs.ts);
 * before this counter only the log said so, and no call metric counted it (no call was made).
 */

const WINDOW_MS = 50;

/** Throws in its filter on every human message starting with "boom"; otherwise declines. */
function createThrowingFilterAgent(id: string): Agent {
  return {
    id,
    displayName: id,
    wantsTurn(m) {
      if (m.sender_type === 'human' && m.content.startsWith('boom')) throw new TypeError(`no mood for ${m.message_id}`);
      return false;
    },
    async *respond(): AsyncIterable<AgentOutput> {
      yield { content: 'never', final: true };
    },
  };
}

describe('nlweb_chat.agent.wants_turn.errors', () => {
  it('counts each throw by the agent id (as agent.call.errors counts by endpoint); the calls of other agents are not counted there', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const telemetry = createChatTelemetry({ meterProvider, perConversationSeries: 0 });
    const { runtime, clock } = await makeRuntime({
      agents: [createThrowingFilterAgent('flaky'), createThrowingFilterAgent('fussy'), createEchoAgent()],
      config: { chat: { input: { multi_mode_window_ms: WINDOW_MS } } },
      telemetry,
    });
    try {
      await runtime.createConversation({
        conversation_id: 'room',
        created_by: 'alice',
        participants: [
          { participant_id: 'flaky', participant_type: 'ai' },
          { participant_id: 'echo', participant_type: 'ai' },
        ],
      });
      // Nothing thrown yet: no series (the endpoint label is free-form, like agent.call.errors').
      expect((await collect()).points(METRICS.agentWantsTurnErrors.name)).toEqual([]);

      for (let i = 1; i <= 3; i++) {
        await runtime.post('room', { sender_id: 'alice', message_id: `boom-${i}`, content: `boom ${i}` });
        clock.advance(WINDOW_MS);
        await settle();
      }
      await runtime.post('room', { sender_id: 'alice', message_id: 'calm', content: 'all quiet' });
      clock.advance(WINDOW_MS);
      await settle();

      const c = await collect();
      expect(c.points(METRICS.agentWantsTurnErrors.name)).toEqual([{ endpoint: 'flaky' }]);
      expect(c.value(METRICS.agentWantsTurnErrors.name, { endpoint: 'flaky' })).toBe(3);
      // fussy is not in the room: never offered a turn, never counted. echo answered every post: calls, no errors.
      expect(c.histogram(METRICS.agentCallDuration.name, { endpoint: 'echo', outcome: 'ok' })?.count).toBe(4);
      expect(c.points(METRICS.agentCallErrors.name)).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it('caps the endpoint label like the other agent metrics', async () => {
    const { meterProvider, collect } = createTestMeterProvider();
    const t = createChatTelemetry({ meterProvider, maxLabelValues: 2 });
    for (const id of ['a', 'b', 'c', 'd', 'a']) t.agentWantsTurnError(id);
    const c = await collect();
    expect(c.value(METRICS.agentWantsTurnErrors.name, { endpoint: 'a' })).toBe(2);
    expect(c.value(METRICS.agentWantsTurnErrors.name, { endpoint: 'b' })).toBe(1);
    expect(c.value(METRICS.agentWantsTurnErrors.name, { endpoint: 'other' })).toBe(2);
  });
});
