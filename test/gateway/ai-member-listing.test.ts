/**
 * Listing conversations is consistent with the gateway's other refusal of callers under an AI participant's id
 * (ai-impersonation.test.ts): a caller named like an agent sees only the conversations where that id is a HUMAN
 * participant, never those where the agent answers. Real server on port 0, both list paths, JWT and dev mode.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

const LIST_PATHS = ['/chat/conversations', '/chat/my-conversations'];

const idsOf = (body: { conversations: { conversation_id: string }[] }): string[] => body.conversations.map((c) => c.conversation_id);

describe('listing conversations as a caller whose id is an AI participant id', () => {
  test('the agent\'s conversations are not listed for "echo"; its own as a human are; the human owner sees hers', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const withAgent = await h.createConversation('alice', ['bob'], { agents: ['echo'], conversation_id: 'with-agent' });
    const echoAsHuman = await h.createConversation('echo', [], { conversation_id: 'echo-as-human' });
    for (const path of LIST_PATHS) {
      const asEcho = await h.request('GET', path, 'echo');
      expect({ path, status: asEcho.status, ids: idsOf(asEcho.body) }).toEqual({ path, status: 200, ids: [echoAsHuman] });
      const asAlice = await h.request('GET', path, 'alice');
      expect({ path, status: asAlice.status, ids: idsOf(asAlice.body) }).toEqual({ path, status: 200, ids: [withAgent] });
    }
  });

  test('dev mode (?user_id=echo): the same list', async () => {
    const dev = await startHarness({ server: { auth: { mode: 'dev' } } }, { agents: [createEchoAgent()] });
    const { conversation_id: id } = await dev.runtime.createConversation({
      created_by: 'alice',
      participants: [{ participant_id: 'echo', participant_type: 'ai' }],
      autoJoinAgents: false,
    });
    for (const path of LIST_PATHS) {
      const asEcho = await fetch(`${dev.url}${path}?user_id=echo`);
      expect({ path, ids: idsOf((await asEcho.json()) as never) }).toEqual({ path, ids: [] });
      const asAlice = await fetch(`${dev.url}${path}?user_id=alice`);
      expect({ path, ids: idsOf((await asAlice.json()) as never) }).toEqual({ path, ids: [id] });
    }
  });
});
