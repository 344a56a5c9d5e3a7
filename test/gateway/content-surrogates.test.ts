/**
 * Content that is not well-formed Unicode (a lone UTF-16 surrogate, which JSON's \ud800 escapes can carry) is
 * refused like any other content the rules refuse (docs/protocol.md, Client → server). Accepted, it was delivered
 * as sent but stored by SQLite and PostgreSQL as U+FFFD or refused, so a replay differed from what was seen live and
 * a re-send of it after a restart was taken for a different message (CHAT_ERR_MESSAGE_ID_REUSED). Real server on
 * port 0, real `ws`.
 */
import { isChatError } from '../../actors/errors';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const REASON = 'content is not well-formed Unicode (a lone surrogate)';

describe('lone surrogates in content', () => {
  test('WebSocket: error frame GATEWAY_ERR_CONTENT_INVALID, the socket stays open; HTTP: 400; runtime.post: CHAT_ERR_INVALID_MESSAGE', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    // Written by hand: JSON.stringify would escape the surrogate the same way, this shows the bytes on the wire.
    alice.send('{"type":"message","message_id":"lone","content":"a\\ud800b"}');
    expect(await alice.next('error')).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_CONTENT_INVALID',
      code: 400,
      message: REASON,
      reply_to: 'message',
      message_id: 'lone',
    });
    alice.send('{"type":"message","message_id":"low","content":"\\udc00 trailing"}');
    expect(await alice.next('error')).toMatchObject({ error: 'GATEWAY_ERR_CONTENT_INVALID', message_id: 'low' });

    // A pair is one character (an emoji) and passes, on the same socket.
    alice.send('{"type":"message","message_id":"pair","content":"ok \\ud83d\\ude00"}');
    const ack = await alice.next('message_ack');
    expect((await alice.waitForSequence(ack.sequence_id)).message.content).toBe('ok 😀');

    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', '{"message_id":"h-lone","content":"x\\ud800"}');
    expect([http.status, http.body]).toEqual([400, { error: 'GATEWAY_ERR_CONTENT_INVALID', code: 400, message: REASON }]);

    const refused = await h.runtime
      .post(conv, { sender_id: 'alice', message_id: 'r-lone', content: 'y\udbff' })
      .catch((err: unknown) => err);
    expect(isChatError(refused, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);
    expect((refused as Error).message).toContain(REASON);

    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    const ids = (history.body as { messages: Array<{ message_id: string }> }).messages.map((m) => m.message_id);
    expect(ids.filter((id) => ['lone', 'low', 'h-lone', 'r-lone'].includes(id))).toEqual([]);
  });

  test('a message_id or metadata with one: GATEWAY_ERR_INVALID_FRAME on the socket, 400 GATEWAY_ERR_BAD_REQUEST over HTTP, nothing posted', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    const metadataProblem = 'metadata contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)';
    alice.send('{"type":"message","message_id":"m\\ud800","content":"id"}');
    expect(await alice.next('error')).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_INVALID_FRAME',
      code: 400,
      message: 'message_id contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)',
      reply_to: 'message',
      message_id: 'm\ud800',
    });
    alice.send('{"type":"message","message_id":"meta-value","content":"v","metadata":{"tags":["ok","\\udfff"]}}');
    expect(await alice.next('error')).toMatchObject({
      error: 'GATEWAY_ERR_INVALID_FRAME',
      message: metadataProblem,
      message_id: 'meta-value',
    });
    alice.send('{"type":"message","message_id":"meta-key","content":"k","metadata":{"\\ud800":1}}');
    expect(await alice.next('error')).toMatchObject({
      error: 'GATEWAY_ERR_INVALID_FRAME',
      message: metadataProblem,
      message_id: 'meta-key',
    });

    const http = await h.request(
      'POST',
      `/chat/conversations/${conv}/messages`,
      'alice',
      '{"message_id":"h-meta","content":"x","metadata":{"note":{"deep":"\\ud800"}}}',
    );
    expect([http.status, http.body]).toEqual([400, { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: metadataProblem }]);

    // Pairs pass: an emoji in the id, a key and a value.
    alice.send('{"type":"message","message_id":"\\ud83d\\ude00","content":"pairs","metadata":{"\\ud83d\\ude00":"\\ud83d\\ude00"}}');
    const ack = await alice.next('message_ack');
    expect((await alice.waitForSequence(ack.sequence_id)).message).toMatchObject({ message_id: '😀', metadata: { '😀': '😀' } });

    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    const ids = (history.body as { messages: Array<{ message_id: string }> }).messages.map((m) => m.message_id);
    expect(ids.filter((id) => id !== '😀' && !id.startsWith('join-'))).toEqual([]);
  });

  test('a conversation created with one in its title, a display name or its settings: 400 GATEWAY_ERR_BAD_REQUEST, nothing created', async () => {
    const h = await startHarness();
    const problem = 'request body contains a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)';
    const bodies = [
      '{"title":"trip \\ud800","auto_join_agents":false}',
      '{"participants":[{"participant_id":"bob","display_name":"B\\udc00"}],"auto_join_agents":false}',
      '{"settings":{"site":["\\ud800"]},"auto_join_agents":false}',
    ];
    for (const body of bodies) {
      for (const path of ['/chat/conversations', '/chat/create']) {
        const answer = await h.request('POST', path, 'alice', body);
        expect([path, body, answer.status, answer.body]).toEqual([
          path,
          body,
          400,
          { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: problem },
        ]);
      }
    }
    expect((await h.request('GET', '/chat/conversations', 'alice')).body).toEqual({ conversations: [], next_cursor: null });
  });

  test('a NUL character (U+0000) in a message_id, metadata or a new conversation: refused the same way (PostgreSQL cannot store it)', async () => {
    // Before: accepted and delivered, then PostgreSQL refused the record on every retry (text and jsonb cannot
    // hold U+0000), and nothing of the conversation was stored after it; a title with one was a 400 storage error.
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    alice.send('{"type":"message","message_id":"m\\u0000","content":"id"}');
    expect(await alice.next('error')).toMatchObject({
      error: 'GATEWAY_ERR_INVALID_FRAME',
      message: 'message_id contains a NUL character (U+0000), which PostgreSQL cannot store',
    });
    alice.send('{"type":"message","message_id":"nul-meta","content":"v","metadata":{"note":"a\\u0000b"}}');
    expect(await alice.next('error')).toMatchObject({
      error: 'GATEWAY_ERR_INVALID_FRAME',
      message: 'metadata contains a NUL character (U+0000), which PostgreSQL cannot store',
      message_id: 'nul-meta',
    });
    const created = await h.request('POST', '/chat/conversations', 'alice', '{"title":"a\\u0000b","auto_join_agents":false}');
    expect([created.status, created.body]).toEqual([
      400,
      {
        error: 'GATEWAY_ERR_BAD_REQUEST',
        code: 400,
        message: 'request body contains a NUL character (U+0000), which PostgreSQL cannot store',
      },
    ]);
    const refused = await h.runtime.post(conv, { sender_id: 'alice', message_id: 'r\u0000', content: 'y' }).catch((err: unknown) => err);
    expect(isChatError(refused, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);
  });
});
