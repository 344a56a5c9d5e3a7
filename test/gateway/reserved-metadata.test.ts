import { RESERVED_METADATA_KEYS } from '../../actors';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

describe('metadata keys the runtime reserves for agent answers', () => {
  test('the reserved list covers the keys an answer record carries', () => {
    expect([...RESERVED_METADATA_KEYS].sort()).toEqual(
      expect.arrayContaining(['chain_depth', 'complete', 'final', 'in_reply_to', 'in_reply_to_sequence', 'job_id', 'part']),
    );
  });

  // Regression: {complete: true, job_id, in_reply_to_sequence: 999} was stored on a human record, faking the end of an
  // agent job for clients and making `replay --check` report answer_before_trigger on a healthy journal.
  test('an HTTP post carrying one is refused with 400 GATEWAY_ERR_BAD_REQUEST naming the key, and nothing is stored', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    for (const key of RESERVED_METADATA_KEYS) {
      const res = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
        message_id: `m-${key}`,
        content: 'hi',
        metadata: { topic: 'x', [key]: 1 },
      });
      expect({ key, status: res.status, error: res.body.error }).toEqual({ key, status: 400, error: 'GATEWAY_ERR_BAD_REQUEST' });
      expect(res.body.message).toContain(`"${key}"`);
    }
    const fake = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'fake',
      content: 'hi',
      metadata: { complete: true, job_id: 'fake', in_reply_to_sequence: 999 },
    });
    expect(fake.status).toBe(400);
    const ok = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'fine',
      content: 'hi',
      metadata: { topic: 'x', reply_to: 'm0' },
    });
    expect(ok.status).toBe(201);
    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    const posts = history.body.messages.filter((m: { sender_type: string }) => m.sender_type === 'human');
    expect(posts.map((m: { message_id: string; metadata: unknown }) => [m.message_id, m.metadata])).toEqual([
      ['fine', { topic: 'x', reply_to: 'm0' }],
    ]);
  });

  test('a WebSocket message frame carrying one gets a GATEWAY_ERR_INVALID_FRAME error frame with its message_id', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const c = await h.connect(conv, 'alice');
    c.send({ type: 'message', message_id: 'fake', content: 'hi', metadata: { complete: true, job_id: 'fake', in_reply_to_sequence: 999 } });
    const error = await c.waitFor('error', (e) => e.message_id === 'fake');
    expect(error).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', code: 400 });
    expect(error.message).toMatch(/"complete"/);
    c.send({ type: 'message', message_id: 'ok', content: 'still here', metadata: { topic: 'x' } });
    const ack = await c.waitFor('message_ack', (a) => a.message_id === 'ok');
    const record = await c.waitForSequence(ack.sequence_id);
    expect(record.message.metadata).toEqual({ topic: 'x' });
    expect(c.frames.some((f) => f.type === 'message' && f.message.message_id === 'fake')).toBe(false);
  });
});
