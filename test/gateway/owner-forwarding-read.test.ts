import { createManualClock } from '../../actors/clock';
import type { ChatStore } from '../../storage-providers';
import type { TcpProxy } from '../client/real-server';
import { closeAll, invalidFrames, track } from './harness';
import { startOwnerPair } from './owner-pair';
import { connectClient } from './ws-test-client';

/**
 * Read positions with `chat.ownership.forward`: a mark made at the server that does not hold the conversation, over
 * HTTP (POST /read) or as a `read` frame on a forwarded socket, is the holder's actor's: the holder's sockets hear it
 * and the holder saves it.
 */
describe('read positions marked through the server that does not hold the conversation', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    const invalid = invalidFrames();
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
    expect(invalid).toEqual([]);
  });

  /** The pair, the holder's runtime on a manual clock (saves and announcements wait for it); alice and bob posted 3 records. */
  async function start() {
    const runtimeClock = createManualClock();
    const settings = { chat: { read_positions: { announce_interval_ms: 1000, save_interval_ms: 2000 } } };
    const pair = await startOwnerPair(settings, { holder: { runtimeClock } });
    proxies.push(pair.proxy);
    const conv = await pair.holder.createConversation('alice', ['bob']);
    const alice = await pair.holder.connect(conv, 'alice');
    await alice.waitFor('participant_list');
    for (let i = 1; i <= 3; i++) alice.send({ type: 'message', message_id: `a${i}`, content: `line ${i}` });
    const last = (await alice.waitFor('message', (f) => f.message.message_id === 'a3')).message.sequence_id;
    return { ...pair, runtimeClock, conv, alice, last };
  }

  test("POST /read at the other server reaches the holder's actor: its sockets get the read frame, the position is saved", async () => {
    const { holder, other, runtimeClock, conv, alice, last } = await start();
    const marked = await other.request('POST', `/chat/conversations/${conv}/read`, 'bob', { sequence_id: last - 1 });
    expect([marked.status, marked.body]).toEqual([200, { conversation_id: conv, read_up_to: last - 1, unread_count: 1 }]);
    await alice.waitFor('read', (f) => f.participant_id === 'bob' && f.sequence_id === last - 1);
    expect((await holder.request('GET', `/chat/conversations/${conv}`, 'bob')).body).toMatchObject({
      read_up_to: last - 1,
      unread_count: 1,
    });
    // The holder writes it at its save interval; the other server never took the conversation.
    const saved = nextSave(holder.store);
    runtimeClock.advance(2000);
    await saved;
    expect((await holder.store.getReadPositions(conv)).get('bob')).toBe(last - 1);
    await expect(other.runtime.getConversation(conv)).rejects.toMatchObject({ code: 'CHAT_ERR_OWNED_ELSEWHERE' });
  });

  test('a read frame on a socket forwarded to the holder marks the position there', async () => {
    const { holder, other, runtimeClock, conv, alice, last } = await start();
    const bob = track(await connectClient(other.wsUrl(conv, 'bob')));
    await bob.waitFor('participant_list');
    bob.send({ type: 'read', sequence_id: last });
    await alice.waitFor('read', (f) => f.participant_id === 'bob' && f.sequence_id === last);
    await bob.waitFor('read', (f) => f.participant_id === 'bob' && f.sequence_id === last);
    expect((await other.request('GET', `/chat/conversations/${conv}`, 'bob')).body).toMatchObject({ read_up_to: last, unread_count: 0 });
    const saved = nextSave(holder.store);
    runtimeClock.advance(2000);
    await saved;
    expect((await holder.store.getReadPositions(conv)).get('bob')).toBe(last);
  });
});

/** Resolves when `store`'s next saveReadPositions has written (the holder's save timer calls it). */
function nextSave(store: ChatStore): Promise<void> {
  return new Promise((resolve, reject) => {
    const save = store.saveReadPositions.bind(store);
    const spy = jest.spyOn(store, 'saveReadPositions').mockImplementationOnce(async (...args) => {
      spy.mockRestore();
      await save(...args).then(resolve, reject);
    });
  });
}
