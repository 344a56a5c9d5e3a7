import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/** Metadata whose JSON is exactly `bytes` bytes: {"note":"xxx…"}. */
const metadataOf = (bytes: number): Record<string, string> => ({ note: 'x'.repeat(bytes - '{"note":""}'.length) });

describe('chat.limits.max_metadata_bytes', () => {
  test('a post whose metadata is over the bound (8192 bytes of JSON by default) is refused, over WebSocket and HTTP; at it, accepted', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'big', content: 'hi', metadata: metadataOf(8193) });
    expect(await alice.waitFor('error')).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_INVALID_FRAME',
      code: 400,
      message: 'metadata is 8193 bytes as JSON, over chat.limits.max_metadata_bytes (8192)',
      reply_to: 'message',
      message_id: 'big',
    });
    alice.send({ type: 'message', message_id: 'fits', content: 'hi', metadata: metadataOf(8192) });
    expect((await alice.waitFor('message_ack')).message_id).toBe('fits');
    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'big-http',
      content: 'hi',
      metadata: metadataOf(8193),
    });
    expect(http).toMatchObject({
      status: 400,
      body: { error: 'GATEWAY_ERR_BAD_REQUEST', message: 'metadata is 8193 bytes as JSON, over chat.limits.max_metadata_bytes (8192)' },
    });
    // Nothing of the refused posts was sequenced.
    const page = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    expect(page.body.messages.map((m: { message_id: string }) => m.message_id)).toEqual(['join-1', 'fits']);
  });

  test('bytes, not characters: three-byte characters count three times; 0 lifts the bound', async () => {
    const h = await startHarness({ chat: { limits: { max_metadata_bytes: 100 } } });
    const conv = await h.createConversation('alice');
    const euros = { note: '€'.repeat(30) }; // 30 characters, 90 bytes + 11 of JSON
    const refused = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'e',
      content: 'hi',
      metadata: euros,
    });
    expect(refused.body.message).toBe('metadata is 101 bytes as JSON, over chat.limits.max_metadata_bytes (100)');
    const open = await startHarness({ chat: { limits: { max_metadata_bytes: 0 } } });
    const conv2 = await open.createConversation('alice');
    const big = await open.request('POST', `/chat/conversations/${conv2}/messages`, 'alice', {
      message_id: 'b',
      content: 'hi',
      metadata: metadataOf(60_000),
    });
    expect(big.status).toBe(201);
  });
});
