import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** A memory journal whose writes wait until released (storage slower than one event-loop turn). */
class SlowJournal extends MemoryStore {
  private release: () => void = () => undefined;
  private gate: Promise<void> | undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  releaseWrites(): void {
    this.gate = undefined;
    this.release();
  }
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.gate) await this.gate;
    return super._appendMessages(conversationId, messages);
  }
}

describe('message_ack', () => {
  test('a journal that keeps up: one ack per post, persisted, after the echo; the peer gets the message', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    for (let i = 0; i < 5; i++) alice.send({ type: 'message', message_id: `m${i}`, content: `hello ${i}` });
    await alice.until(() => alice.frames.filter((f) => f.type === 'message_ack').length === 5);
    await bob.waitFor('message', (f) => f.message.message_id === 'm4');
    const acks = alice.frames.filter((f) => f.type === 'message_ack');
    expect(acks.map((a) => [a.message_id, a.persisted, a.duplicate])).toEqual([0, 1, 2, 3, 4].map((i) => [`m${i}`, true, false]));
    for (const ack of acks) {
      const echo = alice.frames.findIndex((f) => f.type === 'message' && f.message.message_id === ack.message_id);
      expect(echo).toBeGreaterThanOrEqual(0);
      expect(echo).toBeLessThan(alice.frames.indexOf(ack));
      expect(alice.frames[echo]).toMatchObject({ message: { sequence_id: ack.sequence_id } });
    }
  });

  test('a journal slower than the turn: an ack saying persisted false, then one saying true once stored', async () => {
    const store = new SlowJournal();
    const h = await startHarness({}, { store });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    store.hold();
    alice.send({ type: 'message', message_id: 'slow', content: 'waits for the journal' });
    const first = await alice.waitFor('message_ack', (a) => a.message_id === 'slow');
    expect(first.persisted).toBe(false);
    store.releaseWrites();
    const second = await alice.waitFor('message_ack', (a) => a.message_id === 'slow' && a.persisted);
    expect(second.sequence_id).toBe(first.sequence_id);
    expect(alice.frames.filter((f) => f.type === 'message_ack')).toHaveLength(2);
  });
});
