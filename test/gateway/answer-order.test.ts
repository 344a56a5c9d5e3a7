import type { Socket } from 'node:net';
import { closeAll, invalidFrames, startHarness } from './harness';
import { SlowJournal } from './slow-journal';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** One masked client text frame (RFC 6455 5.2). */
function textFrame(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value));
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const length =
    payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([Buffer.from([0x81]), length, mask, masked]);
}

/** Sends every frame in one TCP write: the server reads them in one turn. */
function sendInOneWrite(client: TestClient, frames: readonly unknown[]): void {
  (client.ws as unknown as { _socket: Socket })._socket.write(Buffer.concat(frames.map(textFrame)));
}

/** The answers (acks and errors naming a message) that came after `from`, as [type, message_id, detail]. */
function answers(client: TestClient, from = 0): Array<[string, string | undefined, unknown]> {
  return client.frames.slice(from).flatMap((f): Array<[string, string | undefined, unknown]> => {
    if (f.type === 'message_ack') return [['message_ack', f.message_id, f.duplicate]];
    if (f.type === 'error' && f.reply_to === 'message') return [['error', f.message_id, f.error]];
    return [];
  });
}

const count = (client: TestClient, from: number, n: number) => client.until(() => answers(client, from).length >= n);

/**
 * Every answer to a socket's `message` frames (message_ack, an error frame with reply_to message) goes out in the
 * order the frames came in, whatever decided it: the runtime (an ack, a reused id), the gateway at once (content,
 * the rate limit). A client matching answers by message_id must not settle the wrong send.
 */
describe('answers to message frames keep the frames’ order', () => {
  test('a re-send, a reused id and a re-send with metadata {} in one write: ack, 409, ack', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'd1', content: 'hello' });
    const first = await alice.waitFor('message_ack', (a) => a.message_id === 'd1');
    const from = alice.frames.length;
    sendInOneWrite(alice, [
      { type: 'message', message_id: 'd1', content: 'hello' },
      { type: 'message', message_id: 'd1', content: 'other' },
      { type: 'message', message_id: 'd1', content: 'hello', metadata: {} },
    ]);
    await count(alice, from, 3);
    expect(answers(alice, from)).toEqual([
      ['message_ack', 'd1', true],
      ['error', 'd1', 'CHAT_ERR_MESSAGE_ID_REUSED'],
      ['message_ack', 'd1', true],
    ]);
    expect(alice.frames.slice(from).filter((f) => f.type === 'message_ack')).toEqual([
      expect.objectContaining({ sequence_id: first.sequence_id }),
      expect.objectContaining({ sequence_id: first.sequence_id }),
    ]);
  });

  test('a refusal the gateway decides at once (empty content, reserved metadata, a frame off its schema) waits for earlier acks', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    const from = alice.frames.length;
    sendInOneWrite(alice, [
      { type: 'message', message_id: 'a', content: 'one' },
      { type: 'message', message_id: 'b', content: '   ' },
      { type: 'message', message_id: 'c', content: 'three' },
      { type: 'message', message_id: 'd', content: 'four', metadata: { final: true } },
      { type: 'message', message_id: 'e', content: 'five' },
      { type: 'message', message_id: 'f', content: 6 },
    ]);
    await count(alice, from, 6);
    expect(answers(alice, from)).toEqual([
      ['message_ack', 'a', false],
      ['error', 'b', 'GATEWAY_ERR_CONTENT_INVALID'],
      ['message_ack', 'c', false],
      ['error', 'd', 'GATEWAY_ERR_INVALID_FRAME'],
      ['message_ack', 'e', false],
      ['error', 'f', 'GATEWAY_ERR_INVALID_FRAME'],
    ]);
  });

  test('429s (rate limit, held for order) come after the acks of the frames before them', async () => {
    const h = await startHarness({ chat: { limits: { rate_limit_burst: 2, rate_limit_per_second: 0.01 } } });
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    const from = alice.frames.length;
    sendInOneWrite(
      alice,
      ['m1', 'm2', 'm3', 'm4'].map((id) => ({ type: 'message', message_id: id, content: id })),
    );
    await count(alice, from, 4);
    expect(answers(alice, from)).toEqual([
      ['message_ack', 'm1', false],
      ['message_ack', 'm2', false],
      ['error', 'm3', 'GATEWAY_ERR_RATE_LIMITED'],
      ['error', 'm4', 'GATEWAY_ERR_HELD_FOR_ORDER'],
    ]);
  });

  test('a slow journal: first acks in frame order, each persisted:true follow-up after its own first ack and in order', async () => {
    const store = new SlowJournal();
    const h = await startHarness({}, { store });
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    store.hold();
    const from = alice.frames.length;
    sendInOneWrite(alice, [
      { type: 'message', message_id: 's1', content: 'one' },
      { type: 'message', message_id: 's2', content: '' },
      { type: 'message', message_id: 's3', content: 'three' },
    ]);
    await count(alice, from, 3);
    expect(answers(alice, from)).toEqual([
      ['message_ack', 's1', false],
      ['error', 's2', 'GATEWAY_ERR_CONTENT_INVALID'],
      ['message_ack', 's3', false],
    ]);
    store.releaseWrites();
    await count(alice, from, 5);
    const acks = alice.frames.slice(from).flatMap((f) => (f.type === 'message_ack' ? [[f.message_id, f.persisted]] : []));
    expect(acks).toEqual([
      ['s1', false],
      ['s3', false],
      ['s1', true],
      ['s3', true],
    ]);
  });
});
