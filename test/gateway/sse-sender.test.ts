import type { ChatMessage } from '../../actors/message-types';
import { createNoopLogger } from '../../gateway';
import { messageFrameJson } from '../../gateway/frame-json';
import { SharedFrames } from '../../gateway/shared-frames';
import { SseSender } from '../../gateway/sse-sender';
import type { TurnWriteBatch } from '../../gateway/turn-write-batch';

const record: ChatMessage = Object.freeze({
  message_id: 'm7',
  conversation_id: 'c',
  sequence_id: 7,
  sender_id: 'alice',
  sender_type: 'human',
  message_type: 'text',
  content: 'line\nwith a break',
  timestamp: '2026-12-07T06:00:00.000Z',
  metadata: Object.freeze({}),
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A sender over a stream holding `held` bytes, recording what it hands its batch. */
function sender(shared: SharedFrames, held = 0) {
  const written: Buffer[] = [];
  let dropped = 0;
  const batch = { write: (b: Buffer) => written.push(b), flush: () => undefined } as unknown as TurnWriteBatch;
  const s = new SseSender({
    stream: { writableLength: held },
    highWaterBytes: 1024,
    log: createNoopLogger(),
    sharedFrames: shared,
    lastSentSequenceId: () => 0,
    isClosing: () => dropped > 0,
    onSlowConsumer: () => dropped++,
    batch,
  });
  return { s, written, dropped: () => dropped };
}

describe('SseSender', () => {
  it("writes a record as one event with its sequence id as the id, the frame's JSON on one data line", () => {
    const { s, written } = sender(new SharedFrames());
    s.message(record);
    expect(written.map(String)).toEqual([`id: 7\nevent: message\ndata: ${messageFrameJson(record)}\n\n`]);
    expect(
      String(written[0])
        .split('\n')
        .filter((l) => l.startsWith('data: ')),
    ).toHaveLength(1);
  });

  it('encodes a record and a broadcast once per turn for every stream of the room', async () => {
    const shared = new SharedFrames();
    const a = sender(shared);
    const b = sender(shared);
    const presence = { type: 'presence' };
    let builds = 0;
    const build = () => {
      builds++;
      return { type: 'presence' as const, participant_id: 'bob', online: true };
    };
    for (const x of [a, b]) {
      x.s.message(record);
      x.s.shared(presence, build);
    }
    expect(b.written[0]).toBe(a.written[0]);
    expect(b.written[1]).toBe(a.written[1]);
    expect(builds).toBe(1);
    expect(String(a.written[1])).toBe('event: presence\ndata: {"type":"presence","participant_id":"bob","online":true}\n\n');
    // The WebSocket bytes of the same record are other bytes, kept apart.
    expect(shared.message(record).equals(a.written[0]!)).toBe(false);
    await nextTurn();
    a.s.message(record);
    expect(a.written[2]).not.toBe(a.written[0]);
    expect(a.written[2]!.equals(a.written[0]!)).toBe(true);
  });

  it('writes nothing and calls the slow-consumer hook once the stream holds more than the high-water mark', () => {
    const slow = sender(new SharedFrames(), 1025);
    slow.s.message(record);
    expect([slow.written.length, slow.dropped()]).toEqual([0, 1]);
    const atMark = sender(new SharedFrames(), 1024);
    atMark.s.message(record);
    expect([atMark.written.length, atMark.dropped()]).toEqual([1, 0]);
  });
});
