import type { Socket } from 'node:net';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** One masked client frame (RFC 6455 5.2), payload under 126 bytes. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

const closeFrame = (code: number): Buffer => {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  return clientFrame(0x8, payload);
};

/** Sends `bytes` as one write on a connected client's socket; resolves with the close code and the error frames seen. */
async function sendInOneRead(bytes: Buffer): Promise<{ code: number; errors: string[] }> {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const alice = await h.connect(conv, 'alice');
  await alice.waitFor('participant_list');
  (alice.ws as unknown as { _socket: Socket })._socket.write(bytes);
  const { code } = await alice.closed;
  return { code, errors: alice.frames.flatMap((f) => (f.type === 'error' ? [f.error] : [])) };
}

const unknownType = clientFrame(0x1, Buffer.from('{"type":"no-such-type"}'));

/**
 * ws answers a client's close frame, or a protocol error, by writing its own close frame from inside its
 * parser. A frame the gateway produced earlier in the same read (an error answer) is held by the turn's
 * write batch: it must reach the client before that close frame, not after it (where every client drops it).
 */
describe('frames held in a turn and the close frames ws writes itself', () => {
  test("an error frame answering a bad frame arrives before ws's answer to a close frame in the same read", async () => {
    expect(await sendInOneRead(Buffer.concat([unknownType, closeFrame(1000)]))).toEqual({
      code: 1000,
      errors: ['GATEWAY_ERR_INVALID_FRAME'],
    });
  });

  test("an error frame arrives before ws's 1007 close for invalid UTF-8 in the same read", async () => {
    const invalidUtf8 = clientFrame(0x1, Buffer.from([0xff, 0xfe]));
    expect(await sendInOneRead(Buffer.concat([unknownType, invalidUtf8]))).toEqual({
      code: 1007,
      errors: ['GATEWAY_ERR_INVALID_FRAME', 'GATEWAY_ERR_MALFORMED_JSON'],
    });
  });
});
