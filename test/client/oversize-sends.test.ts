/**
 * A message too large for the server (over its max_frame_bytes, max_message_length or max_metadata_bytes, as its
 * `connected` frame announces them) is refused by the client itself with CLIENT_MESSAGE_TOO_LARGE: that send
 * rejects, the connection stays open, later sends are acknowledged. Sent, a frame over max_frame_bytes would make the
 * server close with 1009, which ends the client with all its other unacknowledged sends. Real client, real server
 * (port 0, dev auth), real `ws` sockets.
 */
import { WebSocket } from 'ws';
import { createManualClock } from '../../actors/clock';
import { ChatClientError, type ChatClient } from '../../client/chat-client';
import { DEFAULT_SERVER_LIMITS, messageSizeProblem } from '../../client/message-limits';
import { loadConfig } from '../../config';
import type { ConfigInput } from '../../config/config-types';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack | undefined;
const clients = testClients();

afterEach(async () => {
  clients.closeAll();
  await stack?.close();
  stack = undefined;
});

async function startServer(config: ConfigInput = {}): Promise<RealStack> {
  stack = await startRealStack({ config });
  await stack.createConversation('conv', ['alice']);
  return stack;
}

/** A client whose message ids are m1, m2 ...: frame sizes in the tests are exact. */
function aliceOn(server: RealStack): ChatClient {
  let n = 0;
  return clients.open(server.wsUrl, { conversationId: 'conv', userId: 'alice', clock: createManualClock(), generateId: () => `m${++n}` });
}

/** Every `disconnected` event of the client, to show none happened. */
function disconnects(c: ChatClient): unknown[] {
  const seen: unknown[] = [];
  c.on('disconnected', (d) => seen.push(d));
  return seen;
}

/** Content whose `message` frame (id `id`, no metadata) is exactly `bytes` long in UTF-8, with multi-byte characters. */
function contentForFrameBytes(id: string, bytes: number): string {
  const overhead = Buffer.byteLength(JSON.stringify({ type: 'message', message_id: id, content: '' }), 'utf8');
  const euros = 100; // '€' is three bytes: the client counts UTF-8 bytes, not characters
  const content = '€'.repeat(euros) + 'a'.repeat(bytes - overhead - 3 * euros);
  expect(Buffer.byteLength(JSON.stringify({ type: 'message', message_id: id, content }), 'utf8')).toBe(bytes);
  return content;
}

async function rejection(p: Promise<unknown>): Promise<ChatClientError> {
  const outcome = await p.then(
    () => new Error('send resolved'),
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ChatClientError);
  return outcome as ChatClientError;
}

describe('a message too large for the server', () => {
  test('a server with max_frame_bytes 2048 is honoured: 2049 bytes refused, 2048 and a small one acked, one connection', async () => {
    const server = await startServer({ server: { websocket: { max_frame_bytes: 2048 } } });
    const alice = aliceOn(server);
    const drops = disconnects(alice);
    await alice.connect();

    const tooLarge = await rejection(alice.send(contentForFrameBytes('m1', 2049)));
    expect(tooLarge.code).toBe('CLIENT_MESSAGE_TOO_LARGE');
    expect(tooLarge.messageId).toBe('m1');
    expect(tooLarge.message).toBe("not sent: the message frame is 2049 bytes, over the server's max_frame_bytes (2048)");
    expect(alice.pendingCount).toBe(0);

    const exact = await alice.send(contentForFrameBytes('m2', 2048));
    expect(exact).toMatchObject({ message_id: 'm2', persisted: true });
    const small = await alice.send('still here');
    expect(small).toMatchObject({ message_id: 'm3', sequence_id: exact.sequence_id + 1 });
    expect(alice.state).toBe('open');
    expect(drops).toEqual([]);
    // Only the two accepted messages reached the conversation.
    const records = await server.runtime.readMessages('conv', 0, 100);
    expect(records.filter((m) => m.sender_id === 'alice' && m.message_type === 'text').map((m) => m.message_id)).toEqual(['m2', 'm3']);
  });

  test('the connected frame announces the configured limits, and the same 2049-byte frame sent raw gets 1009', async () => {
    // The message budget too (chat.limits.rate_limit_per_second / rate_limit_burst), so a client can pace its sends.
    const server = await startServer({
      server: { websocket: { max_frame_bytes: 2048 } },
      chat: { limits: { rate_limit_per_second: 2.5, rate_limit_burst: 7 } },
    });
    const raw = new WebSocket(`${server.wsUrl}/chat/ws/conv?user_id=alice`);
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    const connected = await new Promise<{ limits?: unknown }>((resolve, reject) => {
      raw.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; limits?: unknown };
        if (frame.type === 'connected') resolve(frame);
      });
      raw.on('error', reject);
    });
    expect(connected.limits).toEqual({
      max_frame_bytes: 2048,
      max_message_length: 10_000,
      max_metadata_bytes: 8192,
      rate_limit_per_second: 2.5,
      rate_limit_burst: 7,
    });
    raw.send(JSON.stringify({ type: 'message', message_id: 'm1', content: contentForFrameBytes('m1', 2049) }));
    expect(await closed).toBe(1009);
  });

  test('default limits: content over max_message_length and a frame over 64 KiB are refused; the client stays connected', async () => {
    // max_message_length raised so that a frame can pass the default 64 KiB without its content being too long.
    const server = await startServer({ chat: { limits: { max_message_length: 100_000 } } });
    const alice = aliceOn(server);
    const drops = disconnects(alice);
    await alice.connect();

    const frame = await rejection(alice.send('x'.repeat(70_000)));
    expect(frame.code).toBe('CLIENT_MESSAGE_TOO_LARGE');
    expect(frame.message).toMatch(/over the server's max_frame_bytes \(65536\)$/);
    const metadata = await rejection(alice.send('hi', { blob: 'y'.repeat(9000) }));
    expect(metadata.message).toMatch(/^not sent: metadata is 9011 bytes as JSON, over the server's max_metadata_bytes \(8192\)$/);
    expect((await alice.send('fits')).message_id).toBe('m3');
    expect(drops).toEqual([]);
    expect(alice.state).toBe('open');
  });

  test('content over a small max_message_length is refused before it is sent', async () => {
    const server = await startServer({ chat: { limits: { max_message_length: 500 } } });
    const alice = aliceOn(server);
    await alice.connect();
    const err = await rejection(alice.send('z'.repeat(501)));
    expect(err).toMatchObject({ code: 'CLIENT_MESSAGE_TOO_LARGE', messageId: 'm1' });
    expect(err.message).toBe("not sent: content is 501 characters, over the server's max_message_length (500)");
    expect((await alice.send('z'.repeat(500))).message_id).toBe('m2');
  });

  test('sends made before the first connected frame are checked when they go: the large one rejects, the others are acked', async () => {
    const server = await startServer({ server: { websocket: { max_frame_bytes: 2048 } } });
    const alice = aliceOn(server);
    const drops = disconnects(alice);
    // Queued while the limits are not known yet.
    const before = alice.send('first');
    const large = rejection(alice.send('b'.repeat(3000)));
    const after = alice.send('third');
    const connected = nextEvent(alice, 'connected');
    await alice.connect();
    await connected;
    expect((await large).code).toBe('CLIENT_MESSAGE_TOO_LARGE');
    expect((await before).message_id).toBe('m1');
    expect((await after).message_id).toBe('m3');
    expect(drops).toEqual([]);
    expect(alice.pendingCount).toBe(0);
  });
});

