import type { ChatMessage } from '../../actors/message-types';
import { messageFrameJson } from '../../gateway/frame-json';
import { SharedFrames } from '../../gateway/shared-frames';
import { encodeTextFrame } from '../../gateway/text-frames';

const record = (sequenceId: number): ChatMessage =>
  Object.freeze({
    message_id: `m${sequenceId}`,
    conversation_id: 'c',
    sequence_id: sequenceId,
    sender_id: 'alice',
    sender_type: 'human',
    message_type: 'text',
    content: `line ${sequenceId}`,
    timestamp: '2026-12-05T07:50:00.000Z',
    metadata: Object.freeze({}),
  });

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SharedFrames (serialise once per turn)', () => {
  it('hands every recipient of a record the same encoded frame within a turn, and builds it again next turn', async () => {
    const frames = new SharedFrames();
    const first = record(1);
    const a = frames.message(first);
    expect(frames.message(first)).toBe(a);
    expect(a.equals(encodeTextFrame(messageFrameJson(first)))).toBe(true);
    expect(frames.message(record(2))).not.toBe(a);
    await nextTurn();
    const again = frames.message(first);
    expect(again).not.toBe(a);
    expect(again.equals(a)).toBe(true);
  });

  it('builds a broadcast frame once per turn however many recipients ask', async () => {
    const frames = new SharedFrames();
    const key = {};
    let builds = 0;
    const build = () => {
      builds++;
      return { type: 'typing' as const, participant_id: 'alice', is_typing: true };
    };
    for (let i = 0; i < 5; i++) frames.bytes(key, build);
    expect(builds).toBe(1);
    await nextTurn();
    frames.bytes(key, build);
    expect(builds).toBe(2);
  });
});
