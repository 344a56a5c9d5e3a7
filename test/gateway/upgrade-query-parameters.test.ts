/**
 * The query parameters of the WebSocket URL, as a client writer reads them in docs/protocol.md: `join` takes
 * `true` or `false` and nothing else, so a typo is told apart from a missing membership. Real server on port 0,
 * real `ws` clients.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, invalidFrames, startHarness } from './harness';
import { refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

describe('WebSocket URL query parameters', () => {
  test('join other than true/false is a bad request (400 / close 1008), not a silent "not a participant"', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    for (const value of ['1', 'yes', 'TRUE', '']) {
      expect(await refusedAnswer(h.wsUrl(conv, 'mallory', { join: value }))).toEqual({
        status: 400,
        body: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'join must be true or false' },
      });
      expect(await upgradeOutcome(h.wsUrl(conv, 'mallory', { join: value }), [REFUSAL_SUBPROTOCOL])).toMatchObject({
        status: 101,
        close: { code: 1008, reason: 'GATEWAY_ERR_BAD_REQUEST' },
      });
    }
    // Nobody joined on the way.
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);
  });

  test('last_message_id and last_sender_id: both or neither, only with last_sequence_id, 1 to 1024 characters (the event stream takes the same rule)', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    for (const params of [
      { last_sequence_id: '1', last_message_id: 'm1' },
      { last_sequence_id: '1', last_sender_id: 'alice' },
      { last_message_id: 'm1', last_sender_id: 'alice' },
      { last_sequence_id: '1', last_message_id: 'm'.repeat(1025), last_sender_id: 'alice' },
    ] as Array<Record<string, string>>) {
      expect(await refusedAnswer(h.wsUrl(conv, 'alice', params))).toMatchObject({
        status: 400,
        body: { error: 'GATEWAY_ERR_BAD_REQUEST' },
      });
    }
    const alice = await h.connect(conv, 'alice', { last_sequence_id: '1', last_message_id: 'm1', last_sender_id: 'alice' });
    expect(alice.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
  });

  test('join=false connects a member and refuses a non-member; join=true joins', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice', { join: 'false' });
    expect(alice.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
    expect(await refusedAnswer(h.wsUrl(conv, 'mallory', { join: 'false' }))).toMatchObject({
      status: 403,
      body: { error: 'CHAT_ERR_NOT_PARTICIPANT' },
    });
    const mallory = await h.connect(conv, 'mallory', { join: 'true' });
    expect(mallory.frames[0]).toMatchObject({ type: 'connected', participant_id: 'mallory' });
  });
});

describe('the WebSocket path asked without an upgrade', () => {
  test('GET: 400 saying it takes WebSocket connections (was 404 "no such route"); other methods: 405 with Allow', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const plain = await h.request('GET', `/chat/ws/${conv}`, 'alice');
    expect([plain.status, plain.body]).toEqual([
      400,
      {
        error: 'GATEWAY_ERR_BAD_REQUEST',
        code: 400,
        message: 'this path takes WebSocket connections only: GET with Connection: Upgrade and Upgrade: websocket (docs/protocol.md)',
      },
    ]);
    const posted = await h.request('POST', `/chat/ws/${conv}`, 'alice', {});
    expect([posted.status, posted.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    // The same URL upgraded is the conversation's socket.
    const alice = await h.connect(conv, 'alice');
    expect(alice.frames[0]).toMatchObject({ type: 'connected', conversation_id: conv });
  });
});
