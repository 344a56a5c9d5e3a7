import WebSocket from 'ws';
import type { Writable } from 'node:stream';
import { encodeTextFrame } from '../../gateway/text-frames';
import { closeAll, invalidFrames, startHarness, track } from './harness';
import { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** ws's frame parser: exported at runtime (WebSocket.Receiver), though @types/ws does not declare it. */
const { Receiver } = WebSocket as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => Writable };

/** Parses frames the way a client does, with ws's own (client-side) receiver. */
function parseWithWs(frames: Buffer[]): Promise<string[]> {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const texts: string[] = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => texts.push(isBinary ? `binary:${data.length}` : data.toString('utf8')));
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    // One write: the frames arrive back to back, as they do in a batched socket write.
    receiver.write(Buffer.concat(frames), () => resolve(texts));
  });
}

describe('server text frames (gateway/text-frames.ts)', () => {
  test('every length encoding (7, 16 and 64 bit) parses back, multi-byte UTF-8 counted in bytes', async () => {
    // 125/126 and 65535/65536 are the bytes where the header changes size; 'é' is 2 bytes, '😀' 4.
    const payloads = [
      '',
      'x'.repeat(125),
      'x'.repeat(126),
      'é'.repeat(62),
      'é'.repeat(63),
      'x'.repeat(65_535),
      'x'.repeat(65_536),
      '😀'.repeat(20_000),
    ];
    const frames = payloads.map(encodeTextFrame);
    expect(frames.map((f, i) => f.length - Buffer.byteLength(payloads[i]))).toEqual([2, 2, 4, 2, 4, 4, 10, 10]);
    expect(await parseWithWs(frames)).toEqual(payloads);
    // The payload is the frame's tail, after the header.
    expect(frames.map((f, i) => f.subarray(f.length - Buffer.byteLength(payloads[i])).toString('utf8'))).toEqual(payloads);
  });

  test('a message of every header size reaches both members intact over real sockets, in order', async () => {
    const h = await startHarness({
      server: { websocket: { max_frame_bytes: 1_000_000 } },
      chat: { limits: { max_message_length: 100_000 } },
    });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = track(await h.connect(conv, 'alice'));
    const bob = track(await h.connect(conv, 'bob'));
    const contents = ['short', 'é'.repeat(100), 'x'.repeat(70_000), '😀'.repeat(20_000)];
    contents.forEach((content, i) => alice.send({ type: 'message', message_id: `m${i}`, content }));
    for (const client of [alice, bob] as TestClient[]) {
      await client.until(() => client.sequenceIds((m) => m.message_id.startsWith('m')).length === contents.length);
      const received = client.frames.flatMap((f) => (f.type === 'message' && f.message.message_id.startsWith('m') ? [f.message] : []));
      expect(received.map((m) => m.content)).toEqual(contents);
      expect(received.map((m) => m.sequence_id)).toEqual([...received.map((m) => m.sequence_id)].sort((a, b) => a - b));
    }
    // The sender's acks still arrive (written through ws.send's path and ours, interleaved on one socket).
    for (let i = 0; i < contents.length; i++) await alice.waitFor('message_ack', (f) => f.message_id === `m${i}`);
  });
});
