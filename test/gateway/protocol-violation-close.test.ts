/**
 * A frame that breaks RFC 6455 itself (not the chat protocol) is answered by `ws`, before the gateway sees it: close
 * 1002 with an empty reason. Written raw on a client's socket after a real upgrade; the conversation and its other
 * sockets go on. Real server on port 0, real `ws` clients.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);
const masked = (payload: Buffer): Buffer => Buffer.from(payload.map((b, i) => b ^ MASK[i % 4]!));
const ping = Buffer.from('{"type":"ping"}');

/** One client frame: `first` is the FIN/RSV/opcode byte; `mask` false leaves it unmasked (servers must refuse that). */
function frame(first: number, payload: Buffer, mask = true): Buffer {
  return mask
    ? Buffer.concat([Buffer.from([first, 0x80 | payload.length]), MASK, masked(payload)])
    : Buffer.concat([Buffer.from([first, payload.length]), payload]);
}

const violations: Array<[string, Buffer]> = [
  ['RSV1 set (no extension was negotiated)', frame(0x80 | 0x40 | 0x1, ping)],
  ['an unmasked client frame', frame(0x80 | 0x1, ping, false)],
  ['an unknown opcode (0x3)', frame(0x80 | 0x3, ping)],
  ['a continuation frame with no message started', frame(0x80 | 0x0, ping)],
];

/** The close codes docs/protocol.md's table lists (its "## Close codes" section, first column). */
function documentedCloseCodes(): number[] {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/protocol.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Close codes'), doc.indexOf('\n## ', doc.indexOf('## Close codes') + 1));
  return [...section.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
}

describe('RFC 6455 violations close with 1002', () => {
  test("docs/protocol.md's close-code table lists 1002 (ws sends it; the table did not say so)", () => {
    expect(documentedCloseCodes()).toEqual(expect.arrayContaining([1000, 1001, 1002, 1007, 1009]));
  });

  test.each(violations)('%s: close 1002, empty reason; the other socket of the conversation goes on', async (_name, bytes) => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    await alice.waitFor('participant_list');
    (alice.ws as unknown as { _socket: Socket })._socket.write(bytes);
    expect(await alice.closed).toEqual({ code: 1002, reason: '' });
    // No error frame precedes it: ws refuses the frame before the gateway reads it.
    expect(alice.frames.filter((f) => f.type === 'error')).toEqual([]);

    bob.send({ type: 'message', message_id: 'b1', content: 'still here' });
    expect(await bob.waitFor('message_ack', (a) => a.message_id === 'b1')).toMatchObject({ duplicate: false });
    const again = await h.connect(conv, 'alice');
    again.send({ type: 'message', message_id: 'a1', content: 'back' });
    await bob.waitFor('message', (f) => f.message.message_id === 'a1');
    expect(bob.frames.filter((f) => f.type === 'error')).toEqual([]);
  });
});
