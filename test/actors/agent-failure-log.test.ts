import type { Agent, AgentTurn } from '../../actors';
import { AgentFailureLog, type AgentFailureLogger } from '../../actors/agent-failure-log';
import { createManualClock } from '../../actors/clock';
import { ChatError } from '../../actors/errors';
import { capturedLogger, collector, makeRuntime, settle } from './runtime-helpers';

/**
 * Agent call failures reach the operators' log at warn, rate-limited per agent: a dead endpoint with many busy
 * conversations writes its first failure at once, then at most one summary line per window (60 s) with a count.
 */
function recordingLogger(): AgentFailureLogger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, warn: (fields, msg) => void lines.push({ ...fields, msg }) };
}

const failure = (
  conversationId: string,
  agentId = 'nlweb',
  code: 'AGENT_ERR_CONNECTION' | 'AGENT_ERR_TIMEOUT' = 'AGENT_ERR_CONNECTION',
) => ({
  conversationId,
  agentId,
  url: `http://${agentId}.example:8100/`,
  code,
  reason: code === 'AGENT_ERR_CONNECTION' ? 'NLWeb endpoint unreachable: ECONNREFUSED' : 'no complete answer within 20000 ms',
});

describe('AgentFailureLog', () => {
  test('first failure per agent at once, then one summary per window while failures go on; a quiet window resets', () => {
    const clock = createManualClock();
    const logger = recordingLogger();
    const log = new AgentFailureLog({ logger, clock });

    log.report(failure('c1'));
    expect(logger.lines).toEqual([
      {
        msg: 'agent call failed',
        conversation_id: 'c1',
        agent_id: 'nlweb',
        url: 'http://nlweb.example:8100/',
        code: 'AGENT_ERR_CONNECTION',
        reason: 'NLWeb endpoint unreachable: ECONNREFUSED',
      },
    ]);
    // Another agent is limited on its own.
    clock.advance(1000);
    log.report(failure('c9', 'gear'));
    expect(logger.lines.map((l) => [l.msg, l.agent_id])).toEqual([
      ['agent call failed', 'nlweb'],
      ['agent call failed', 'gear'],
    ]);
    // Busy conversations on the dead endpoint: nothing more within the window...
    for (const [i, conversation] of ['c2', 'c3', 'c2'].entries()) {
      clock.advance(10_000);
      log.report(failure(conversation, 'nlweb', i === 2 ? 'AGENT_ERR_TIMEOUT' : 'AGENT_ERR_CONNECTION'));
    }
    clock.advance(60_000 - 31_001);
    expect(logger.lines).toHaveLength(2);
    // ...then one line with the count at its end (gear had nothing more: no line for it).
    clock.advance(1);
    expect(logger.lines.slice(2)).toEqual([
      {
        msg: 'agent calls failed',
        agent_id: 'nlweb',
        url: 'http://nlweb.example:8100/',
        count: 3,
        codes: { AGENT_ERR_CONNECTION: 2, AGENT_ERR_TIMEOUT: 1 },
        conversations: 2,
        last_conversation_id: 'c2',
        window_s: 60,
      },
    ]);
    // gear's window (from 1 s) passes quietly: its next failure is written at once again.
    clock.advance(1000);
    expect(logger.lines).toHaveLength(3);
    log.report(failure('c9', 'gear'));
    expect(logger.lines[3]).toMatchObject({ msg: 'agent call failed', agent_id: 'gear' });
    // nlweb is in its next window: a failure in it waits for that window's summary.
    clock.advance(5000);
    log.report(failure('c4'));
    expect(logger.lines).toHaveLength(4);
    clock.advance(54_000);
    expect(logger.lines[4]).toMatchObject({ msg: 'agent calls failed', agent_id: 'nlweb', count: 1, last_conversation_id: 'c4' });
    // A window without failures ends the limiting: the next one is written at once.
    clock.advance(60_000);
    expect(logger.lines).toHaveLength(5);
    log.report(failure('c5'));
    expect(logger.lines[5]).toMatchObject({ msg: 'agent call failed', conversation_id: 'c5' });
    log.close();
  });

  test('close() writes the summaries still pending and leaves no timer', () => {
    const clock = createManualClock();
    const logger = recordingLogger();
    const log = new AgentFailureLog({ logger, clock, windowMs: 10_000 });
    log.report(failure('c1'));
    log.report(failure('c2'));
    log.close();
    expect(logger.lines.map((l) => [l.msg, l.count])).toEqual([
      ['agent call failed', undefined],
      ['agent calls failed', 1],
    ]);
    expect(logger.lines[1].window_s).toBe(10);
    expect(clock.pendingTimers()).toBe(0);
    // Closed: later reports are dropped rather than starting timers nothing would clear.
    log.report(failure('c3'));
    expect(logger.lines).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('the runtime logs its agents’ failures', () => {
  test('at warn, with conversation, agent, endpoint URL and code; many conversations give one line and a summary', async () => {
    const { logger, logged } = capturedLogger('warn');
    const dead: Agent & { baseUrl: string } = {
      id: 'nlweb',
      displayName: 'NLWeb',
      baseUrl: 'http://127.0.0.1:9/',
      wantsTurn: (m) => m.sender_type === 'human',
      async *respond(_turn: AgentTurn) {
        throw new ChatError('AGENT_ERR_CONNECTION', 'NLWeb endpoint unreachable: ECONNREFUSED');
      },
    };
    const { runtime, clock } = await makeRuntime({
      agents: [dead],
      config: { chat: { input: { multi_mode_window_ms: 50 } } },
      logger: logger,
    });
    for (const id of ['c1', 'c2', 'c3']) {
      await runtime.createConversation({
        conversation_id: id,
        created_by: 'alice',
        participants: [{ participant_id: 'nlweb', participant_type: 'ai', agent_id: 'nlweb' }],
      });
      const alice = collector();
      await runtime.subscribe(id, 'alice', alice.listener, { afterSequenceId: 0 });
      await runtime.post(id, { sender_id: 'alice', message_id: `q-${id}`, content: 'pasta?' });
      clock.advance(50);
      await settle();
      // The conversation still shows the failure; the log is for the operators.
      expect(alice.messages.map((m) => m.message_type)).toContain('agent_job_failed');
    }
    const failures = () => logged.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('agent call'));
    expect(failures()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'agent call failed',
        conversation_id: 'c1',
        agent_id: 'nlweb',
        url: 'http://127.0.0.1:9/',
        code: 'AGENT_ERR_CONNECTION',
      }),
    ]);
    clock.advance(60_000);
    expect(failures()[1]).toMatchObject({ level: 'warn', msg: 'agent calls failed', agent_id: 'nlweb', count: 2, conversations: 2 });
    await runtime.close();
  });
});
