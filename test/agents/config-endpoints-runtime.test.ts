import { createChatRuntime, type CreateChatRuntimeOptions } from '../../actors/create-chat-runtime';
import type { Agent } from '../../actors/agents/agent';
import type { ChatMessage, ConversationOutput } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import type { ConfigInput } from '../../config';
import { MemoryStore } from '../../storage-providers';
import type { NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { createHarness } from './standin-harness';

/**
 * createChatRuntime reads chat.nlweb.endpoints: without `agents` it builds one NLWeb agent per endpoint (it used to
 * build none, so a configured endpoint silently never answered); agents passed in win by id. Real stand-in, port 0.
 */
const h = createHarness();
let runtime: ChatRuntime | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  await h.closeAll();
});

function config(endpoints: unknown[]): ConfigInput {
  return {
    observability: { log_level: 'silent' },
    chat: { input: { multi_mode_window_ms: 20 }, context: { nlweb_timeout: 10 }, nlweb: { endpoints } } as ConfigInput['chat'],
  };
}

async function start(options: CreateChatRuntimeOptions): Promise<ChatRuntime> {
  runtime = await createChatRuntime({ storage: new MemoryStore(), ...options });
  return runtime;
}

/** Resolves with the first complete answer of each named agent to message `messageId`. */
async function answers(rt: ChatRuntime, conversationId: string, agentIds: string[], post: () => Promise<unknown>) {
  const done = new Map<string, ChatMessage>();
  let finish!: () => void;
  const all = new Promise<void>((resolve) => (finish = resolve));
  await rt.subscribe(conversationId, 'alice', (o: ConversationOutput) => {
    if (o.type !== 'message' || o.message.metadata.complete !== true || !agentIds.includes(o.message.sender_id)) return;
    done.set(o.message.sender_id, o.message);
    if (done.size === agentIds.length) finish();
  });
  await post();
  await all;
  return done;
}

const echoAs = (id: string): Agent => ({
  id,
  displayName: `Own ${id}`,
  wantsTurn: (m) => m.sender_type === 'human',
  async *respond(turn) {
    yield { content: `own answer to ${turn.trigger.content}`, final: true };
  },
});

describe('createChatRuntime builds the agents of chat.nlweb.endpoints', () => {
  let standin: NlwebStandinServer;
  beforeEach(async () => {
    standin = await h.standin();
  });

  it('without `agents`: one per endpoint, auto_join ones join, several endpoints answer in one conversation, close() drops their sockets', async () => {
    const rt = await start({
      config: config([
        { id: 'recipes', display_name: 'Recipes', url: standin.url, auto_join: true },
        { id: 'gear', display_name: 'Gear', url: `${standin.url}/`, auto_join: false },
      ]),
    });
    const conv = await rt.createConversation({ created_by: 'alice', participants: [{ participant_id: 'gear', participant_type: 'ai' }] });
    expect(conv.participants.map((p) => [p.participant_id, p.participant_type, p.display_name])).toEqual([
      ['alice', 'human', 'alice'],
      ['gear', 'ai', 'Gear'],
      ['recipes', 'ai', 'Recipes'],
    ]);
    const done = await answers(rt, conv.conversation_id, ['recipes', 'gear'], () =>
      rt.post(conv.conversation_id, { sender_id: 'alice', message_id: 'q1', content: 'vegetarian tent' }),
    );
    expect([...done.values()].map((m) => m.message_type)).toEqual(['nlweb_response', 'nlweb_response']);
    expect(standin.requests.map((r) => r.params.query_id).sort()).toEqual(['q1.gear', 'q1.recipes']);
    expect(standin.openConnectionCount).toBeGreaterThan(0);

    await rt.close();
    runtime = undefined;
    // The runtime built these agents, so it closes them: their keep-alive sockets go (a leak would hang here).
    await standin.whenNoConnectionOpen();
    expect(standin.openConnectionCount).toBe(0);
  });

  it('refuses an endpoint whose url is "standin" (it starts no stand-in), naming it, before opening the storage', async () => {
    const storage = new MemoryStore();
    const refused = createChatRuntime({ storage, config: config([{ id: 'recipes', url: 'standin' }]) });
    await expect(refused).rejects.toMatchObject({
      code: 'CONFIG_ERR_INVALID',
      message: expect.stringMatching(/endpoint "recipes".*"standin".*nlwebStandinUrl/s),
      details: { problems: [{ path: 'chat.nlweb.endpoints[0].url', message: expect.stringContaining('nlwebStandinUrl') }] },
    });
    expect(storage.isOpen).toBe(false);
  });

  it('with `nlwebStandinUrl`, a "standin" endpoint calls the stand-in the embedder started', async () => {
    const rt = await start({ config: config([{ id: 'nlweb', url: 'standin', auto_join: true }]), nlwebStandinUrl: standin.url });
    const conv = await rt.createConversation({ created_by: 'alice' });
    const done = await answers(rt, conv.conversation_id, ['nlweb'], () =>
      rt.post(conv.conversation_id, { sender_id: 'alice', message_id: 'q1', content: 'tent' }),
    );
    expect(done.get('nlweb')!.message_type).toBe('nlweb_response');
    expect(standin.requests).toHaveLength(1);
  });

  it('with `agents`: a passed agent replaces the endpoint of its id (its url is not checked), the others are built', async () => {
    const rt = await start({
      config: config([
        { id: 'nlweb', url: 'standin', auto_join: true },
        { id: 'gear', url: standin.url, auto_join: true },
      ]),
      agents: [echoAs('nlweb')],
    });
    const conv = await rt.createConversation({ created_by: 'alice' });
    expect(conv.participants.map((p) => [p.participant_id, p.display_name])).toEqual([
      ['alice', 'alice'],
      ['nlweb', 'Own nlweb'],
      ['gear', 'gear'],
    ]);
    const done = await answers(rt, conv.conversation_id, ['nlweb', 'gear'], () =>
      rt.post(conv.conversation_id, { sender_id: 'alice', message_id: 'q1', content: 'tent' }),
    );
    expect(done.get('nlweb')!.content).toBe('own answer to tent');
    expect(done.get('gear')!.message_type).toBe('nlweb_response');
    expect(standin.requests.map((r) => r.params.query_id)).toEqual(['q1.gear']);
  });

  it('still refuses duplicate endpoint ids, also when an agent is passed under that id', async () => {
    await expect(
      createChatRuntime({
        config: config([
          { id: 'a', url: standin.url },
          { id: 'a', url: standin.url },
        ]),
        agents: [echoAs('a')],
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_ERR_INVALID', details: { problems: [{ path: 'chat.nlweb.endpoints[1].id' }] } });
  });
});
