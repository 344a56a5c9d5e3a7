import { createChatRuntime, createCounterIds, createEchoAgent, createManualClock } from '../../actors';
import type { ChatRuntime, CreateConversationInput, ParticipantInput, PostInput } from '../../actors';
import { MemoryStore, SqliteStore, type ChatStore } from '../../storage-providers';
import { settle } from './runtime-helpers';

/**
 * Regression: runtime.post (the embedding API) took an empty or over-long message_id, sequenced and delivered
 * it, and then the store refused the record: every later journal write of the conversation failed for good
 * (the queue retried its head forever, health degraded, unflushed at close). The runtime now refuses, with a
 * coded error and before sequencing, every input its journal could not hold: posts (CHAT_ERR_INVALID_MESSAGE),
 * and the ids, members, title and settings of createConversation / join (CHAT_ERR_INVALID_ARGUMENT).
 */

const STORES: Array<[string, () => ChatStore]> = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore({ path: ':memory:' })],
];

const long = (n: number) => 'x'.repeat(n);
const cyclic = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
};

/** Inputs the type system allows to be wrong only from JavaScript or a cast: that is how embedders get them wrong. */
const loose = <T>(value: Record<string, unknown>) => value as T;

const BAD_POSTS: Array<[string, Record<string, unknown>]> = [
  ['an empty message_id', { message_id: '' }],
  ['a 300-character message_id', { message_id: long(300) }],
  ['a non-string message_id', { message_id: 42 }],
  ['empty content', { content: '' }],
  ['whitespace-only content', { content: ' \n\t ' }],
  ['non-string content', { content: 42 }],
  ['no content', { content: undefined }],
  ['content over max_message_length (100)', { content: long(101) }],
  ['content with a control character', { content: 'bell \u0007' }],
  ['a non-string message_type', { message_type: 7 }],
  ['an empty message_type', { message_type: '' }],
  ['cyclic metadata', { metadata: cyclic() }],
  ['metadata holding a BigInt', { metadata: { n: 10n } }],
  ['metadata that is an array', { metadata: ['a'] }],
  ['metadata that is a string', { metadata: 'note' }],
  ['an empty sender_id', { sender_id: '' }],
  ['a 300-character sender_id', { sender_id: long(300) }],
];

const BAD_MEMBERS: Array<[string, Record<string, unknown>]> = [
  ['an empty participant_id', { participant_id: '' }],
  ['a 300-character participant_id', { participant_id: long(300) }],
  ['a non-string participant_id', { participant_id: 5 }],
  ['an unknown participant_type', { participant_type: 'robot' }],
  ['a non-string display_name', { display_name: { first: 'Bo' } }],
  ['a display_name with a control character', { display_name: 'Bo\u0007b' }],
  ['a display_name with a lone surrogate', { display_name: 'Bo\ud800' }],
  ['an unknown role', { role: 'admin' }],
  ['an empty agent_id', { participant_type: 'ai', agent_id: '' }],
];

const BAD_CREATES: Array<[string, Record<string, unknown>]> = [
  ['an empty conversation_id', { conversation_id: '' }],
  ['a 300-character conversation_id', { conversation_id: long(300) }],
  ['an empty created_by', { created_by: '' }],
  ['a 300-character created_by', { created_by: long(300) }],
  ['a non-string title', { title: 12 }],
  ['a title with a control character', { title: 'plans\u001b[2J' }],
  ['a title with a lone surrogate', { title: 'plans \udc00' }],
  ['cyclic settings', { settings: cyclic() }],
  ['settings holding a BigInt', { settings: { n: 1n } }],
  ['settings that are an array', { settings: [1] }],
  ['participants that are not an array', { participants: 'bob' }],
  ['a participant with an empty id', { participants: [{ participant_id: '', participant_type: 'human' }] }],
];

