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

describe('runtime.post and the metadata keys reserved for agent answers', () => {
  it('refuses a human post carrying one (CHAT_ERR_INVALID_MESSAGE naming the keys) and sequences nothing', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const before = (await runtime.getConversation('c')).last_sequence_id;
    const refused = await outcome(
      runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi', metadata: { complete: true, job_id: 'fake' } }),
    );
    expect(refused).toMatch(/^CHAT_ERR_INVALID_MESSAGE: .*"job_id", "complete"/);
    expect((await runtime.getConversation('c')).last_sequence_id).toBe(before);
    expect(await outcome(runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'hi', metadata: { topic: 'x' } }))).toBe('ok');
    await runtime.close();
  });

  it('lets an AI participant the embedder speaks for carry chain_depth (its hop count), as before', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bot', participant_type: 'ai', external: true }],
    });
    const posted = await runtime.post('c', { sender_id: 'bot', message_id: 'b1', content: 'hi', metadata: { chain_depth: 2 } });
    const page = await runtime.readHistoryPage('c', posted.sequence_id - 1, 1, 'alice');
    expect(page.messages[0].metadata).toMatchObject({ chain_depth: 3 });
    await runtime.close();
  });
});
