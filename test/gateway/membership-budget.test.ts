import { createManualClock } from '../../actors/clock';
import { captureAudit } from '../observability/audit-lines';
import { closeAll, invalidFrames, startHarness } from './harness';
import { upgradeRefusal } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const REFUSAL = {
  error: 'GATEWAY_ERR_RATE_LIMITED',
  code: 429,
  message: 'too many joins and leaves; retry later (chat.limits.membership_changes_per_second)',
};

/** A server whose users may make 3 membership changes at once, then 1 a second, on a manual clock; its audit lines kept. */
async function startWithBudgetOf3() {
  const clock = createManualClock();
  const captured = captureAudit(() => clock.now());
  const h = await startHarness(
    { chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 3 } } },
    { clock, ...captured.harnessOptions },
  );
  return { clock, captured, h };
}

describe('chat.limits.membership_changes_per_second: a per-user budget for joins and leaves', () => {
  test('every join and leave route spends one bucket per user; past it 429 with Retry-After and a rate_limit.hit line, nothing changes, the room hears nothing', async () => {
    const { clock, captured, h } = await startWithBudgetOf3();
    const conv = await h.createConversation('alice');
    const other = await h.createConversation('dave');
    const alice = await h.connect(conv, 'alice');
    await alice.waitFor('connected');

    // bob: join, leave, join (the NLWeb alias): three changes, the burst.
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/${conv}/join`, 'bob')).status).toBe(200);
    // Every other membership route, in this conversation or another, is refused now.
    for (const [method, path] of [
      ['DELETE', `/chat/${conv}/leave`],
      ['DELETE', `/chat/conversations/${conv}/participants/me`],
      ['POST', `/chat/conversations/${conv}/leave`],
      ['POST', `/chat/conversations/${other}/join`],
    ] as const) {
      const refused = await h.request(method, path, 'bob');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body).toEqual({ ...REFUSAL, retry_after_ms: 1000 });
    }
    // bob is still a member (the refused leaves changed nothing), and not one of dave's conversation.
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'bob']);
    expect((await h.runtime.getConversation(other)).participants.map((p) => p.participant_id)).toEqual(['dave']);
    // Posts and reads have budgets of their own; carol has a membership bucket of her own.
    expect(
      (await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'still here' })).status,
    ).toBe(201);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'carol')).status).toBe(200);

    // alice's socket heard three changes of bob, then carol's join; bob's message comes after all of them.
    await alice.waitFor('message', (f) => f.message.message_id === 'b1');
    await alice.waitFor('participant_update', (f) => f.participant.participant_id === 'carol');
    const updates = alice.frames.flatMap((f) => (f.type === 'participant_update' ? [`${f.action} ${f.participant.participant_id}`] : []));
    expect(updates).toEqual(['join bob', 'leave bob', 'join bob', 'join carol']);

    // One audit line per route refused in the 10 s window (throttled per actor and route, whatever the conversation).
    expect(captured.events('rate_limit.hit')).toEqual([
      ['bob', conv, { action: 'DELETE /chat/{id}/leave', suppressed: 0 }],
      ['bob', conv, { action: 'DELETE /chat/conversations/{id}/participants/me', suppressed: 0 }],
      ['bob', conv, { action: 'POST /chat/conversations/{id}/leave', suppressed: 0 }],
      ['bob', other, { action: 'POST /chat/conversations/{id}/join', suppressed: 0 }],
    ]);

    // The injected clock refills one token a second.
    clock.advance(999);
    expect((await h.request('DELETE', `/chat/${conv}/leave`, 'bob')).status).toBe(429);
    clock.advance(1);
    expect((await h.request('DELETE', `/chat/${conv}/leave`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(429);
  });

  test('a join of a conversation that does not exist spends a token (404); a caller refused 401 or 400 spends none', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 2 } } }, { clock });
    const conv = await h.createConversation('alice');
    for (let i = 0; i < 3; i++) expect((await h.request('POST', `/chat/conversations/${conv}/join`)).status).toBe(401);
    expect((await h.request('POST', `/chat/conversations/${'x'.repeat(129)}/join`, 'bob')).status).toBe(400);
    expect((await h.request('POST', '/chat/conversations/no-such-conversation/join', 'bob')).status).toBe(404);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    expect((await h.request('POST', '/chat/conversations/another-guess/join', 'bob')).status).toBe(429);
  });

  test('a WebSocket join (?join=true) and leave frame spend the same bucket: a join past it is refused 429 before the upgrade, a leave answered by an error frame on a socket that stays', async () => {
    const { clock, captured, h } = await startWithBudgetOf3();
    const conv = await h.createConversation('alice');
    // An HTTP join and leave, a WebSocket join, and a second socket of the member asking join=true (no change, free).
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
    const bob = await h.connect(conv, 'bob', { join: 'true' });
    await bob.waitFor('connected');
    const bobAgain = await h.connect(conv, 'bob', { join: 'true' });
    await bobAgain.waitFor('connected');

    // The bucket is empty: bob's leave frame is refused and he stays, his socket open.
    bob.send({ type: 'leave' });
    const refused = await bob.waitFor('error');
    expect(refused).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', code: 429, message: REFUSAL.message, retry_after_ms: 1000 });
    bob.send({ type: 'message', message_id: 'b1', content: 'still in' });
    await bob.waitFor('message_ack', (f) => f.message_id === 'b1');
    // carol spends her bucket over HTTP (a 404 join included) and is no member: her WebSocket join is refused as HTTP's is.
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'carol')).status).toBe(200);
    expect((await h.request('DELETE', `/chat/${conv}/leave`, 'carol')).status).toBe(200);
    expect((await h.request('POST', '/chat/no-such-conversation/join', 'carol')).status).toBe(404);
    const refusedJoin = await upgradeRefusal(h.wsUrl(conv, 'carol', { join: 'true' }));
    expect(refusedJoin.status).toBe(429);
    expect(refusedJoin.headers['retry-after']).toBe('1');
    expect(refusedJoin.body).toEqual({ ...REFUSAL, retry_after_ms: 1000 });
    clock.advance(1000);
    bob.send({ type: 'leave' });
    expect((await bob.closed).code).toBe(1000);
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);
    expect(captured.events('rate_limit.hit')).toEqual([
      ['bob', conv, { suppressed: 0 }],
      ['carol', conv, { action: 'ws connect join=true', suppressed: 0 }],
    ]);
  });

  test('the defaults (1 per second, burst 20): twenty changes at once, the 21st waits a second', async () => {
    const clock = createManualClock();
    const h = await startHarness({}, { clock });
    expect(h.config.chat.limits).toMatchObject({ membership_changes_per_second: 1, membership_changes_burst: 20 });
    const conv = await h.createConversation('alice');
    for (let i = 0; i < 10; i++) {
      expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
      expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
    }
    const refused = await h.request('POST', `/chat/conversations/${conv}/join`, 'bob');
    expect(refused.status).toBe(429);
    expect(refused.body.retry_after_ms).toBe(1000);
  });
});
