/**
 * `history=N` on the WebSocket URL and `history` on a `sync` frame: the last N records, then live, without replaying
 * the whole conversation (docs/protocol.md, Connecting). Real server on port 0, real `ws` clients.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import { postContinuously, refusedAnswer, upgradeOutcome, type TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** A conversation of alice and bob with `posts` posts of alice after the joins; returns it and its last id. */
async function conversationWith(h: Harness, posts: number): Promise<{ conv: string; last: number }> {
  const conv = await h.createConversation('alice', ['bob']);
  let last = 0;
  for (let i = 0; i < posts; i++)
    last = (await h.runtime.post(conv, { sender_id: 'alice', message_id: `m${i}`, content: `post ${i}` })).sequence_id;
  return { conv, last };
}

/** The frame types a client received, records as their ids. */
const stream = (c: TestClient): Array<string | number> => c.frames.map((f) => (f.type === 'message' ? f.message.sequence_id : f.type));

describe('history=N on the WebSocket URL', () => {
  test('without last_sequence_id: connected, participant_list, the last N records, sync_complete with has_earlier, then live', async () => {
    const h = await startHarness();
    const { conv, last } = await conversationWith(h, 30);
    const bob = await h.connect(conv, 'bob', { history: '5' });
    const sync = await bob.waitFor('sync_complete');
    expect(sync).toEqual({ type: 'sync_complete', from: last - 4, to: last, recovered: true, has_earlier: true });
    expect(stream(bob)).toEqual(['connected', 'participant_list', last - 4, last - 3, last - 2, last - 1, last, 'sync_complete']);
    expect(bob.frames[0]).toMatchObject({ type: 'connected', last_sequence_id: last });
    await h.runtime.post(conv, { sender_id: 'alice', message_id: 'live', content: 'live' });
    expect((await bob.waitForSequence(last + 1)).message.message_id).toBe('live');
  });

  test('with last_sequence_id the replay starts after the later of the two, and has_earlier says whether the bound cut', async () => {
    const h = await startHarness();
    const { conv, last } = await conversationWith(h, 30);
    const near = await h.connect(conv, 'bob', { last_sequence_id: String(last - 2), history: '5' });
    expect(await near.waitFor('sync_complete')).toEqual({
      type: 'sync_complete',
      from: last - 1,
      to: last,
      recovered: true,
      has_earlier: false,
    });
    expect(near.sequenceIds()).toEqual([last - 1, last]);
    const far = await h.connect(conv, 'bob', { last_sequence_id: '1', history: '5' });
    expect(await far.waitFor('sync_complete')).toMatchObject({ from: last - 4, has_earlier: true });
    expect(far.sequenceIds()).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
    // Fewer records than the bound: all of them, nothing left out.
    const whole = await h.connect(conv, 'bob', { history: '1000' });
    expect(await whole.waitFor('sync_complete')).toEqual({ type: 'sync_complete', from: 1, to: last, recovered: true, has_earlier: false });
    // Without history, sync_complete is as before.
    const plain = await h.connect(conv, 'bob', { last_sequence_id: String(last - 1) });
    expect(await plain.waitFor('sync_complete')).toEqual({ type: 'sync_complete', from: last, to: last, recovered: true });
  });

  test('no gap and nothing twice at the seam while another member keeps posting', async () => {
    const h = await startHarness({ chat: { limits: { rate_limit_burst: 10_000 } } });
    const { conv } = await conversationWith(h, 200);
    const alice = await h.connect(conv, 'alice');
    const posting = postContinuously(alice);
    await alice.until(() => posting.acked() >= 5);
    const bob = await h.connect(conv, 'bob', { history: '50' });
    const head = (bob.frames[0] as { last_sequence_id: number }).last_sequence_id;
    const sync = await bob.waitFor('sync_complete');
    expect(sync).toEqual({ type: 'sync_complete', from: head - 49, to: head, recovered: true, has_earlier: true });
    await bob.until(() => bob.lastSequenceId() >= head + 10);
    const final = await posting.stop();
    await bob.waitForSequence(final);
    const ids = bob.sequenceIds();
    expect(ids).toEqual(Array.from({ length: final - head + 50 }, (_, i) => head - 49 + i));
    // The replay's records, then sync_complete, then the live ones.
    expect(bob.frames.findIndex((f) => f.type === 'sync_complete')).toBe(2 + 50);
  });

  test.each(['0', '-1', '1.5', 'abc', '', '1001', '99999999999999999999'])(
    'history=%p is a bad request (400 / close 1008)',
    async (value) => {
      const h = await startHarness();
      const conv = await h.createConversation('alice');
      expect(await refusedAnswer(h.wsUrl(conv, 'alice', { history: value }))).toEqual({
        status: 400,
        body: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'history must be an integer from 1 to 1000' },
      });
      expect(await upgradeOutcome(h.wsUrl(conv, 'alice', { history: value }), [REFUSAL_SUBPROTOCOL])).toMatchObject({
        status: 101,
        close: { code: 1008, reason: 'GATEWAY_ERR_BAD_REQUEST' },
      });
    },
  );
});

describe('history on a sync frame', () => {
  test('replaces the subscription with the last N records after last_sequence_id', async () => {
    const h = await startHarness();
    const { conv, last } = await conversationWith(h, 20);
    const bob = await h.connect(conv, 'bob');
    await bob.waitFor('participant_list');
    bob.send({ type: 'sync', last_sequence_id: 0, history: 3 });
    expect(await bob.waitFor('sync_complete')).toEqual({
      type: 'sync_complete',
      from: last - 2,
      to: last,
      recovered: true,
      has_earlier: true,
    });
    expect(stream(bob)).toEqual(['connected', 'participant_list', 'participant_list', last - 2, last - 1, last, 'sync_complete']);
  });

  test.each([0, 1001, 2.5])(
    'history %p fails the frame schema (GATEWAY_ERR_INVALID_FRAME, reply_to sync); the socket stays',
    async (history) => {
      const h = await startHarness();
      const { conv } = await conversationWith(h, 2);
      const bob = await h.connect(conv, 'bob');
      bob.send({ type: 'sync', last_sequence_id: 0, history });
      expect(await bob.waitFor('error')).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', reply_to: 'sync' });
      bob.send({ type: 'ping', ts: 1 });
      expect(await bob.waitFor('pong')).toMatchObject({ ts: 1 });
      expect(bob.frames.some((f) => f.type === 'sync_complete')).toBe(false);
    },
  );
});
