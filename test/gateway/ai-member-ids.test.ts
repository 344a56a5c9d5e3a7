/**
 * Under which id a member may add an AI participant (POST /chat/conversations/{id}/participants): a member who is
 * not the owner only under its agent's own id and name, the owner under any id (docs/security.md "Adding and
 * removing members"). Before, any member could add an AI under a human's id (say `dave`), and the real dave was
 * then refused on every route of the conversation, his id being an AI participant's. Real server on port 0.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const participants = (conv: string) => `/chat/conversations/${conv}/participants`;

describe('a member who is not the owner adds an AI only under its agent’s own id', () => {
  test('bob adding AI "dave" (agent echo) is refused 403 CHAT_ERR_FORBIDDEN, and the real dave can still join and connect', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob']);

    const squat = await h.request('POST', participants(conv), 'bob', {
      participant_id: 'dave',
      participant_type: 'ai',
      agent_id: 'echo',
      display_name: 'Dave',
    });
    expect([squat.status, squat.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
    expect(squat.body.message).toContain('only the owner');
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).not.toContain('dave');

    const join = await h.request('POST', `/chat/conversations/${conv}/join`, 'dave');
    expect(join.status).toBe(200);
    expect(join.body.participant).toMatchObject({ participant_id: 'dave', participant_type: 'human' });
    const dave = await h.connect(conv, 'dave');
    await dave.waitFor('connected');
  });

  test('bob adds agent echo as "echo": 200 under the agent’s configured name; a name of his choosing is refused 403', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob']);

    const renamed = await h.request('POST', participants(conv), 'bob', {
      participant_id: 'echo',
      participant_type: 'ai',
      display_name: 'Alice',
    });
    expect([renamed.status, renamed.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
    expect(renamed.body.message).toContain('Echo');

    const added = await h.request('POST', participants(conv), 'bob', {
      participant_id: 'echo',
      participant_type: 'ai',
      agent_id: 'echo',
    });
    expect(added.status).toBe(200);
    expect(added.body.participant).toMatchObject({ participant_id: 'echo', agent_id: 'echo', display_name: 'Echo' });
  });

  test('the owner adds AI "helper-2" answered by agent echo, under a name of its choosing', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob']);

    const added = await h.request('POST', participants(conv), 'alice', {
      participant_id: 'helper-2',
      participant_type: 'ai',
      agent_id: 'echo',
      display_name: 'Helper two',
    });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      added_by: 'alice',
      participant: { participant_id: 'helper-2', participant_type: 'ai', agent_id: 'echo', display_name: 'Helper two' },
    });
  });
});
