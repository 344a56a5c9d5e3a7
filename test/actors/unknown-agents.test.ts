import { isChatError } from '../../actors';
import { makeRuntime } from './runtime-helpers';

/** The error code (and message) a promise rejected with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isChatError(err) ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('AI participants must name a registered agent', () => {
  it('createConversation refuses AI participants naming no registered agent, naming each, and creates nothing', async () => {
    const { runtime } = await makeRuntime();
    const refused = await outcome(
      runtime.createConversation({
        conversation_id: 'c',
        created_by: 'alice',
        participants: [
          { participant_id: 'echo', participant_type: 'ai' },
          { participant_id: 'ghost', participant_type: 'ai' },
          { participant_id: 'helper', participant_type: 'ai', agent_id: 'nope' },
        ],
      }),
    );
    expect(refused).toMatch(/^CHAT_ERR_UNKNOWN_AGENT: /);
    expect(refused).toContain('ghost');
    expect(refused).toContain('nope');
    expect(refused).not.toContain('echo');
    expect(await outcome(runtime.getConversation('c'))).toMatch(/^CHAT_ERR_NOT_FOUND/);
    await runtime.close();
  });

  it('join refuses an AI participant naming no registered agent; a registered one joins', async () => {
    const { runtime } = await makeRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    expect(await outcome(runtime.join('c', { participant_id: 'ghost', participant_type: 'ai' }))).toMatch(
      /^CHAT_ERR_UNKNOWN_AGENT: .*ghost/,
    );
    expect(await outcome(runtime.join('c', { participant_id: 'bot', participant_type: 'ai', agent_id: 'nope' }))).toMatch(
      /^CHAT_ERR_UNKNOWN_AGENT: .*nope/,
    );
    expect(await outcome(runtime.join('c', { participant_id: 'echo', participant_type: 'ai' }))).toBe('ok');
    const summary = await runtime.getConversation('c');
    expect(summary.participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'echo']);
    expect(summary.mode).toBe('single');
    await runtime.close();
  });

  it('an external AI participant (the embedder speaks for it through runtime.post) needs no agent', async () => {
    const { runtime } = await makeRuntime();
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bot', participant_type: 'ai', external: true }],
    });
    await runtime.join('c', { participant_id: 'bot2', participant_type: 'ai', external: true });
    const posted = await runtime.post('c', { sender_id: 'bot', message_id: 'b1', content: 'hello from the embedder' });
    expect(posted.duplicate).toBe(false);
    const summary = await runtime.getConversation('c');
    expect(summary.participants.find((p) => p.participant_id === 'bot')).toMatchObject({ participant_type: 'ai' });
    await runtime.close();
  });
});
