/**
 * An edit stored while its conversation stops (passivated, moved, shut down) before the `edit` record is sequenced
 * (docs/conversations.md, Edits and deletes): the record must still reach the journal, on the conversation as it is
 * loaded again, or when the same edit is sent again. Real server on 127.0.0.1 port 0, the memory store, the
 * runtime's clock a manual one (passivation's idle timer).
 */
import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import type { ContentReplacement } from '../../storage-providers/chat-store';
import { MemoryStore } from '../../storage-providers/memory-store';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

const IDLE_TIMEOUT_S = 60;

/** A memory store whose next content replacement waits until `release()`; `entered` resolves when it is called. */
class GatedStore extends MemoryStore {
  gate: { entered: Promise<void>; release: () => void } | undefined;
  private onEnter: (() => void) | undefined;
  private opened: Promise<void> = Promise.resolve();

  holdNextReplacement(): void {
    let release!: () => void;
    this.opened = new Promise<void>((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (this.onEnter = resolve));
    this.gate = { entered, release };
  }

  protected override async _replaceMessageContent(
    conversationId: string,
    sequenceId: number,
    replacement: ContentReplacement,
    fenceEpoch?: number,
  ) {
    this.onEnter?.();
    this.onEnter = undefined;
    await this.opened;
    return super._replaceMessageContent(conversationId, sequenceId, replacement, fenceEpoch);
  }
}

async function records(h: Harness, conv: string): Promise<ChatMessage[]> {
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
  expect(page.status).toBe(200);
  return page.body.messages as ChatMessage[];
}

async function postM1(h: Harness, conv: string): Promise<number> {
  const posted = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm1', content: 'hello' });
  expect(posted.status).toBe(201);
  return posted.body.sequence_id as number;
}

test('a conversation passivated while its edit is being stored still gets the edit record, on its next load', async () => {
  const runtimeClock = createManualClock();
  const store = new GatedStore();
  const h = await startHarness({ chat: { supervision: { idle_timeout_s: IDLE_TIMEOUT_S } } }, { store, runtimeClock });
  const conv = await h.createConversation('alice', ['bob']);
  const m1 = await postM1(h, conv);

  store.holdNextReplacement();
  const editing = h.request('POST', `/chat/conversations/${conv}/edit`, 'alice', { message_id: 'm1', content: 'hello, edited' });
  await store.gate!.entered;
  // Nobody connected, nothing queued: the idle timer armed by the edit's use of the conversation passivates it.
  runtimeClock.advance(IDLE_TIMEOUT_S * 1000);
  expect(h.runtime.health().conversations).toBe(0);
  store.gate!.release();
  const answer = await editing;
  expect([answer.status, answer.body.changed]).toEqual([200, true]);

  const edits = (await records(h, conv)).filter((m) => m.message_type === 'edit');
  expect(edits.map((m) => [m.message_id, m.content])).toEqual([[`edit-${m1}-1`, 'hello, edited']]);
});

test('an edit stored but never announced is announced when the same edit is sent again; sent a third time, nothing more', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice', ['bob']);
  const m1 = await postM1(h, conv);
  const bob = await h.connect(conv, 'bob');
  // What a stop between storing the edit and sequencing its record leaves: the record changed, no edit record.
  const stored = await h.store.replaceMessageContent(conv, m1, {
    senderId: 'alice',
    content: 'hello, edited',
    metadata: { edited: true, edited_at: '2026-01-01T00:00:00.000Z', edit_count: 1 },
  });
  expect(stored?.content).toBe('hello, edited');

  const edit = () => h.request('POST', `/chat/conversations/${conv}/edit`, 'alice', { message_id: 'm1', content: 'hello, edited' });
  const again = await edit();
  expect([again.status, again.body.changed]).toEqual([200, true]);
  const { message } = await bob.waitFor('message', (f) => f.message.message_type === 'edit');
  expect(message).toMatchObject({
    message_id: `edit-${m1}-1`,
    content: 'hello, edited',
    metadata: { edited_sequence_id: m1, edited_message_id: 'm1', sender_id: 'alice', edit_count: 1, edited_at: '2026-01-01T00:00:00.000Z' },
  });
  const third = await edit();
  expect(third.body.changed).toBe(false);
  expect((await records(h, conv)).filter((m) => m.message_type === 'edit')).toHaveLength(1);
});
