import { closeAll, invalidFrames, startHarness } from './harness';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** The presence frames a client received, as [participant_id, online]. */
const presenceOf = (c: TestClient): Array<[string, boolean]> =>
  c.frames.flatMap((f) => (f.type === 'presence' ? [[f.participant_id, f.online] as [string, boolean]] : []));

/** `sender` posts and `receiver` gets it: every frame the runtime sent `receiver` before that post has arrived. */
async function barrier(receiver: TestClient, sender: TestClient, id: string): Promise<void> {
  sender.send({ type: 'message', message_id: id, content: id });
  await receiver.waitFor('message', (f) => f.message.message_id === id);
}

describe('presence over WebSockets', () => {
  it('bob sees alice come online and go offline; a new connection learns who is online', async () => {
    const h = await startHarness({ chat: { presence: { offline_grace_s: 0 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const bob = await h.connect(conv, 'bob');
    expect((await bob.waitFor('participant_list')).online).toEqual(['bob']);

    const alice = await h.connect(conv, 'alice');
    expect([...(await alice.waitFor('participant_list')).online].sort()).toEqual(['alice', 'bob']);
    await bob.waitFor('presence', (f) => f.participant_id === 'alice' && f.online);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'bob')).body.online.sort()).toEqual(['alice', 'bob']);

    await alice.close();
    await bob.waitFor('presence', (f) => f.participant_id === 'alice' && !f.online);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'bob')).body.online).toEqual(['bob']);

    const bobTab2 = await h.connect(conv, 'bob');
    expect((await bobTab2.waitFor('participant_list')).online).toEqual(['bob']);
    expect(presenceOf(bob)).toEqual([
      ['alice', true],
      ['alice', false],
    ]);
    // Nobody is told about themselves: their participant_list says it.
    expect(presenceOf(alice)).toEqual([]);
    expect(presenceOf(bobTab2)).toEqual([]);
  });

  it('a page reload inside the grace shows the others no change', async () => {
    const h = await startHarness();
    expect(h.config.chat.presence.offline_grace_s).toBe(5);
    const conv = await h.createConversation('alice', ['bob']);
    const bob = await h.connect(conv, 'bob');
    const alice = await h.connect(conv, 'alice');
    await bob.waitFor('presence', (f) => f.participant_id === 'alice');
    await alice.close();
    const reloaded = await h.connect(conv, 'alice');
    await reloaded.waitFor('participant_list');
    await barrier(bob, reloaded, 'after-reload');
    expect(presenceOf(bob)).toEqual([['alice', true]]);
  });

  it('a sync frame (the subscription replaced) is no flap even without a grace', async () => {
    const h = await startHarness({ chat: { presence: { offline_grace_s: 0 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const bob = await h.connect(conv, 'bob');
    const alice = await h.connect(conv, 'alice');
    await bob.waitFor('presence', (f) => f.participant_id === 'alice');
    alice.send({ type: 'sync', last_sequence_id: 0 });
    await alice.waitFor('sync_complete');
    await barrier(bob, alice, 'after-sync');
    expect(presenceOf(bob)).toEqual([['alice', true]]);
  });
});
