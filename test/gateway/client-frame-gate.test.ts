import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import { ClientFrameGate } from '../../gateway/client-frame-gate';
import { maskedCloseFrame } from '../../gateway/forwarded-pipe';

/** ws's own frame parser, the one the holder reads with (exported by ws, absent from its type definitions). */
const { Receiver } = WebSocket as unknown as {
  Receiver: new (options: { isServer: boolean; skipUTF8Validation: boolean }) => Writable;
};

/**
 * The gate a forwarding server puts between a client and the holder (owner-forwarding.ts): the client's bytes pass
 * unchanged, and a frame of the server's goes in only where one of the client's ends, however the TCP chunks cut them.
 */
describe('ClientFrameGate', () => {
  /** A masked client frame (FIN set) with a payload of `length` bytes: 7-bit, 16-bit and 64-bit lengths alike. */
  function clientFrame(opcode: number, length: number): Buffer {
    const lengthBytes =
      length < 126
        ? Buffer.from([0x80 | length])
        : length < 65_536
          ? Buffer.from([0x80 | 126, length >> 8, length & 0xff])
          : Buffer.concat([Buffer.from([0x80 | 127]), bigEndian64(length)]);
    const mask = randomBytes(4);
    const payload = Buffer.from(randomBytes(length).map((b, i) => b ^ mask[i % 4]!));
    return Buffer.concat([Buffer.from([0x80 | opcode]), lengthBytes, mask, payload]);
  }

  function bigEndian64(n: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  }

  /** Writes `chunks`, asking for `insert` before chunk `insertBefore`; resolves with everything the gate passed. */
  async function through(chunks: readonly Buffer[], insert?: { frame: Buffer; before: number }): Promise<Buffer> {
    const gate = new ClientFrameGate();
    const out: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of gate) out.push(chunk as Buffer);
    })();
    chunks.forEach((chunk, i) => {
      if (insert?.before === i) gate.insertAtBoundary(insert.frame);
      gate.write(chunk);
    });
    if (insert?.before === chunks.length) gate.insertAtBoundary(insert.frame);
    gate.end();
    await read;
    return Buffer.concat(out);
  }

  const frames = [clientFrame(0x1, 5), clientFrame(0x9, 0), clientFrame(0x1, 300), clientFrame(0x2, 70_000), clientFrame(0x1, 125)];
  const stream = Buffer.concat(frames);
  /** Where each frame ends in `stream`. */
  const ends = frames.reduce<number[]>((acc, f) => [...acc, (acc.at(-1) ?? 0) + f.length], []);
  const CLOSE = maskedCloseFrame(1001, 'GATEWAY_ERR_SHUTTING_DOWN');

  test('passes the client’s bytes unchanged, cut anywhere', async () => {
    for (const size of [1, 2, 3, 7, 1000, stream.length]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
      expect((await through(chunks)).equals(stream)).toBe(true);
    }
  });

  test('puts the frame in where the client’s frame under way ends, wherever the stream was cut, and nothing after', async () => {
    // Every cut inside the small frames and the headers, and some inside the 70,000-byte payload.
    const cuts = [...Array(ends[2]! + 20).keys(), ends[3]! - 1, ends[3]!, ends[3]! + 1, ends[4]!];
    for (const cut of cuts) {
      const frameEnd = [0, ...ends].find((end) => end >= cut)!;
      const out = await through([stream.subarray(0, cut), stream.subarray(cut)], { frame: CLOSE, before: 1 });
      expect({ cut, out: out.equals(Buffer.concat([stream.subarray(0, frameEnd), CLOSE])) }).toEqual({ cut, out: true });
    }
  });

  test('a stream cut into single bytes, the frame asked for inside a 16-bit length', async () => {
    const bytes = [...stream.subarray(0, ends[3]! + 10)].map((b) => Buffer.from([b]));
    const out = await through(bytes, { frame: CLOSE, before: ends[1]! + 3 });
    expect(out.equals(Buffer.concat([stream.subarray(0, ends[2]!), CLOSE]))).toBe(true);
  });

  test('the inserted close frame is one a WebSocket server reads: masked, 1001 with its reason', async () => {
    // The payloads are random bytes, text frames among them: not UTF-8.
    const receiver = new Receiver({ isServer: true, skipUTF8Validation: true });
    const concluded = new Promise<{ code: number; reason: string }>((resolve, reject) => {
      receiver.on('conclude', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
      receiver.on('error', reject);
    });
    const messages: number[] = [];
    receiver.on('message', (data: Buffer) => messages.push(data.length));
    // Asked for inside the 300-byte frame: it goes in after that one, before the 70,000-byte one.
    const cut = ends[2]! - 10;
    receiver.write(await through([stream.subarray(0, cut), stream.subarray(cut, ends[2]! + 100)], { frame: CLOSE, before: 1 }));
    expect(await concluded).toEqual({ code: 1001, reason: 'GATEWAY_ERR_SHUTTING_DOWN' });
    expect(messages).toEqual([5, 300]);
  });
});
