/**
 * A message_id the runtime already accepted, posted again with other content or metadata: the caller gets
 * CHAT_ERR_MESSAGE_ID_REUSED naming the original sequence id, and nothing accepted changes. A true re-send keeps
 * its duplicate answer. The original is found in the cache, in the journal (older than the cache), or not at all.
 */
import { isChatError, type ChatError } from '../../actors/errors';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { collector, makeRuntime, settle } from './runtime-helpers';

type Runtime = Awaited<ReturnType<typeof makeRuntime>>['runtime'];

async function conversation(options: Parameters<typeof makeRuntime>[0] = {}) {
  const made = await makeRuntime({ agents: [], ...options });
  await made.runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  return made;
}

/** The refusal of a post, as a ChatError (fails the test when the post was answered instead). */
async function refusal(runtime: Runtime, input: Parameters<Runtime['post']>[1]): Promise<ChatError> {
  const outcome = await runtime.post('c', input).then(
    (result) => result,
    (err: unknown) => err,
  );
  if (!isChatError(outcome)) throw new Error(`expected a ChatError, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Posts `input` and expects the duplicate answer naming `sequenceId`. */
async function expectDuplicate(runtime: Runtime, input: Parameters<Runtime['post']>[1], sequenceId: number): Promise<void> {
  await expect(runtime.post('c', input)).resolves.toMatchObject({ duplicate: true, sequence_id: sequenceId });
}

describe('a message_id reused with different content', () => {
  it('is refused with CHAT_ERR_MESSAGE_ID_REUSED naming the original sequence id; nothing is sequenced or delivered', async () => {
    const { runtime, store } = await conversation();
    const bob = collector();
    await runtime.subscribe('c', 'bob', bob.listener);
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    const seen = bob.messages.length;

    const err = await refusal(runtime, { sender_id: 'alice', message_id: 'm1', content: 'hello, edited' });
    expect(err.code).toBe('CHAT_ERR_MESSAGE_ID_REUSED');
    expect(err.details).toEqual({ message_id: 'm1', sequence_id: original.sequence_id });
    expect(err.message).toContain(`sequence ${original.sequence_id}`);

    expect(bob.messages).toHaveLength(seen);
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'next' });
    expect(next.sequence_id).toBe(original.sequence_id + 1);
    await next.whenPersisted;
    const journal = await store.readMessages('c', 0, 100);
    expect(journal.filter((m) => m.message_id === 'm1').map((m) => m.content)).toEqual(['hello']);
    await runtime.close();
  });

  it('keeps the duplicate answer for a true re-send: same content, same metadata in another key order', async () => {
    const { runtime } = await conversation();
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi', metadata: { a: 1, b: { c: [1, 2] } } });
    const again = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi', metadata: { b: { c: [1, 2] }, a: 1 } });
    expect(again).toMatchObject({ duplicate: true, sequence_id: original.sequence_id });
    // No metadata and empty metadata are the same record.
    const plain = await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'plain' });
    await expectDuplicate(runtime, { sender_id: 'alice', message_id: 'm2', content: 'plain', metadata: {} }, plain.sequence_id);
    await runtime.close();
  });

  it('is refused when only the metadata differs, or when metadata is added or left out', async () => {
    const { runtime } = await conversation();
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hi', metadata: { k: 1 } });
    for (const metadata of [{ k: 2 }, { k: 1, extra: true }, undefined]) {
      const err = await refusal(runtime, { sender_id: 'alice', message_id: 'm1', content: 'hi', ...(metadata ? { metadata } : {}) });
      expect(err).toMatchObject({ code: 'CHAT_ERR_MESSAGE_ID_REUSED', details: { sequence_id: original.sequence_id } });
    }
    await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'plain' });
    expect((await refusal(runtime, { sender_id: 'alice', message_id: 'm2', content: 'plain', metadata: { k: 1 } })).code).toBe(
      'CHAT_ERR_MESSAGE_ID_REUSED',
    );
    await runtime.close();
  });

  it('is refused when the reuse arrives in the same turn as the original (one batch)', async () => {
    const { runtime } = await conversation();
    const first = runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'one' });
    const second = runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'two' }).catch((e: unknown) => e);
    const accepted = await first;
    expect(await second).toMatchObject({ code: 'CHAT_ERR_MESSAGE_ID_REUSED', details: { sequence_id: accepted.sequence_id } });
    await runtime.close();
  });

  it('compares with the journal when the original is older than the cache (still in the dedup index)', async () => {
    const { runtime } = await conversation({ config: { chat: { cache: { recent_messages: 2 } } } });
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'old', content: 'first' });
    for (let i = 0; i < 5; i++) await runtime.post('c', { sender_id: 'bob', message_id: `b${i}`, content: 'x' });
    await settle();
    const err = await refusal(runtime, { sender_id: 'alice', message_id: 'old', content: 'second' });
    expect(err).toMatchObject({ code: 'CHAT_ERR_MESSAGE_ID_REUSED', details: { sequence_id: original.sequence_id } });
    await expectDuplicate(runtime, { sender_id: 'alice', message_id: 'old', content: 'first' }, original.sequence_id);
    await runtime.close();
  });

  it('keeps the duplicate answer when the original cannot be read (journal unreachable): nothing to compare with', async () => {
    class UnreadableStore extends MemoryStore {
      unreadable = false;
      protected override async _readMessages(c: string, after: number, limit: number): Promise<ChatMessage[]> {
        if (this.unreadable) throw new Error('journal unreachable');
        return super._readMessages(c, after, limit);
      }
    }
    const store = new UnreadableStore();
    const { runtime } = await conversation({ store, config: { chat: { cache: { recent_messages: 1 } } } });
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'old', content: 'first' });
    await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'x' });
    await settle();
    store.unreadable = true;
    await expectDuplicate(runtime, { sender_id: 'alice', message_id: 'old', content: 'other' }, original.sequence_id);
    await runtime.close();
  });

  it('keeps the duplicate answer for a redacted original: its content is gone, a re-send cannot be told from a reuse', async () => {
    const { runtime } = await conversation();
    const original = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'secret' });
    await original.whenPersisted;
    await runtime.redact('c', { messageIds: ['m1'] });
    await expectDuplicate(runtime, { sender_id: 'alice', message_id: 'm1', content: 'secret' }, original.sequence_id);
    await runtime.close();
  });

  it("an external AI participant's re-send is a duplicate: the chain_depth the runtime adds is not a difference", async () => {
    const { runtime } = await conversation();
    await runtime.join('c', { participant_id: 'bot', participant_type: 'ai', external: true });
    const input = { sender_id: 'bot', message_id: 'a1', content: 'answer', metadata: { chain_depth: 1, note: 'x' } };
    const original = await runtime.post('c', input);
    await expectDuplicate(runtime, { ...input, metadata: { note: 'x', chain_depth: 1 } }, original.sequence_id);
    expect((await refusal(runtime, { ...input, metadata: { chain_depth: 2, note: 'x' } })).code).toBe('CHAT_ERR_MESSAGE_ID_REUSED');
    await runtime.close();
  });
});
