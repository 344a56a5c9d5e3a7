import { createManualClock } from '../../actors/clock';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

describe('chat.limits.reads_per_second: a per-user budget for the HTTP read routes', () => {
  test('past the burst every GET route is 429 GATEWAY_ERR_RATE_LIMITED with Retry-After; other users and posts are not affected; the clock refills it', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { reads_per_second: 2, reads_burst: 3 } } }, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    expect((await h.request('GET', '/chat/conversations', 'alice')).status).toBe(200);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(200);
    expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice')).status).toBe(200);
    for (const path of [`/chat/conversations/${conv}/messages?after=0`, `/chat/conversations/${conv}`, '/chat/my-conversations']) {
      const refused = await h.request('GET', path, 'alice');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toEqual({
        error: 'GATEWAY_ERR_RATE_LIMITED',
        code: 429,
        message: 'too many reads; retry later (chat.limits.reads_per_second)',
        retry_after_ms: 500,
      });
    }
    // Bob has a bucket of his own; alice's posts spend the message budget, not the read budget.
    expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'bob')).status).toBe(200);
    const posted = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm1', content: 'hi' });
    expect(posted.status).toBe(201);
    clock.advance(499);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(429);
    clock.advance(1);
    const page = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: { message_id: string }) => m.message_id)).toContain('m1');
    expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice')).status).toBe(429);
  });

  test('POST .../read spends the same budget (it counts unread records): past the burst it is 429 and the position is not raised', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { reads_per_second: 1, reads_burst: 2 } } }, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'hi' });
    const marked = await h.request('POST', `/chat/conversations/${conv}/read`, 'alice', { sequence_id: 1 });
    expect(marked.status).toBe(200);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(200);
    const refused = await h.request('POST', `/chat/conversations/${conv}/read`, 'alice', { sequence_id: 100 });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      error: 'GATEWAY_ERR_RATE_LIMITED',
      message: 'too many reads; retry later (chat.limits.reads_per_second)',
    });
    clock.advance(1000);
    const summary = await h.request('GET', `/chat/conversations/${conv}`, 'alice');
    expect(summary.body).toMatchObject({ read_up_to: marked.body.read_up_to, unread_count: 1 });
  });

  test('an unauthenticated read is refused 401 without spending anybody’s budget', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { reads_per_second: 1, reads_burst: 1 } } }, { clock });
    for (let i = 0; i < 3; i++) expect((await h.request('GET', '/chat/conversations')).status).toBe(401);
    expect((await h.request('GET', '/chat/conversations', 'alice')).status).toBe(200);
  });

  test('the defaults (50 per second, burst 200) let a reader page through 200 requests at once', async () => {
    const clock = createManualClock();
    const h = await startHarness({}, { clock });
    expect(h.config.chat.limits).toMatchObject({ reads_per_second: 50, reads_burst: 200 });
    const conv = await h.createConversation('alice');
    for (let i = 0; i < 200; i++) expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice')).status).toBe(200);
    const refused = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    expect(refused.status).toBe(429);
    expect(refused.body.retry_after_ms).toBe(20);
  });
});