describe('the limits given to the application', () => {
  test('connect() and the connected event carry the configured limits, which are what send() enforces', async () => {
    const server = await startServer({
      server: { websocket: { max_frame_bytes: 4096 } },
      chat: { limits: { max_message_length: 500, max_metadata_bytes: 256, rate_limit_per_second: 2.5, rate_limit_burst: 7 } },
    });
    const alice = aliceOn(server);
    const event = nextEvent(alice, 'connected');
    const info = await alice.connect();
    // With the message budget the client paces its sends by (paced-sends.test.ts).
    const expected = { maxFrameBytes: 4096, maxMessageLength: 500, maxMetadataBytes: 256, rateLimitPerSecond: 2.5, rateLimitBurst: 7 };
    expect(info.limits).toEqual(expected);
    expect((await event).limits).toEqual(expected);

    // A paste cut to the announced length goes; one character more is refused. Changing the object the application
    // was given (past its readonly type) does not change what the client checks.
    const pasted = 'p'.repeat(2000);
    (info.limits as { maxMessageLength: number }).maxMessageLength = 5000;
    expect((await alice.send(pasted.slice(0, expected.maxMessageLength))).message_id).toBe('m1');
    const over = await rejection(alice.send(pasted.slice(0, expected.maxMessageLength + 1)));
    expect(over.message).toBe("not sent: content is 501 characters, over the server's max_message_length (500)");
  });
});

describe('messageSizeProblem', () => {
  test('counts UTF-8 bytes: a surrogate pair as four, an escaped lone surrogate as its six characters', () => {
    const limits = { ...DEFAULT_SERVER_LIMITS, maxFrameBytes: 80 };
    const base = { type: 'message', message_id: 'm' } as const;
    const overhead = JSON.stringify({ ...base, content: '' }).length;
    expect(overhead).toBe(48); // all ASCII: bytes = characters
    // 4 pairs: 16 bytes, the frame exactly 80; a fifth pair makes it 84
    const fits = '😀'.repeat(4) + 'a'.repeat(80 - overhead - 16);
    expect(messageSizeProblem({ ...base, content: fits }, limits)).toBeUndefined();
    expect(messageSizeProblem({ ...base, content: '😀' + fits }, limits)).toMatch(/frame is 84 bytes/);
    // JSON.stringify escapes a lone surrogate as \udXXX: six ASCII bytes, counted as such
    const lone = { ...base, content: '\ud800'.repeat(3) }; // 48 + 18 bytes
    expect(messageSizeProblem(lone, { ...limits, maxFrameBytes: 66 })).toBeUndefined();
    expect(messageSizeProblem(lone, { ...limits, maxFrameBytes: 65 })).toMatch(/frame is 66 bytes/);
  });

  test("DEFAULT_SERVER_LIMITS are the server's own defaults (the browser bundle cannot load config/, so they are copied)", () => {
    const defaults = loadConfig({ overrides: { server: { auth: { mode: 'dev' } } } });
    expect(DEFAULT_SERVER_LIMITS).toEqual({
      maxFrameBytes: defaults.server.websocket.max_frame_bytes,
      maxMessageLength: defaults.chat.limits.max_message_length,
      maxMetadataBytes: defaults.chat.limits.max_metadata_bytes,
    });
  });

  test('metadata 0 means bounded by the frame only', () => {
    const limits = { maxFrameBytes: 100_000, maxMessageLength: 10, maxMetadataBytes: 0 };
    expect(
      messageSizeProblem({ type: 'message', message_id: 'm', content: 'a', metadata: { k: 'v'.repeat(50_000) } }, limits),
    ).toBeUndefined();
  });
});
