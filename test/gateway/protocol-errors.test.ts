import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { healthConversationKey } from '../../gateway/health-conversation-keys';
import { closeAll, invalidFrames, JWT_SECRET, startHarness, track } from './harness';
import { refusedStatus, TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** A MemoryStore whose journal writes wait while the gate is shut: unpersisted work piles up. */
class GatedStore extends MemoryStore {
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  shut(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }
  release(): void {
    this.openGate();
  }
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    await this.gate;
    return super._appendMessages(conversationId, messages);
  }
}

/** `leave` would legitimately close the socket; everything else must leave it open. */
const notLeave = (v: unknown): boolean => !(typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'leave');

describe('gateway refusals and error frames', () => {
  test('bad credentials are refused with 401 before the upgrade; strangers get 403, unknown conversations 404', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const base = h.url.replace(/^http/, 'ws');
    const path = `${base}/chat/ws/${conv}`;
    expect(await refusedStatus(path)).toBe(401);
    expect(await refusedStatus(`${path}?token=not-a-jwt`)).toBe(401);
    const wrongSecret = jwt.sign({ sub: 'alice' }, 'another-secret', { algorithm: 'HS256' });
    expect(await refusedStatus(`${path}?token=${wrongSecret}`)).toBe(401);
    const expired = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }, JWT_SECRET, { algorithm: 'HS256' });
    expect(await refusedStatus(`${path}?token=${expired}`)).toBe(401);
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.`;
    expect(await refusedStatus(`${path}?token=${unsigned}`)).toBe(401);
    expect(await refusedStatus(h.wsUrl(conv, 'mallory'))).toBe(403);
    expect(await refusedStatus(h.wsUrl('no-such-conversation', 'alice'))).toBe(404);
    expect(await refusedStatus(`${base}/chat/elsewhere?token=${h.token('alice')}`)).toBe(404);
    expect(await refusedStatus(h.wsUrl(conv, 'alice', { last_sequence_id: '-1' }))).toBe(400);
    // The Authorization header works as well as the query parameter.
    const viaHeader = track(new TestClient(path, { headers: { authorization: `Bearer ${h.token('alice')}` } }));
    await viaHeader.opened;
    await viaHeader.waitFor('connected');
    expect(h.server.gateway.connectionCount()).toBe(1);
  });

  test('WebSocket security events go to the audit hook: 401, 403, participant limit, rate limit', async () => {
    const events: string[] = [];
    const audit = {
      authFailure: (actor: string, target: string, reason: string) => events.push(`auth ${actor} ${target} ${reason}`),
      forbidden: (actor: string, conv: string, action: string) => events.push(`forbidden ${actor} ${conv === convId} ${action}`),
      participantLimit: (actor: string, _conv: string, limit: number) => events.push(`limit ${actor} ${limit}`),
      rateLimited: (actor: string, conv: string) => events.push(`rate ${actor} ${conv === convId}`),
    };
    const h = await startHarness(
      { chat: { limits: { max_participants: 2, rate_limit_burst: 1, rate_limit_per_second: 0.01 } } },
      { audit },
    );
    const convId = await h.createConversation('alice', ['bob']);
    expect(await refusedStatus(`${h.url.replace(/^http/, 'ws')}/chat/ws/${convId}`)).toBe(401);
    expect(await refusedStatus(h.wsUrl(convId, 'mallory'))).toBe(403);
    expect(await refusedStatus(h.wsUrl(convId, 'mallory', { join: 'true' }))).toBe(409);
    const alice = await h.connect(convId, 'alice');
    alice.send({ type: 'message', message_id: 'm1', content: 'one' });
    alice.send({ type: 'message', message_id: 'm2', content: 'two' });
    await alice.waitFor('error', (e) => e.message_id === 'm2');
    expect(events).toEqual([
      `auth anonymous /chat/ws/${convId} GATEWAY_ERR_UNAUTHENTICATED`,
      'forbidden mallory true ws connect',
      'limit mallory 2',
      'rate alice true',
    ]);
  });

  test('an oversized frame closes with 1009; other sockets are unaffected', async () => {
    const h = await startHarness({ server: { websocket: { max_frame_bytes: 1024 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    alice.send({ type: 'message', message_id: 'big', content: 'x'.repeat(2000) });
    expect((await alice.closed).code).toBe(1009);
    bob.send({ type: 'message', message_id: 'small', content: 'fine' });
    await bob.waitFor('message_ack', (a) => a.message_id === 'small');
  });

  test('malformed JSON gets an error frame, then close 1007', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    alice.send('{"type": "message", oops');
    const err = await alice.waitFor('error');
    expect(err).toMatchObject({ error: 'GATEWAY_ERR_MALFORMED_JSON', code: 400 });
    const closed = await alice.closed;
    expect(closed).toEqual({ code: 1007, reason: 'GATEWAY_ERR_MALFORMED_JSON' });
    bob.send({ type: 'ping', ts: 1 });
    expect(await bob.waitFor('pong')).toMatchObject({ ts: 1 });
  });

  test('schema-invalid frames get an error frame and the socket stays usable', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const c = await h.connect(conv, 'alice');
    const bad: unknown[] = [
      { type: 'shout', content: 'x' },
      { no_type: true },
      [1, 2, 3],
      'just a string',
      { type: 'message', content: 'missing id' },
      { type: 'message', message_id: 'm1', content: 'x', extra: 1 },
      { type: 'message', message_id: '', content: 'x' },
      { type: 'message', message_id: 'y'.repeat(129), content: 'x' },
      { type: 'sync', last_sequence_id: -1 },
      { type: 'ack', sequence_id: 'seven' },
      { type: 'typing', is_typing: 'yes' },
    ];
    for (const frame of bad) c.send(JSON.stringify(frame));
    await c.until(() => c.frames.filter((f) => f.type === 'error').length === bad.length);
    const errors = c.frames.filter((f) => f.type === 'error');
    for (const e of errors) expect(e).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', code: 400 });
    expect(errors[0].type === 'error' && errors[0].message).toMatch(/unknown frame type/);
    expect(errors[5]).toMatchObject({ message_id: 'm1' });
    expect(errors[5].type === 'error' && errors[5].message).toMatch(/unknown field "extra"/);
    c.send({ type: 'message', message_id: 'ok', content: 'still here' });
    await c.waitFor('message_ack', (a) => a.message_id === 'ok');
    c.send({ type: 'ping' });
    await c.waitFor('pong');
  });

  // Regression: an out-of-range message_id (empty, 129 chars) got its error frame without the message_id, so the
  // client could not tell which pending send was refused.
  test('an ack past every record the connection has seen gets an error frame and is not recorded; the socket stays', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
    const seq = (await alice.waitFor('message_ack', (a) => a.message_id === 'm1')).sequence_id;
    alice.send({ type: 'ack', sequence_id: seq });
    alice.send({ type: 'ack', sequence_id: seq + 1000 });
    const refused = await alice.waitFor('error');
    expect(refused).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_INVALID_FRAME',
      code: 400,
      message: `ack ${seq + 1000} is past the last record this connection has seen (${seq})`,
      reply_to: 'ack',
    });
    // A fresh connection may ack what it held before it connected (up to the conversation's last id then).
    const again = await h.connect(conv, 'alice', { last_sequence_id: String(seq) });
    again.send({ type: 'ack', sequence_id: seq });
    again.send({ type: 'ping' });
    await again.waitFor('pong');
    expect(again.frames.filter((f) => f.type === 'error')).toEqual([]);
    alice.send({ type: 'ping' });
    await alice.waitFor('pong');
  });

  test('an invalid message frame echoes its message_id whenever it is a string, a huge one cut to its first 256 characters', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const c = await h.connect(conv, 'alice');
    const ids = ['', 'y'.repeat(129), 'z'.repeat(256), 'w'.repeat(10_000)];
    for (const message_id of ids) c.send({ type: 'message', message_id, content: 'x' });
    c.send({ type: 'message', message_id: 42, content: 'x' });
    await c.until(() => c.frames.filter((f) => f.type === 'error').length === ids.length + 1);
    const errors = c.frames.filter((f) => f.type === 'error');
    for (const e of errors) expect(e).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', code: 400 });
    expect(errors.map((e) => (e.type === 'error' ? e.message_id : undefined))).toEqual([
      '',
      'y'.repeat(129),
      'z'.repeat(256),
      'w'.repeat(256),
      undefined,
    ]);
  });

  test('fuzz: arbitrary JSON frames never break the socket, the conversation or the frame schemas', async () => {
    const h = await startHarness({ chat: { limits: { rate_limit_burst: 100_000, rate_limit_per_second: 100_000 } } });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    const frameTypes = fc.constantFrom('message', 'sync', 'ack', 'typing', 'ping', 'shout');
    const framey = fc.record(
      {
        type: frameTypes,
        message_id: fc.string(),
        content: fc.string(),
        last_sequence_id: fc.jsonValue(),
        sequence_id: fc.jsonValue(),
        is_typing: fc.jsonValue(),
        ts: fc.jsonValue(),
      },
      { requiredKeys: ['type'] },
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), framey).filter(notLeave), async (value) => {
        // Markers no fuzzed ping carries, so each pong answers this round's ping.
        const marker = 1e15 + round++;
        alice.send(JSON.stringify(value));
        alice.send({ type: 'ping', ts: marker });
        // Frames are handled in order: the pong proves the fuzzed frame was processed and the socket lives.
        await alice.waitFor('pong', (p) => p.ts === marker);
      }),
      { numRuns: 150 },
    );
    bob.send({ type: 'message', message_id: 'after-fuzz', content: 'still fine' });
    await alice.waitFor('message', (f) => f.message.message_id === 'after-fuzz');
    expect(h.server.gateway.connectionCount()).toBe(2);
  });

  test('invalid content: empty, too long, control characters', async () => {
    const h = await startHarness({ chat: { limits: { max_message_length: 20 } } });
    const conv = await h.createConversation('alice');
    const c = await h.connect(conv, 'alice');
    const cases = [
      ['empty', ''],
      ['blank', ' \n\t '],
      ['long', 'z'.repeat(21)],
      ['bell', 'ding\u0007'],
      ['nul', 'a\u0000b'],
    ];
    for (const [id, content] of cases) c.send({ type: 'message', message_id: id, content });
    c.send({ type: 'message', message_id: 'fine', content: 'tab\tand\r\nnewline' });
    await c.waitFor('message_ack', (a) => a.message_id === 'fine');
    for (const [id] of cases) {
      const err = await c.waitFor('error', (e) => e.message_id === id);
      expect(err).toMatchObject({ error: 'GATEWAY_ERR_CONTENT_INVALID', code: 400 });
    }
    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'h1', content: 'a\u0001' });
    expect(http.status).toBe(400);
    expect(http.body.error).toBe('GATEWAY_ERR_CONTENT_INVALID');
  });

  test('conversation creation has its own per-user budget: 429 with Retry-After past it, refilled by the clock', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { conversations_per_minute: 6, conversations_burst: 2 } } }, { clock });
    for (let i = 0; i < 2; i++) expect((await h.request('POST', '/chat/conversations', 'alice', { title: `t${i}` })).status).toBe(201);
    const refused = await h.request('POST', '/chat/create', 'alice', { title: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.body).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', code: 429, retry_after_ms: 10_000 });
    // Nothing was created by the refused call; another user has a budget of their own.
    const listed = await h.request('GET', '/chat/conversations', 'alice');
    expect(listed.body.conversations).toHaveLength(2);
    expect((await h.request('POST', '/chat/conversations', 'bob', {})).status).toBe(201);
    clock.advance(10_000);
    expect((await h.request('POST', '/chat/conversations', 'alice', { title: 'later' })).status).toBe(201);
  });

  test('rate limit per participant (shared by WebSocket and HTTP), refilled by the clock', async () => {
    const clock = createManualClock();
    const h = await startHarness({ chat: { limits: { rate_limit_per_second: 2, rate_limit_burst: 3 } } }, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    for (let i = 0; i < 3; i++) alice.send({ type: 'message', message_id: `a${i}`, content: `a${i}` });
    await alice.waitFor('message_ack', (a) => a.message_id === 'a2');
    alice.send({ type: 'message', message_id: 'a3', content: 'too fast' });
    const limited = await alice.waitFor('error', (e) => e.message_id === 'a3');
    expect(limited).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', code: 429, retry_after_ms: 500 });
    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'h1', content: 'also too fast' });
    expect(http.status).toBe(429);
    expect(http.headers.get('retry-after')).toBe('1');
    expect(http.body).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', code: 429, retry_after_ms: 500 });
    // A sync (a storage replay) spends the same budget.
    alice.send({ type: 'sync', last_sequence_id: 0 });
    expect(await alice.waitFor('error', (e) => e.message_id === undefined)).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', code: 429 });
    // Bob has his own bucket; typing has a separate budget per participant (typing-fanout.test.ts): his typing does
    // not spend this message budget. Alice is shown him typing once (the toggles coalesced), stopped by his line.
    for (let i = 0; i < 8; i++) bob.send({ type: 'typing', is_typing: i % 2 === 0 });
    bob.send({ type: 'message', message_id: 'b0', content: 'bob is fine' });
    await bob.waitFor('message_ack', (a) => a.message_id === 'b0');
    await alice.waitFor('message', (f) => f.message.message_id === 'b0');
    const typing = alice.frames.flatMap((f) => (f.type === 'typing' ? [f.is_typing] : []));
    expect(typing).toEqual([true, false]);
    clock.advance(500);
    alice.send({ type: 'message', message_id: 'a3', content: 'after the refill' });
    await alice.waitFor('message_ack', (a) => a.message_id === 'a3');
  });

  test('a full mailbox answers 429 over HTTP and as an error frame, and recovers once storage catches up', async () => {
    const store = new GatedStore();
    const h = await startHarness({ chat: { limits: { queue_size: 4, rate_limit_burst: 1000 } } }, { store });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    await h.connect(conv, 'bob');
    // Everything so far is journaled (writes are in order), then the journal stalls.
    await (
      await h.runtime.post(conv, { sender_id: 'bob', message_id: 'warm', content: 'warm' })
    ).whenPersisted;
    store.shut();
    let n = 0;
    let frameError: Awaited<ReturnType<TestClient['waitFor']>> | undefined;
    while (!frameError) {
      const id = `q${n++}`;
      alice.send({ type: 'message', message_id: id, content: id });
      const answer = await Promise.race([
        alice.waitFor('message_ack', (a) => a.message_id === id),
        alice.waitFor('error', (e) => e.message_id === id),
      ]);
      if (answer.type === 'error') frameError = answer;
      expect(n).toBeLessThan(50);
    }
    expect(frameError).toMatchObject({ error: 'CHAT_ERR_QUEUE_FULL', code: 429 });
    expect(frameError.type === 'error' && frameError.retry_after_ms).toBeGreaterThan(0);
    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'hb', content: 'via http' });
    expect(http.status).toBe(429);
    expect(http.body).toMatchObject({ error: 'CHAT_ERR_QUEUE_FULL', code: 429 });
    expect(Number(http.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(http.body.retry_after_ms).toBeGreaterThan(0);
    const health = await h.request('GET', '/health/chat');
    expect(health.body.queue_depths[healthConversationKey('digest')(conv)]).toBeGreaterThan(0);
    // A mailbox at its bound degrades the service but it still answers 200.
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.reasons.length).toBeGreaterThan(0);

    store.release();
    // Accepted posts become durable: each got a second ack with persisted: true.
    await alice.waitFor('message_ack', (a) => a.message_id === 'q0' && a.persisted);
    const retry = await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'hb', content: 'via http' });
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ message_id: 'hb', duplicate: false });
  });
});
