/**
 * Frames whose bytes are not UTF-8 (docs/protocol.md, Invalid frames): text and binary alike get the error frame
 * GATEWAY_ERR_MALFORMED_JSON, then close 1007 with the code as its reason, and nothing is posted. Before, ws closed
 * such a text frame with 1007 and an empty reason on its own, and a binary one was decoded with U+FFFD in place of
 * the bad bytes and posted. Real server on port 0, real `ws` clients.
 */
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** `{"type":"message","message_id":<id>,"content":"caf<0xE9>"}`: Latin-1 é, not UTF-8. */
function latin1Message(id: string): Buffer {
  const head = Buffer.from(`{"type":"message","message_id":"${id}","content":"caf`, 'utf8');
  return Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('"}', 'utf8')]);
}

describe('frames that are not UTF-8', () => {
  test.each([
    ['text', false],
    ['binary', true],
  ])('a %s frame: error frame, close 1007 with the code, nothing posted', async (_kind, binary) => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    alice.ws.send(latin1Message('latin1'), { binary });
    expect(await alice.closed).toEqual({ code: 1007, reason: 'GATEWAY_ERR_MALFORMED_JSON' });
    expect(alice.frames.filter((f) => f.type !== 'connected' && f.type !== 'participant_list')).toEqual([
      { type: 'error', error: 'GATEWAY_ERR_MALFORMED_JSON', code: 400, message: 'frame is not valid UTF-8' },
    ]);
    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    expect((history.body as { messages: Array<{ message_id: string }> }).messages.map((m) => m.message_id)).not.toContain('latin1');
  });

  test('UTF-8 text in a binary frame is posted as sent', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    const content = 'café ✓ 😀';
    alice.ws.send(Buffer.from(JSON.stringify({ type: 'message', message_id: 'utf8', content }), 'utf8'), { binary: true });
    const ack = await alice.waitFor('message_ack');
    expect((await alice.waitForSequence(ack.sequence_id)).message.content).toBe(content);
  });
});
