/**
 * One id is one participant of one type in a conversation. A create that names an id both as a human (the creator,
 * or in `participants`) and as an AI participant (in `agents`, or `participant_type: "ai"`) used to keep the first
 * and silently drop the other: the agent the caller asked for was not there. Now it is refused, naming the id, on
 * both create paths and in the runtime. Real server on port 0.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

const CREATE_PATHS = ['/chat/conversations', '/chat/create'];

describe('creating a conversation that names one id as a human and as an AI participant', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({}, { agents: [createEchoAgent()] });
  });

  const conflicts: [string, string, Record<string, unknown>][] = [
    ['the creator is also in agents', 'echo', { agents: ['echo'] }],
    ['a human participant is also in agents', 'alice', { participants: [{ participant_id: 'echo' }], agents: ['echo'] }],
    ["NLWeb's participants: [{user_id}] and agents", 'alice', { participants: [{ user_id: 'echo', name: 'Echo' }], agents: ['echo'] }],
    [
      'one participant id listed as human and as ai',
      'alice',
      {
        participants: [
          { participant_id: 'echo', participant_type: 'human' },
          { participant_id: 'echo', participant_type: 'ai' },
        ],
      },
    ],
    ['the creator listed as an ai participant', 'echo', { participants: [{ participant_id: 'echo', participant_type: 'ai' }] }],
  ];

  test.each(conflicts)('%s: 400 CHAT_ERR_PARTICIPANT_ID_CONFLICT naming the id, nothing created', async (_name, caller, body) => {
    for (const path of CREATE_PATHS) {
      const res = await h.request('POST', path, caller, { conversation_id: 'c1', auto_join_agents: false, ...body });
      expect({ path, status: res.status, error: res.body.error, code: res.body.code }).toEqual({
        path,
        status: 400,
        error: 'CHAT_ERR_PARTICIPANT_ID_CONFLICT',
        code: 400,
      });
      expect(res.body.message).toContain('"echo"');
    }
    expect((await h.request('GET', '/chat/conversations/c1', caller)).body.error).toBe('CHAT_ERR_NOT_FOUND');
  });

  test('an id repeated with the same type still counts once', async () => {
    for (const path of CREATE_PATHS) {
      const res = await h.request('POST', path, 'alice', {
        participants: [{ participant_id: 'alice' }, { participant_id: 'bob' }, { user_id: 'bob' }],
        agents: ['echo', 'echo'],
        auto_join_agents: false,
      });
      expect(res.status).toBe(201);
      const members = res.body.participants.map(
        (p: { participant_id: string; participant_type: string }) => `${p.participant_id}:${p.participant_type}`,
      );
      expect(members.sort()).toEqual(['alice:human', 'bob:human', 'echo:ai']);
    }
  });

  test('runtime.createConversation refuses the same, naming the id', async () => {
    await expect(
      h.runtime.createConversation({
        conversation_id: 'r1',
        created_by: 'echo',
        participants: [{ participant_id: 'echo', participant_type: 'ai' }],
      }),
    ).rejects.toMatchObject({ code: 'CHAT_ERR_PARTICIPANT_ID_CONFLICT', message: expect.stringContaining('"echo"') });
    await expect(h.runtime.getConversation('r1')).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_FOUND' });
  });
});
