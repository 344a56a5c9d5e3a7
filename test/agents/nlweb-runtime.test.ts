import { createChatRuntime } from '../../actors/create-chat-runtime';
import { createAgentsFromConfig } from '../../actors/agents/create-agents-from-config';
import type { ChatMessage, ConversationOutput } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { validateConfig } from '../../config/load-config';
import { MemoryStore } from '../../storage-providers';
import type { NlwebAgent } from '../../actors/agents/nlweb-agent';
import { createHarness } from './standin-harness';

/**
 * The NLWeb participant inside a real runtime (memory journal, system clock) against the real
 * stand-in: what the conversation records and what /ask receives across turns.
 */
const h = createHarness();
let runtime: ChatRuntime | undefined;
let agents: Map<string, NlwebAgent> | undefined;

afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  for (const a of agents?.values() ?? []) a.close();
  agents = undefined;
  await h.closeAll();
});

/** Records a subscriber's messages and lets the test await one matching a predicate. */
function watcher() {
  const messages: ChatMessage[] = [];
  const waiters: { pred: (m: ChatMessage) => boolean; resolve: (m: ChatMessage) => void }[] = [];
  return {
    messages,
    listener(o: ConversationOutput): void {
      if (o.type !== 'message') return;
      messages.push(o.message);
      for (const w of [...waiters]) {
        if (w.pred(o.message)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(o.message);
        }
      }
    },
    next(pred: (m: ChatMessage) => boolean): Promise<ChatMessage> {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

async function start(standinUrl: string) {
  const config = validateConfig({
    observability: { log_level: 'silent' },
    chat: {
      context: { human_messages: 3, nlweb_timeout: 10 },
      nlweb: { endpoints: [{ id: 'nlweb', display_name: 'NLWeb', url: 'standin', auto_join: true }] },
    },
  });
  agents = createAgentsFromConfig(config, { standinUrl });
  runtime = await createChatRuntime({ config, storage: new MemoryStore(), agents });
  const conv = await runtime.createConversation({ created_by: 'alice', title: 'nlweb' });
  const w = watcher();
  await runtime.subscribe(conv.conversation_id, 'alice', w.listener);
  return { rt: runtime, id: conv.conversation_id, w };
}

const answerDone = (id: string) => (m: ChatMessage) =>
  m.sender_id === 'nlweb' && m.metadata.in_reply_to === id && m.metadata.complete === true;

describe('NLWeb participant in a conversation', () => {
  it('streams sequenced nlweb_response messages and sends the conversation context on the next turn', async () => {
    const server = await h.standin({ batches: 2 });
    const { rt, id, w } = await start(server.url);

    await rt.post(id, { sender_id: 'alice', message_id: 'q1', content: 'vegetarian dinner' });
    await w.next(answerDone('q1'));
    const first = w.messages.filter((m) => m.sender_id === 'nlweb' && m.metadata.in_reply_to === 'q1');
    // Two batches; the end message comes with the second, which is therefore marked complete itself.
    expect(first.map((m) => m.message_type)).toEqual(['nlweb_response', 'nlweb_response']);
    expect(first.map((m) => m.metadata.complete)).toEqual([false, true]);
    const seqs = first.map((m) => m.sequence_id);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const firstItems = first.flatMap((m) => m.metadata.items as { name: string; url: string }[]);
    expect(firstItems.length).toBeGreaterThan(1);

    await rt.post(id, { sender_id: 'alice', message_id: 'q2', content: 'something spicy' });
    await w.next(answerDone('q2'));
    const second = server.requests[1]!.params;
    expect(second).toMatchObject({ query: 'something spicy', user_id: 'alice', conversation_id: id });
    expect(JSON.parse(second.prev!)).toEqual(['vegetarian dinner']);
    expect(JSON.parse(second.last_ans!)).toEqual(firstItems.map((i) => ({ title: i.name, url: i.url })));
  });

  it('turns an HTTP error into a visible coded message, and the conversation carries on', async () => {
    const server = await h.standin();
    const { rt, id, w } = await start(server.url);
    server.setBehaviour('error500');
    await rt.post(id, { sender_id: 'alice', message_id: 'bad', content: 'oats' });
    const failed = await w.next((m) => m.message_type === 'agent_job_failed');
    expect(failed.metadata.code).toBe('AGENT_ERR_HTTP');
    server.setBehaviour('normal');
    await rt.post(id, { sender_id: 'alice', message_id: 'good', content: 'oats' });
    const done = await w.next(answerDone('good'));
    expect(done.sequence_id).toBeGreaterThan(failed.sequence_id);
  });

  it('closing the runtime aborts a pending /ask call on the server', async () => {
    const server = await h.standin();
    const { rt, id } = await start(server.url);
    server.setBehaviour('hang');
    await rt.post(id, { sender_id: 'alice', message_id: 'q', content: 'oats' });
    const request = await server.waitForRequest(0);
    await rt.close();
    await expect(request.closed).resolves.toBe('aborted');
  });
});
