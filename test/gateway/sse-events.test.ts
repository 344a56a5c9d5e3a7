import type { ServerResponse } from 'node:http';
import net from 'node:net';
import jwt from 'jsonwebtoken';
import { createManualClock } from '../../actors/clock';
import { closeAll, JWT_SECRET, startHarness, type Harness } from './harness';
import { warnings } from './slow-readers';
import { closeReaders, openEvents, type SseReader } from './sse-test-client';

/**
 * GET /chat/conversations/{id}/events, the Server-Sent Events fallback (docs/protocol.md): real server on port 0,
 * the stream read from fetch's body by a small parser (sse-test-client.ts) as EventSource would, posts over HTTP.
 */
afterEach(async () => {
  await closeReaders();
  await closeAll();
});

function eventsUrl(h: Harness, conv: string, userId: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams({ token: h.token(userId), ...params });
  return `${h.url}/chat/conversations/${encodeURIComponent(conv)}/events?${q}`;
}

async function open(h: Harness, conv: string, userId: string, params?: Record<string, string>, headers?: Record<string, string>) {
  const answer = await openEvents(eventsUrl(h, conv, userId, params), headers);
  if (answer.stream === undefined) throw new Error(`refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { answer, stream: answer.stream };
}

async function post(h: Harness, conv: string, userId: string, messageId: string): Promise<number> {
  const res = await h.request('POST', `/chat/conversations/${conv}/messages`, userId, { message_id: messageId, content: messageId });
  if (res.status !== 200 && res.status !== 201) throw new Error(`post failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.sequence_id as number;
}

/** The `message` events' records, as [event id, sequence id, content]. */
function records(stream: SseReader): Array<[string | undefined, number, string]> {
  return stream.ofType('message').map((e) => [e.id, e.json.message.sequence_id, e.json.message.content]);
}

describe('the event stream', () => {
  test('sends connected and participant_list, then live records in order, each with its sequence id as the event id', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const { answer, stream } = await open(h, conv, 'bob');
    expect(answer.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(answer.headers.get('x-accel-buffering')).toBe('no');
    const connected = await stream.next((e) => e.event === 'connected');
    expect(connected.json).toMatchObject({ type: 'connected', conversation_id: conv, participant_id: 'bob' });
    // Nothing replayed: the reader is current up to the conversation's end, so a reconnect resumes from there.
    expect(connected.id).toBe(String(connected.json.last_sequence_id));
    const list = await stream.next((e) => e.event === 'participant_list');
    expect(list.id).toBeUndefined();
    expect(list.json.participants.map((p: { participant_id: string }) => p.participant_id).sort()).toEqual(['alice', 'bob']);
    expect(stream.retry).toBeGreaterThanOrEqual(2000);
    expect(stream.retry).toBeLessThan(5000);
    expect(h.server.gateway.connectionCount()).toBe(1);
    const health = await h.request('GET', '/health/chat');
    expect(JSON.stringify(health.body)).toMatch(/"connections":1\b/);

    const ids: number[] = [];
    for (const m of ['m1', 'm2', 'm3']) ids.push(await post(h, conv, 'alice', m));
    await stream.next((e) => e.event === 'message' && e.json.message.content === 'm3');
    expect(records(stream)).toEqual(ids.map((id, i) => [String(id), id, `m${i + 1}`]));
    expect(stream.lastEventId).toBe(String(ids[2]));
  });

  test('resumes with Last-Event-ID while another member posts: every record once, none missing', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    // history=1 stays in the URL, as EventSource asks the same URL again: with Last-Event-ID it must not apply.
    const first = (await open(h, conv, 'bob', { history: '1' })).stream;
    await first.next((e) => e.event === 'connected');
    await post(h, conv, 'alice', 'a1');
    await post(h, conv, 'alice', 'a2');
    await first.next((e) => e.event === 'message' && e.json.message.content === 'a2');
    await first.close();
    const lastEventId = first.lastEventId;

    await post(h, conv, 'alice', 'a3');
    await post(h, conv, 'alice', 'a4');
    // Posts racing the reconnect: each lands in the replay or live, never in both and never in neither.
    const racing = (async () => {
      for (let i = 5; i <= 10; i++) await post(h, conv, 'alice', `a${i}`);
    })();
    const second = (await open(h, conv, 'bob', { history: '1' }, { 'last-event-id': lastEventId })).stream;
    await racing;
    await second.next((e) => e.event === 'message' && e.json.message.content === 'a10');
    const seen = [...records(first), ...records(second)];
    expect(seen.map(([, , c]) => c).filter((c) => c.startsWith('a'))).toEqual(Array.from({ length: 10 }, (_, i) => `a${i + 1}`));
    const sequenceIds = seen.map(([, s]) => s);
    expect(sequenceIds).toEqual(Array.from({ length: sequenceIds.length }, (_, i) => sequenceIds[0]! + i));
    for (const [id, s] of seen) expect(id).toBe(String(s));
    // The replay ends with sync_complete, whose id is where it ends.
    const sync = await second.next((e) => e.event === 'sync_complete');
    expect(sync.id).toBe(String(sync.json.to));
  });

  test('refuses a non-member with a coded 403 and an unknown conversation with 404, before any stream', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const outsider = await openEvents(eventsUrl(h, conv, 'carol'));
    expect(outsider.status).toBe(403);
    expect(outsider.headers.get('content-type')).toMatch(/^application\/json/);
    expect(outsider.body).toMatchObject({ error: 'CHAT_ERR_NOT_PARTICIPANT' });
    const unknown = await openEvents(eventsUrl(h, 'no-such-conversation', 'bob'));
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: 'CHAT_ERR_NOT_FOUND' });
    const anonymous = await openEvents(`${h.url}/chat/conversations/${conv}/events`);
    expect(anonymous.status).toBe(401);
    expect(h.server.gateway.connectionCount()).toBe(0);
  });

  test('refuses a bad Last-Event-ID, last_sequence_id, history or record identity with a coded 400', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const tooLong = 'm'.repeat(1025);
    for (const [params, headers] of [
      [{}, { 'last-event-id': 'abc' }],
      [{}, { 'last-event-id': '-1' }],
      [{ last_sequence_id: '1.5' }, {}],
      [{ history: '0' }, {}],
      [{ since: '3' }, {}],
      // The record identity, as on the socket URL: both or neither, only with last_sequence_id, 1 to 1024 characters.
      [{ last_sequence_id: '1', last_message_id: 'm1' }, {}],
      [{ last_sequence_id: '1', last_sender_id: 'alice' }, {}],
      [{ last_message_id: 'm1', last_sender_id: 'alice' }, {}],
      [{ last_sequence_id: '1', last_message_id: '', last_sender_id: 'alice' }, {}],
      [{ last_sequence_id: '1', last_message_id: tooLong, last_sender_id: 'alice' }, {}],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const answer = await openEvents(eventsUrl(h, conv, 'bob', params), headers);
      expect([params, answer.status, answer.body.error]).toEqual([params, 400, 'GATEWAY_ERR_BAD_REQUEST']);
    }
    const twice = await openEvents(
      `${eventsUrl(h, conv, 'bob', { last_sequence_id: '1', last_sender_id: 'alice' })}&last_message_id=a&last_message_id=b`,
    );
    expect([twice.status, twice.body.message]).toEqual([400, 'last_message_id is given more than once']);
    const one = await openEvents(eventsUrl(h, conv, 'bob', { last_sequence_id: '1', last_message_id: 'm1' }));
    expect(one.body.message).toBe('last_message_id and last_sender_id go together, with last_sequence_id');
    expect(h.server.gateway.connectionCount()).toBe(0);
  });

  test('answers HEAD with the checks and the headers only, holding no stream', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    // Ended by the server (its response finishes), not left open until the client goes away.
    const finished = new Promise((resolve) => h.server.server.once('request', (_req, res: ServerResponse) => res.once('finish', resolve)));
    const head = await fetch(eventsUrl(h, conv, 'bob'), { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/event-stream; charset=utf-8']);
    await finished;
    expect((await fetch(eventsUrl(h, conv, 'carol'), { method: 'HEAD' })).status).toBe(403);
    expect(h.server.gateway.connectionCount()).toBe(0);
  });

  test('HEAD subscribes nobody: the room is not told the reader came online', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = (await open(h, conv, 'alice')).stream;
    await alice.next((e) => e.event === 'participant_list');
    const head = await fetch(eventsUrl(h, conv, 'bob'), { method: 'HEAD', headers: { 'last-event-id': '0' } });
    expect(head.status).toBe(200);
    // Posted after the HEAD was answered: whatever the HEAD announced comes before it on alice's stream.
    await post(h, conv, 'alice', 'after-head');
    await alice.next((e) => e.event === 'message' && e.json.message.content === 'after-head');
    expect(alice.ofType('presence').map((e) => e.json)).toEqual([]);
  });

  test('counts in the per-user connection bound with the WebSockets', async () => {
    const h = await startHarness({ server: { websocket: { max_connections_per_user: 2 } } });
    const conv = await h.createConversation('alice', ['bob']);
    await h.connect(conv, 'bob');
    const stream = (await open(h, conv, 'bob')).stream;
    await stream.next((e) => e.event === 'connected');
    const third = await openEvents(eventsUrl(h, conv, 'bob'));
    expect([third.status, third.body.error]).toEqual([429, 'GATEWAY_ERR_TOO_MANY_CONNECTIONS']);
    await stream.close();
    await waitUntil(() => h.server.gateway.connectionCount() === 1);
    const again = (await open(h, conv, 'bob')).stream;
    await again.next((e) => e.event === 'connected');
  });

  test('ends on shutdown with a closed event naming GATEWAY_ERR_SHUTTING_DOWN (1001, reconnect)', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const stream = (await open(h, conv, 'bob')).stream;
    await stream.next((e) => e.event === 'connected');
    await h.server.gateway.close();
    await stream.ended;
    const last = stream.events[stream.events.length - 1]!;
    expect(last.event).toBe('closed');
    expect(last.id).toBeUndefined();
    expect(last.json).toEqual({
      type: 'closed',
      error: 'GATEWAY_ERR_SHUTTING_DOWN',
      close_code: 1001,
      message: 'server is shutting down',
      reconnect: true,
    });
    expect(h.server.gateway.connectionCount()).toBe(0);
  });

  test('ends when the reader leaves over HTTP with closed CHAT_ERR_NOT_PARTICIPANT (no reconnect)', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const stream = (await open(h, conv, 'bob')).stream;
    await stream.next((e) => e.event === 'connected');
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBeLessThan(300);
    await stream.ended;
    expect(stream.events[stream.events.length - 1]!.json).toMatchObject({
      type: 'closed',
      error: 'CHAT_ERR_NOT_PARTICIPANT',
      close_code: 4003,
      reconnect: false,
    });
  });

  test('ends at once when the owner removes the reader (DELETE .../participants/{id}): the leave record, then closed 4003; reopening is refused', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const stream = (await open(h, conv, 'bob')).stream;
    await stream.next((e) => e.event === 'participant_list');
    expect((await h.request('DELETE', `/chat/conversations/${conv}/participants/bob`, 'alice')).status).toBe(200);
    await stream.ended;
    expect(stream.events.slice(-2).map((e) => [e.event, e.json.message?.message_type ?? e.json.error])).toEqual([
      ['participant_update', undefined],
      ['closed', 'CHAT_ERR_NOT_PARTICIPANT'],
    ]);
    expect(stream.ofType('message').map((e) => e.json.message.message_type)).toEqual(['leave']);
    await waitUntil(() => h.server.gateway.connectionCount() === 0);
    const again = await openEvents(eventsUrl(h, conv, 'bob'), { 'last-event-id': stream.ofType('message')[0]!.id! });
    expect([again.status, again.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
  });

  test('writes a `: ping` comment at every heartbeat tick, on the gateway clock', async () => {
    const clock = createManualClock(Date.now());
    const h = await startHarness({}, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    const stream = (await open(h, conv, 'bob')).stream;
    await stream.next((e) => e.event === 'connected');
    expect(stream.comments).toEqual([]);
    clock.advance(h.config.server.websocket.heartbeat_interval_s * 1000);
    await waitUntil(() => stream.comments.length === 1);
    expect(stream.comments).toEqual(['ping']);
  });

  test('ends when its token expires: an error event, then closed GATEWAY_ERR_UNAUTHENTICATED, reconnect false (the URL holds the expired token)', async () => {
    const clock = createManualClock(Date.now());
    const h = await startHarness({}, { clock });
    const conv = await h.createConversation('alice', ['bob']);
    const token = jwt.sign({ sub: 'bob', exp: Math.floor(clock.now() / 1000) + 60 }, JWT_SECRET, { algorithm: 'HS256' });
    const answer = await openEvents(`${h.url}/chat/conversations/${conv}/events?token=${token}`);
    const stream = answer.stream!;
    await stream.next((e) => e.event === 'connected');
    clock.advance(59_000);
    expect(stream.events.map((e) => e.event)).toEqual(['connected', 'participant_list']);
    clock.advance(1_000);
    await stream.ended;
    expect(stream.events.slice(2).map((e) => [e.event, e.json.error])).toEqual([
      ['error', 'GATEWAY_ERR_UNAUTHENTICATED'],
      ['closed', 'GATEWAY_ERR_UNAUTHENTICATED'],
    ]);
    // EventSource's own reconnect asks the same URL, expired token and all: refused 401, after which it gives up.
    expect(stream.events[3]!.json).toMatchObject({ close_code: 4001, reconnect: false });
  });

  test('drops a reader that stops reading once past high_water_bytes, by a reset', async () => {
    const warned = warnings();
    const h = await startHarness(
      {
        server: { websocket: { high_water_bytes: 1024 } },
        chat: {
          storage: { memory: { max_records_per_conversation: 0 } },
          limits: { max_message_length: 100_000, queue_size: 100_000, rate_limit_burst: 1_000_000, rate_limit_per_second: 100_000 },
        },
      },
      { logger: warned.logger },
    );
    const conv = await h.createConversation('alice', ['bob']);
    const { port } = new URL(h.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Headers and the welcome read, then nothing more: the reader has stopped.
      if (received.includes('event: participant_list')) socket.pause();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(`GET /chat/conversations/${conv}/events?token=${h.token('bob')} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitUntil(() => h.server.gateway.connectionCount() === 1);

    const content = 'x'.repeat(64 * 1024);
    let n = 0;
    while (warned.lines.length === 0) {
      await Promise.all(Array.from({ length: 10 }, () => h.runtime.post(conv, { sender_id: 'alice', message_id: `p${n++}`, content })));
      expect(n).toBeLessThan(20_000);
    }
    expect(warned.lines.map((l) => [l.msg, l.obj.transport])).toEqual([['slow consumer disconnected', 'sse']]);
    await waitUntil(() => h.server.gateway.connectionCount() === 0);
    socket.resume();
    await closed;
    expect(received).not.toContain('event: closed');
  });
});

/** Waits for a condition the server reaches by itself (a closed stream counted out), polling each event-loop turn. */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}
