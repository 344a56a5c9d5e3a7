import { createEchoAgent } from '../../actors/agents/echo-agent';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

describe('creating a conversation with agents that are not configured', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({}, { agents: [createEchoAgent()] });
  });

  const refusals: [string, Record<string, unknown>, string[]][] = [
    ['agents: ["nope"]', { agents: ['echo', 'nope'] }, ['nope']],
    ['an ai participant named by its id', { participants: [{ participant_id: 'ghost', participant_type: 'ai' }] }, ['ghost']],
    [
      'an ai participant whose agent_id names no agent',
      { participants: [{ participant_id: 'helper', participant_type: 'ai', agent_id: 'nope' }], agents: ['other'] },
      ['nope', 'other'],
    ],
  ];

  test.each(refusals)('%s: 400 GATEWAY_ERR_BAD_REQUEST naming them, on both create paths', async (_name, body, unknown) => {
    for (const path of ['/chat/conversations', '/chat/create']) {
      const res = await h.request('POST', path, 'alice', { conversation_id: 'u1', ...body });
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 400, error: 'GATEWAY_ERR_BAD_REQUEST' });
      for (const id of unknown) expect(res.body.message).toContain(`"${id}"`);
      expect(res.body.message).not.toContain('"echo"');
    }
    expect((await h.request('GET', '/chat/conversations/u1', 'alice')).status).toBe(404);
  });

  test('a configured agent is still accepted, by id and by agent_id', async () => {
    const res = await h.request('POST', '/chat/conversations', 'alice', {
      participants: [{ participant_id: 'helper', participant_type: 'ai', agent_id: 'echo' }],
      agents: ['echo'],
    });
    expect(res.status).toBe(201);
    expect(res.body.participants.map((p: { participant_id: string }) => p.participant_id).sort()).toEqual(['alice', 'echo', 'helper']);
  });
});
