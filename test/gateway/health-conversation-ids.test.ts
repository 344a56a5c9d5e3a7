import { createHash } from 'node:crypto';
import { crashingTelemetry } from './crashing-telemetry';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/** The key /health/chat shows for a conversation by default: what an operator computes from an id in the logs. */
const digestOf = (id: string): string => createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);

describe('/health/chat and conversation ids', () => {
  test('by default it names no conversation: an unauthenticated caller learns digests, not the ids that let anyone join', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const health = await h.request('GET', '/health/chat');
    expect(health.status).toBe(200);
    expect(JSON.stringify(health.body)).not.toContain(conv);
    expect(health.body.participants_by_conversation).toEqual({ [digestOf(conv)]: { humans: 2, ai_agents: 0 } });
    expect(health.body.queue_depths).toEqual({ [digestOf(conv)]: 0 });
    // What the ids were for: with one, any authenticated user joins and reads the history (docs/security.md).
    const join = await h.request('POST', `/chat/conversations/${Object.keys(health.body.queue_depths)[0]}/join`, 'mallory');
    expect(join.status).toBe(404);
  });

  test('observability.health.conversation_ids: plain shows the ids, as before, for a server whose health port is internal', async () => {
    const h = await startHarness({ observability: { health: { conversation_ids: 'plain' } } });
    const conv = await h.createConversation('alice');
    const health = await h.request('GET', '/health/chat');
    expect(health.body.participants_by_conversation).toEqual({ [conv]: { humans: 1, ai_agents: 0 } });
    expect(health.body.queue_depths).toEqual({ [conv]: 0 });
  });

  test('failed conversations are listed by digest too', async () => {
    const { telemetry, crashNext } = crashingTelemetry();
    const h = await startHarness({ chat: { supervision: { max_restarts: 0 } } }, { runtimeTelemetry: telemetry });
    const conv = await h.createConversation('alice');
    crashNext();
    await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm1', content: 'boom' });
    const failed = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm2', content: 'again' });
    expect(failed.body.error).toBe('CHAT_ERR_CONVERSATION_FAILED');
    const health = await h.request('GET', '/health/chat');
    expect(health.body.failed_conversations).toEqual([digestOf(conv)]);
    expect(JSON.stringify(health.body)).not.toContain(conv);
  });
});
