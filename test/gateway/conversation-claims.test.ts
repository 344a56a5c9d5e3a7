import { REFUSAL_SUBPROTOCOL } from '../../client/protocol-frames';
import { MemoryStore } from '../../storage-providers';
import { closeAll, startHarness, type Harness } from './harness';
import { refusedStatus, upgradeOutcome, upgradeRefusal } from './ws-test-client';

/**
 * Two servers on one store, real sockets: a conversation live on one is refused by the other with 421 /
 * close 4421 and the owner's address, and a client of the owner is closed with 4421 when the other takes it over.
 */

describe('two servers on one store', () => {
  afterEach(closeAll);

  async function pair(): Promise<{ a: Harness; b: Harness; store: MemoryStore }> {
    const store = new MemoryStore({ claims: true });
    const ownership = (name: string) => ({ chat: { ownership: { instance_id: name, address: `ws://${name}.example:8000` } } });
    const a = await startHarness(ownership('a'), { store });
    const b = await startHarness(ownership('b'), { store });
    return { a, b, store };
  }

  test('the server that does not hold the conversation answers 421 over HTTP and 4421 on the socket, naming the owner', async () => {
    const { a, b } = await pair();
    const conv = await a.createConversation('alice', ['bob']);

    const http = await b.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=10`, 'bob');
    expect(http.status).toBe(421);
    expect(http.body).toMatchObject({ error: 'CHAT_ERR_OWNED_ELSEWHERE', code: 421, owner_address: 'ws://a.example:8000' });
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const post = await b.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'm1', content: 'hi' });
    expect(post.status).toBe(421);

    expect(await refusedStatus(b.wsUrl(conv, 'bob'))).toBe(421);
    // A plain upgrade refusal says what the HTTP answer says: where, and when to retry.
    const plain = await upgradeRefusal(b.wsUrl(conv, 'bob'));
    expect(plain.status).toBe(421);
    expect(plain.body).toMatchObject({ error: 'CHAT_ERR_OWNED_ELSEWHERE', owner_address: 'ws://a.example:8000' });
    expect((plain.body as { retry_after_ms: number }).retry_after_ms).toBeGreaterThanOrEqual(1000);
    expect(Number(plain.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // On the refusal subprotocol the address follows the code in the close reason (the reference client goes there).
    expect(await upgradeOutcome(b.wsUrl(conv, 'bob'), [REFUSAL_SUBPROTOCOL])).toEqual({
      status: 101,
      protocol: REFUSAL_SUBPROTOCOL,
      frames: [],
      close: { code: 4421, reason: 'CHAT_ERR_OWNED_ELSEWHERE ws://a.example:8000' },
    });

    // The owner serves it as usual, and nothing was posted through b.
    const bob = await a.connect(conv, 'bob');
    const alice = await a.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'a1', content: 'through a' });
    const got = await bob.waitFor('message', (f) => f.message.content === 'through a');
    expect(got.message.sender_id).toBe('alice');
    const history = await a.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'bob');
    expect(history.body.messages.map((m: { content: string }) => m.content)).not.toContain('hi');
  });

  test('when the owner shuts down, the other server takes the conversation over and its clients resume there', async () => {
    const { a, b } = await pair();
    const conv = await a.createConversation('alice', ['bob']);
    const alice = await a.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'a1', content: 'before' });
    await alice.waitFor('message_ack', (f) => f.message_id === 'a1' && f.persisted === true);
    await a.server.close();
    await a.runtime.close({ deadlineMs: 2000 });

    const again = await b.connect(conv, 'alice', { last_sequence_id: '0' });
    const replayed = await again.waitFor('sync_complete');
    expect(replayed).toMatchObject({ recovered: true });
    again.send({ type: 'message', message_id: 'a2', content: 'after' });
    await again.waitFor('message_ack', (f) => f.message_id === 'a2');
    const history = await b.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'alice');
    const contents = history.body.messages.map((m: { content: string }) => m.content);
    expect(contents.filter((c: string) => c === 'before' || c === 'after')).toEqual(['before', 'after']);
    expect(history.body.messages.filter((m: { message_type: string }) => m.message_type === 'lost')).toEqual([]);
  });
});
