import { createChatRuntime, createManualClock, isChatError, type ChatRuntime, type ConversationOutput } from '../../actors';
import { createNoopTelemetry } from '../../observability/chat-telemetry';
import { MemoryStore } from '../../storage-providers';
import { makeRuntime, settle } from './runtime-helpers';

/** What a post's promise settled with: `ok:<sequence id>` or the error code. */
function outcomeOf(p: Promise<{ sequence_id: number }>): Promise<string> {
  return p.then(
    (r) => `ok:${r.sequence_id}`,
    (e: unknown) => (isChatError(e) ? e.code : String(e)),
  );
}

describe('posts sent while the conversation is in the middle of a step', () => {
  it('a listener that posts and then sets typing during delivery gets the receipt of the record it was delivered', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bot', participant_type: 'human' }],
    });
    let reply: Promise<string> | undefined;
    const delivered = new Map<string, number>();
    // An embedding service's bot answering from its subscription callback: setTyping hands the pending
    // post to the machine while the step that delivered "ping" is still running.
    await runtime.subscribe('c', 'bot', (o: ConversationOutput) => {
      if (o.type !== 'message') return;
      delivered.set(o.message.message_id, o.message.sequence_id);
      if (o.message.content !== 'ping') return;
      reply = outcomeOf(runtime.post('c', { sender_id: 'bot', message_id: 'reply', content: 'pong' }));
      runtime.setTyping('c', 'bot', false);
    });
    await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'ping' });
    expect(reply).toBeDefined();
    expect(await reply).toBe(`ok:${delivered.get('reply')}`);
    await runtime.close();
  });

  it('a machine that crashes before answering a POSTS step answers its posts with the ids they got, and refuses only those it never took', async () => {
    const telemetry = createNoopTelemetry();
    let crashNextDelivery = false;
    const messagesOut = telemetry.messagesOut.bind(telemetry);
    // An effect of the step throws after the records were sequenced and handed over, before the posts were answered.
    telemetry.messagesOut = (n: number) => {
      if (!crashNextDelivery) return messagesOut(n);
      crashNextDelivery = false;
      throw new Error('effect failed');
    };
    const store = new MemoryStore();
    const runtime: ChatRuntime = await createChatRuntime({
      config: { observability: { log_level: 'silent' }, chat: { supervision: { max_restarts: 3 } } },
      storage: store,
      agents: [],
      clock: createManualClock(),
      telemetry,
    });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const seen: number[] = [];
    await runtime.subscribe('c', 'alice', (o: ConversationOutput) => void (o.type === 'message' && seen.push(o.message.sequence_id)));
    crashNextDelivery = true;
    // More posts than one POSTS chunk (LEASE_HEADROOM): the first chunk crashes, the rest meet a restarting conversation.
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => outcomeOf(runtime.post('c', { sender_id: 'alice', message_id: `m${i}`, content: 'x' }))),
    );
    // The crashed chunk's records reached the connection, so they are kept and their callers told their ids.
    expect(outcomes).toEqual([
      ...[2, 3, 4, 5, 6, 7, 8, 9].map((id) => `ok:${id}`),
      ...Array.from({ length: 4 }, () => 'CHAT_ERR_RESTARTING'),
    ]);
    expect(seen).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    await settle();
    expect(await outcomeOf(runtime.post('c', { sender_id: 'alice', message_id: 'after', content: 'x' }))).toBe('ok:10');
    await settle();
    expect((await store.readMessages('c', 1, 100)).map((m) => m.message_id)).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
      'm7',
      'after',
    ]);
    await runtime.close();
  });
});