describe.each(STORES)('runtime input the journal cannot hold is refused (%s)', (_name, makeStore) => {
  let runtime: ChatRuntime;
  let store: ChatStore;

  beforeEach(async () => {
    store = makeStore();
    runtime = await createChatRuntime({
      config: { observability: { log_level: 'silent' }, chat: { limits: { max_message_length: 100 } } },
      storage: store,
      agents: [createEchoAgent()],
      clock: createManualClock(),
      ids: createCounterIds('c'),
    });
    await runtime.createConversation({
      conversation_id: 'c1',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
  });

  afterEach(async () => {
    await runtime.close();
    await store.close();
  });

  /** The journal still takes writes: a good post is stored, health stays healthy, close flushes everything. */
  async function expectJournalWorking(): Promise<void> {
    const good = await runtime.post('c1', { sender_id: 'alice', message_id: 'good', content: 'still here' });
    await good.whenPersisted;
    await settle();
    expect(await store.lastSequenceId('c1')).toBe(good.sequence_id);
    expect(runtime.health()).toMatchObject({ status: 'healthy', persistence_lag: 0 });
  }

  test.each(BAD_POSTS)('post with %s: CHAT_ERR_INVALID_MESSAGE, nothing sequenced', async (_what, change) => {
    const before = (await runtime.getConversation('c1')).last_sequence_id;
    const post = loose<PostInput>({ sender_id: 'alice', message_id: 'm1', content: 'hello', ...change });
    await expect(runtime.post('c1', post)).rejects.toMatchObject({ name: 'ChatError', code: 'CHAT_ERR_INVALID_MESSAGE' });
    expect((await runtime.getConversation('c1')).last_sequence_id).toBe(before);
    await expectJournalWorking();
    expect(await runtime.close()).toEqual({ flushed: true, unflushed: 0 });
  });

  test('a message_id of 256 characters (the store limit) is accepted; one of 257 is not', async () => {
    await expect(runtime.post('c1', { sender_id: 'alice', message_id: long(257), content: 'hi' })).rejects.toMatchObject({
      code: 'CHAT_ERR_INVALID_MESSAGE',
    });
    const posted = await runtime.post('c1', { sender_id: 'alice', message_id: long(256), content: 'hi' });
    await posted.whenPersisted;
    expect((await store.readMessages('c1', posted.sequence_id - 1, 1))[0]).toMatchObject({ message_id: long(256) });
  });

  test.each(BAD_MEMBERS)('join with %s: CHAT_ERR_INVALID_ARGUMENT, nobody joins', async (_what, change) => {
    const before = await runtime.getConversation('c1');
    const member = loose<ParticipantInput>({ participant_id: 'carol', participant_type: 'human', ...change });
    await expect(runtime.join('c1', member)).rejects.toMatchObject({ name: 'ChatError', code: 'CHAT_ERR_INVALID_ARGUMENT' });
    const after = await runtime.getConversation('c1');
    expect([after.last_sequence_id, after.participants]).toEqual([before.last_sequence_id, before.participants]);
    await expectJournalWorking();
  });

  test('subscribe without a listener function: CHAT_ERR_INVALID_ARGUMENT, no subscription, nobody shown online', async () => {
    // It used to subscribe, show bob online, and throw inside the actor at the first output (a warn log line the caller
    // never saw), dropping the subscription.
    for (const listener of [undefined, 'log', {}]) {
      await expect(runtime.subscribe('c1', 'bob', listener as unknown as () => void)).rejects.toMatchObject({
        name: 'ChatError',
        code: 'CHAT_ERR_INVALID_ARGUMENT',
        message: 'listener must be a function (output) => void',
      });
    }
    expect((await runtime.getConversation('c1')).online).toEqual([]);
    await expectJournalWorking();
  });

  test.each(BAD_CREATES)('createConversation with %s: CHAT_ERR_INVALID_ARGUMENT, nothing created', async (_what, change) => {
    const input = loose<CreateConversationInput>({ conversation_id: 'c2', created_by: 'alice', ...change });
    await expect(runtime.createConversation(input)).rejects.toMatchObject({ name: 'ChatError', code: 'CHAT_ERR_INVALID_ARGUMENT' });
    expect(await store.getConversation('c2')).toBeUndefined();
    expect(runtime.health().conversations).toBe(1);
    await expectJournalWorking();
  });
});

describe('createChatRuntime refuses a storage option that is not a store', () => {
  test.each([
    ['the config shape', { backend: 'sqlite' }],
    ['a backend name', 'sqlite'],
    ['a store class instead of an instance', SqliteStore],
  ])('%s: CONFIG_ERR_INVALID naming storage, before anything opens', async (_what, storage) => {
    // It failed with a TypeError, "store.open is not a function".
    await expect(
      createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: storage as unknown as ChatStore }),
    ).rejects.toMatchObject({
      code: 'CONFIG_ERR_INVALID',
      details: {
        problems: [
          {
            path: 'storage',
            message:
              'must be a ChatStore, e.g. new SqliteStore({ path }) from nlweb-chat/storage-providers ' +
              '(to pick a backend by name, leave storage out and set config.chat.storage.backend)',
          },
        ],
      },
    });
  });
});
