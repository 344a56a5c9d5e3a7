import type { ChatMessage } from '../../actors';
import type { TurnRequest } from '../../actors/conversation-context';
import { OfferCursor, turnNeedsMark } from '../../actors/offer-cursor';
import { msg } from '../../testing/store-contract/fixtures';

/**
 * The marks of what the agents were offered (actors/offer-cursor.ts): which turns need one, and how they are
 * written (at once, one write in flight, the latest after it, kept across a failed write).
 */

const post = (seq: number, senderType: ChatMessage['sender_type'] = 'human'): ChatMessage =>
  msg('c', seq, { sender_type: senderType, message_id: `p${seq}` });

function turn(participantId: string, burst: readonly ChatMessage[]): TurnRequest {
  const trigger = burst[burst.length - 1];
  return {
    jobId: `c:${trigger.sequence_id}:${participantId}`,
    agentId: participantId,
    participantId,
    trigger,
    burst,
    answeredSequenceIds: burst.map((m) => m.sequence_id),
    recentHumanMessages: [],
    lastAiAnswer: [],
    chainDepth: 0,
  };
}

const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('turnNeedsMark', () => {
  it('marks every multi-mode turn answering human posts, and single-mode ones whose posts waited', () => {
    const burst = [post(4), post(5)];
    expect(turnNeedsMark(turn('a', burst), 'multi', Infinity)).toBe(true);
    // Single mode, offered in the step that sequenced the post: a load never offers a single-mode post again.
    expect(turnNeedsMark(turn('a', [post(5)]), 'single', 5)).toBe(false);
    // Single mode, posts that waited (a typing window, or a multi-mode burst over a leave).
    expect(turnNeedsMark(turn('a', burst), 'single', 5)).toBe(true);
    expect(turnNeedsMark(turn('a', burst), 'single', 9)).toBe(true);
    // A chain's turn (an AI answer offered to the other agents) is not about the humans' posts.
    expect(turnNeedsMark(turn('a', [post(6, 'ai')]), 'multi', Infinity)).toBe(false);
  });
});

describe('OfferCursor', () => {
  it('writes the highest mark per AI member after the step, one write in flight, the latest after it', async () => {
    const writes: Array<Map<string, number>> = [];
    let finishWrite!: () => void;
    const cursor = new OfferCursor({
      save: async (marks) => {
        writes.push(new Map(marks));
        await new Promise<void>((resolve) => (finishWrite = resolve));
      },
      saveFailed: () => undefined,
    });
    cursor.offered({ mode: 'multi', emitted: [], turns: [turn('a', [post(4)]), turn('b', [post(4)])] });
    expect(writes).toEqual([]); // not inside the step
    await microtasks();
    expect(writes).toEqual([
      new Map([
        ['a', 4],
        ['b', 4],
      ]),
    ]);
    cursor.offered({ mode: 'multi', emitted: [], turns: [turn('a', [post(6)])] });
    cursor.offered({ mode: 'multi', emitted: [], turns: [turn('a', [post(8)])] });
    await microtasks();
    expect(writes).toHaveLength(1); // the first is still in flight
    finishWrite();
    await microtasks();
    expect(writes[1]).toEqual(new Map([['a', 8]]));
    finishWrite();
    await cursor.flush();
    expect(writes).toHaveLength(2);
  });

  it("marks every leftover turn a machine crash left that answers human posts, whatever its mode (none of a chain's)", async () => {
    const saved: Array<Map<string, number>> = [];
    const cursor = new OfferCursor({ save: async (marks) => void saved.push(new Map(marks)), saveFailed: () => undefined });
    cursor.offeredLeftovers([turn('a', [post(5)]), turn('b', [post(7, 'ai')])]);
    await cursor.flush();
    expect(saved).toEqual([new Map([['a', 5]])]);
  });

  it('a failed write keeps its marks: the next offer or the flush writes them', async () => {
    const saved: Array<Map<string, number>> = [];
    const failures: unknown[] = [];
    let down = true;
    const cursor = new OfferCursor({
      save: async (marks) => {
        if (down) throw new Error('store down');
        saved.push(new Map(marks));
      },
      saveFailed: (err) => failures.push(err),
    });
    cursor.offered({ mode: 'multi', emitted: [], turns: [turn('a', [post(4)])] });
    await microtasks();
    expect(failures).toHaveLength(1);
    down = false;
    await cursor.flush();
    expect(saved).toEqual([new Map([['a', 4]])]);
    await cursor.flush();
    expect(saved).toHaveLength(1); // nothing left to write
  });
});
