import type { ConversationOutput } from '../../actors';
import type { ChatMessage } from '../../actors/message-types';
import type { DeliveryProgress } from '../../gateway/delivery-progress';
import type { FrameSender } from '../../gateway/frame-sender';
import { forwardOutput, type OutputTarget } from '../../gateway/output-frames';
import { collector, makeRuntime, settle } from '../actors/runtime-helpers';

/**
 * A step's last record says so (endsDelivery), and the gateway writes someone else's records at that point
 * instead of a microtask after the step's other effects (journal, acks, agent turns).
 */
describe('endsDelivery: the last record of an actor step', () => {
  it('marks only the last record each step hands over', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    const conv = await runtime.createConversation({
      created_by: 'alice',
      title: 't',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const bob = collector();
    await runtime.subscribe(conv.conversation_id, 'bob', bob.listener);
    // Three posts in the same tick are sequenced by one step; a fourth later by a step of its own.
    await Promise.all(
      ['m1', 'm2', 'm3'].map((id) => runtime.post(conv.conversation_id, { sender_id: 'alice', message_id: id, content: id })),
    );
    await runtime.post(conv.conversation_id, { sender_id: 'alice', message_id: 'm4', content: 'm4' });
    await settle();
    const marks = bob.outputs.flatMap((o) => (o.type === 'message' ? [[o.message.message_id, o.endsDelivery === true] as const] : []));
    expect(marks).toEqual([
      ['m1', false],
      ['m2', false],
      ['m3', true],
      ['m4', true],
    ]);
    await runtime.close();
  });
});

describe("forwardOutput writes a socket's held frames at the end of a step", () => {
  const record = (sender: string, seq: number): ChatMessage => ({
    message_id: `m${seq}`,
    conversation_id: 'c',
    sequence_id: seq,
    sender_id: sender,
    sender_type: 'human',
    message_type: 'text',
    content: 'hi',
    timestamp: '2026-12-05T00:00:00.000Z',
    metadata: {},
  });

  function fakeTarget(userId: string): { target: OutputTarget; calls: string[] } {
    const calls: string[] = [];
    const sender = {
      message: (m: ChatMessage, soon: boolean) => calls.push(`message ${m.sequence_id} soon=${soon}`),
      frame: () => calls.push('frame'),
      flushHeld: () => calls.push('flush'),
    } as unknown as FrameSender;
    const progress = { sent: () => undefined } as unknown as DeliveryProgress;
    return {
      target: {
        userId,
        sender,
        progress,
        liveAfter: 0,
        isLeaving: false,
        readBatches: false,
        presenceBatches: false,
        closeWith: () => undefined,
      },
      calls,
    };
  }
  const out = (message: ChatMessage, endsDelivery: boolean): ConversationOutput =>
    endsDelivery ? { type: 'message', message, endsDelivery: true } : { type: 'message', message };

  it("flushes after someone else's last record of the step, not after the others", () => {
    const { target, calls } = fakeTarget('bob');
    forwardOutput(out(record('alice', 1), false), target);
    forwardOutput(out(record('alice', 2), true), target);
    // The last is held rather than `soon` (no microtask), and written by the flush right after it.
    expect(calls).toEqual(['message 1 soon=true', 'message 2 soon=false', 'flush']);
  });

  it("leaves a sender's own record held for its message_ack (written together at the end of the turn)", () => {
    const { target, calls } = fakeTarget('alice');
    forwardOutput(out(record('alice', 1), true), target);
    expect(calls).toEqual(['message 1 soon=false']);
  });
});
