import type { ConversationOutput } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { runtimeWithConversation } from '../storage/journal-damage';
import { capturedLogger, collector, makeRuntime, settle } from './runtime-helpers';

/** `read` outputs only, as [participant_id, sequence_id]. */
function reads(outputs: readonly ConversationOutput[]): Array<[string, number]> {
  return outputs.flatMap((o) => (o.type === 'read' ? [[o.participant_id, o.sequence_id] as [string, number]] : []));
}

/** A memory store that counts its read-position saves. */
class CountingStore extends MemoryStore {
  saves: Array<Map<string, number>> = [];
  protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
    this.saves.push(new Map(positions));
    return super._saveReadPositions(conversationId, positions);
  }
}

/** A provider written before read positions: the base class's defaults (nothing kept). */
class OldContractStore extends MemoryStore {
  override readonly supports = Object.freeze({ ...new MemoryStore().supports, readPositions: false });
  protected override async _getReadPositions(): Promise<Map<string, number>> {
    return new Map();
  }
  protected override async _saveReadPositions(): Promise<void> {}
}

/** A store that keeps read positions but was written before lowerReadPositions. */
class NoLoweringStore extends MemoryStore {
  override readonly supports = Object.freeze({ ...new MemoryStore().supports, lowerReadPositions: false });
}

/** A store whose lowering fails (the store is unreachable for that write). */
class FailingLoweringStore extends MemoryStore {
  protected override async _lowerReadPositions(): Promise<number> {
    throw new Error('store unreachable');
  }
}

/** alice (owner, join record 1), bob (2), the mode change to multi (3), carol (4); bob posts 5..9. */
async function room(options: Parameters<typeof makeRuntime>[0] = {}) {
  const made = await makeRuntime(options);
  await made.runtime.createConversation({
    conversation_id: 'c1',
    created_by: 'alice',
    participants: [
      { participant_id: 'bob', participant_type: 'human' },
      { participant_id: 'carol', participant_type: 'human' },
    ],
  });
  for (let i = 1; i <= 5; i++) await made.runtime.post('c1', { sender_id: 'bob', message_id: `b${i}`, content: `line ${i}` });
  return made;
}

describe('read positions (runtime)', () => {
  it('a member starts at its join record; marks raise it, never lower it; past the head is taken as the head', async () => {
    const { runtime } = await room();
    const sub = await runtime.subscribe('c1', 'alice', () => undefined);
    expect(sub.readPositions).toEqual({ alice: 1, bob: 2, carol: 4 });
    expect(await runtime.markRead('c1', 'alice', 5)).toBe(5);
    expect(await runtime.markRead('c1', 'alice', 4)).toBe(5);
    expect(await runtime.markRead('c1', 'carol', 2)).toBe(4);
    expect(await runtime.markRead('c1', 'alice', 1_000)).toBe(9);
    expect(sub.readPositions).toEqual({ alice: 9, bob: 2, carol: 4 });
    await expect(runtime.markRead('c1', 'mallory', 3)).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT' });
    await expect(runtime.markRead('c1', 'alice', -1)).rejects.toMatchObject({ code: 'CHAT_ERR_INVALID_ARGUMENT' });
    // Not records: no sequence id was taken.
    expect((await runtime.getConversation('c1')).last_sequence_id).toBe(9);
    await runtime.close();
  });

  it("one member's rapid marks reach every connection at once, then at most once per interval with the latest", async () => {
    const { runtime, clock } = await room({ config: { chat: { read_positions: { announce_interval_ms: 1000 } } } });
    const alice = collector();
    const aliceTab2 = collector();
    const bob = collector();
    await runtime.subscribe('c1', 'alice', alice.listener);
    await runtime.subscribe('c1', 'alice', aliceTab2.listener);
    await runtime.subscribe('c1', 'bob', bob.listener);
    await runtime.markRead('c1', 'alice', 4);
    expect(reads(bob.outputs)).toEqual([['alice', 4]]);
    // Ten more within the interval: nothing until it ends, then one frame with the last.
    for (let id = 5; id <= 8; id++) {
      clock.advance(100);
      await runtime.markRead('c1', 'alice', id);
    }
    expect(reads(bob.outputs)).toEqual([['alice', 4]]);
    clock.advance(599);
    expect(reads(bob.outputs)).toEqual([['alice', 4]]);
    clock.advance(1);
    expect(reads(bob.outputs)).toEqual([
      ['alice', 4],
      ['alice', 8],
    ]);
    // The reader's own tabs hear it too (another tab clears its unread mark); another member has its own interval.
    expect(reads(alice.outputs)).toEqual(reads(bob.outputs));
    expect(reads(aliceTab2.outputs)).toEqual(reads(bob.outputs));
    await runtime.markRead('c1', 'carol', 6);
    expect(reads(bob.outputs).at(-1)).toEqual(['carol', 6]);
    // Nothing waiting: no more frames however long.
    clock.advance(10_000);
    expect(reads(bob.outputs)).toHaveLength(3);
    await runtime.close();
  });

  it('saves are coalesced on the save interval and survive a restart; they are not journal records', async () => {
    const store = new CountingStore();
    const first = await room({ store, config: { chat: { read_positions: { save_interval_ms: 2000 } } } });
    for (let id = 4; id <= 8; id++) await first.runtime.markRead('c1', 'alice', id);
    await first.runtime.markRead('c1', 'bob', 6);
    expect(store.saves).toEqual([]);
    first.clock.advance(2000);
    await settle();
    expect(store.saves).toEqual([
      new Map([
        ['alice', 8],
        ['bob', 6],
      ]),
    ]);
    await first.runtime.markRead('c1', 'carol', 7);
    // A clean stop writes what the interval had not.
    await first.runtime.close();
    expect(store.saves).toHaveLength(2);
    expect(await store.lastSequenceId('c1')).toBe(9);
    const second = await makeRuntime({ store });
    expect((await second.runtime.subscribe('c1', 'bob', () => undefined)).readPositions).toEqual({ alice: 8, bob: 6, carol: 7 });
    expect(await second.runtime.readState('c1', 'carol')).toEqual({ readUpTo: 7, unreadCount: 2 });
    await second.runtime.close();
  });

  it('close() waits for the save of a conversation passivated just before (a store closed after it would lose it)', async () => {
    class GatedSaves extends MemoryStore {
      private opened: (() => void) | undefined;
      readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
      letSavesThrough(): void {
        this.opened?.();
      }
      protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
        await this.gate;
        return super._saveReadPositions(conversationId, positions);
      }
    }
    const store = new GatedSaves();
    const { runtime, clock } = await room({ store, config: { chat: { supervision: { idle_timeout_s: 30 } } } });
    await runtime.markRead('c1', 'alice', 7);
    await settle();
    clock.advance(30_000);
    expect(runtime.health().conversations).toBe(0);
    let closed = false;
    const closing = runtime.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    store.letSavesThrough();
    await closing;
    expect(await store.getReadPositions('c1')).toEqual(new Map([['alice', 7]]));
  });

  it("readState counts others' messages after the position, from memory and from the store", async () => {
    // A cache of one record: most of the range is counted by the store.
    const { runtime } = await room({ config: { chat: { cache: { recent_messages: 1 } } } });
    await settle();
    expect(await runtime.readState('c1', 'alice')).toEqual({ readUpTo: 1, unreadCount: 5 });
    // Bob's own posts are never unread to him; the joins are not messages.
    expect(await runtime.readState('c1', 'bob')).toEqual({ readUpTo: 2, unreadCount: 0 });
    await runtime.post('c1', { sender_id: 'alice', message_id: 'a1', content: 'hi' });
    expect(await runtime.readState('c1', 'bob')).toEqual({ readUpTo: 2, unreadCount: 1 });
    await runtime.markRead('c1', 'alice', 6);
    expect(await runtime.readState('c1', 'alice')).toEqual({ readUpTo: 6, unreadCount: 3 });
    await expect(runtime.readState('c1', 'mallory')).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT' });
    await runtime.close();
  });

  it('an unread count that memory alone takes to the cap (1000) asks the store nothing', async () => {
    class CountCounting extends MemoryStore {
      counts = 0;
      override async countUnread(...args: Parameters<MemoryStore['countUnread']>): ReturnType<MemoryStore['countUnread']> {
        this.counts++;
        return super.countUnread(...args);
      }
    }
    const store = new CountCounting();
    // A cache of 1005 records of 1104: the ids before it are the store's.
    const { runtime } = await room({ store, config: { chat: { cache: { recent_messages: 1005 } } } });
    for (let i = 6; i <= 1100; i++) await runtime.post('c1', { sender_id: 'bob', message_id: `b${i}`, content: `line ${i}` });
    await settle();
    expect(await runtime.readState('c1', 'alice')).toEqual({ readUpTo: 1, unreadCount: 1000 });
    expect(store.counts).toBe(0);
    // Below the cap, a range reaching before the cache is still the store's to count.
    await runtime.markRead('c1', 'alice', 50);
    expect((await runtime.readState('c1', 'alice')).unreadCount).toBe(1000);
    await runtime.markRead('c1', 'alice', 900);
    expect((await runtime.readState('c1', 'alice')).unreadCount).toBe(1104 - 900);
    await runtime.close();
  });

  it('a save that fails while the conversation lives says it retries; one that fails as it stops says the raises are lost', async () => {
    class FailingSaves extends MemoryStore {
      protected override async _saveReadPositions(): Promise<void> {
        throw new Error('disk full');
      }
    }
    const { logger, logged } = capturedLogger('warn');
    const { runtime, clock } = await room({ store: new FailingSaves(), logger });
    await runtime.markRead('c1', 'alice', 6);
    clock.advance(2000);
    await settle();
    await runtime.markRead('c1', 'alice', 7);
    await runtime.close();
    expect(logged.filter((l) => String(l.msg).startsWith('saving read positions failed')).map((l) => l.msg)).toEqual([
      'saving read positions failed; retrying',
      'saving read positions failed as the conversation stopped: the raises since the last save are lost (shown unread again)',
    ]);
  });

  it('a save that keeps failing is logged at once, then once a minute with the failures left out, and once when it works again', async () => {
    class FlakySaves extends MemoryStore {
      failing = true;
      protected override async _saveReadPositions(conversationId: string, positions: ReadonlyMap<string, number>): Promise<void> {
        if (this.failing) throw new Error('disk full');
        return super._saveReadPositions(conversationId, positions);
      }
    }
    const store = new FlakySaves();
    const { logger, logged } = capturedLogger('warn');
    const { runtime, clock } = await room({ store, logger });
    // A connection keeps the conversation live (no passivation) through the minute.
    await runtime.subscribe('c1', 'alice', () => undefined);
    const lines = () =>
      logged
        .filter((l) => String(l.msg).startsWith('saving read positions'))
        .map((l) => [l.msg, l.conversation_id, l.suppressed, ...(l.failures === undefined ? [] : [l.failures])]);
    await runtime.markRead('c1', 'alice', 6);
    // Tried every save interval (2 s): at 2 s (written), 4 s ... 60 s (29 left out), 62 s (written, counting them).
    for (let t = 2000; t <= 62_000; t += 2000) {
      clock.advance(2000);
      await settle();
    }
    expect(lines()).toEqual([
      ['saving read positions failed; retrying', 'c1', 0],
      ['saving read positions failed; retrying', 'c1', 29],
    ]);
    store.failing = false;
    clock.advance(2000);
    await settle();
    expect((await store.getReadPositions('c1')).get('alice')).toBe(6);
    // Saves that work say nothing more; a new failure is written at once again.
    await runtime.markRead('c1', 'alice', 7);
    clock.advance(2000);
    await settle();
    store.failing = true;
    await runtime.markRead('c1', 'alice', 8);
    clock.advance(2000);
    await settle();
    expect(lines()).toEqual([
      ['saving read positions failed; retrying', 'c1', 0],
      ['saving read positions failed; retrying', 'c1', 29],
      ['saving read positions works again', 'c1', 0, 31],
      ['saving read positions failed; retrying', 'c1', 0],
    ]);
    await runtime.close();
  });

  it("a stored position past the conversation's end is taken down to it at load: the journal's, or the reservation's after a crash", async () => {
    // c1 went to #10, stored; bob's kept position says #30 (the journal lost its end: a copy older than the positions).
    const store = new MemoryStore();
    await (await runtimeWithConversation(store, 10)).close();
    await store.saveReadPositions('c1', new Map([['bob', 30]]));
    const first = await makeRuntime({ store });
    expect(await first.runtime.readState('c1', 'bob')).toEqual({ readUpTo: 10, unreadCount: 0 });
    // Taken down in memory only: it does not rise again with the conversation (a record past #10 is new to bob).
    for (let i = 1; i <= 25; i++) await first.runtime.post('c1', { sender_id: 'alice', message_id: `n${i}`, content: `new ${i}` });
    expect(await first.runtime.readState('c1', 'bob')).toEqual({ readUpTo: 10, unreadCount: 25 });
    await first.runtime.close();

    // A crash left a reservation past the journal (#35 -> #40): those ids become `lost` records, so a position among
    // them still names an id of this conversation and stands; one past the reservation is taken down to it.
    await store.setSequenceReservation('c1', 40);
    await store.saveReadPositions(
      'c1',
      new Map([
        ['bob', 38],
        ['alice', 44],
      ]),
    );
    const second = await makeRuntime({ store });
    expect((await second.runtime.getConversation('c1')).last_sequence_id).toBe(40);
    expect(await second.runtime.readState('c1', 'bob')).toEqual({ readUpTo: 38, unreadCount: 0 });
    expect(await second.runtime.readState('c1', 'alice')).toEqual({ readUpTo: 40, unreadCount: 0 });
    await second.runtime.close();
  });

  it("the store's position is lowered at load too: journal at #10, stored #30 -> the store holds #10", async () => {
    const store = new MemoryStore();
    await (await runtimeWithConversation(store, 10)).close();
    await store.saveReadPositions('c1', new Map([['bob', 30]]));
    const { logger, logged } = capturedLogger('warn');
    const first = await makeRuntime({ store, logger });
    expect(await first.runtime.readState('c1', 'bob')).toEqual({ readUpTo: 10, unreadCount: 0 });
    // Before: the store kept #30 for good (saves only raise), so once 25 new records passed it, a reader of the store
    // took bob to have read 30 of them.
    expect(await store.getReadPositions('c1')).toEqual(new Map([['bob', 10]]));
    expect(logged.filter((l) => l.msg === "read positions above the conversation's end lowered in the store")).toEqual([
      expect.objectContaining({ conversation_id: 'c1', up_to: 10, lowered: 1 }),
    ]);
    for (let i = 1; i <= 25; i++) await first.runtime.post('c1', { sender_id: 'alice', message_id: `n${i}`, content: `new ${i}` });
    await first.runtime.close();
    // Another server on the store, c1 not loaded: its list page reads the stored position (before: 30, 5 unread).
    const other = await makeRuntime({ store });
    const page = await other.runtime.listConversationPage('bob', { limit: 10 });
    expect(page.entries.map((e) => [e.meta.conversation_id, e.readUpTo, e.unreadCount])).toEqual([['c1', 10, 25]]);
    await other.runtime.close();
  });

  it('a store that keeps positions but cannot lower them still loads: the position is taken down in memory only', async () => {
    const store = new NoLoweringStore();
    await (await runtimeWithConversation(store, 10)).close();
    await store.saveReadPositions('c1', new Map([['bob', 30]]));
    const { runtime } = await makeRuntime({ store });
    expect(await runtime.readState('c1', 'bob')).toEqual({ readUpTo: 10, unreadCount: 0 });
    expect(await store.getReadPositions('c1')).toEqual(new Map([['bob', 30]]));
    await runtime.close();
  });

  it('a failed lowering is logged and the conversation loads all the same (taken down in memory)', async () => {
    const store = new FailingLoweringStore();
    await (await runtimeWithConversation(store, 10)).close();
    await store.saveReadPositions('c1', new Map([['bob', 30]]));
    const { logger, logged } = capturedLogger('warn');
    const { runtime } = await makeRuntime({ store, logger });
    expect(await runtime.readState('c1', 'bob')).toEqual({ readUpTo: 10, unreadCount: 0 });
    expect(logged.filter((l) => l.msg === "lowering read positions above the conversation's end failed; kept lowered in memory")).toEqual([
      expect.objectContaining({ conversation_id: 'c1', up_to: 10 }),
    ]);
    await runtime.close();
  });

  it('a conversation list page carries the reader position and unread count, live or not', async () => {
    const store = new MemoryStore();
    const { runtime } = await room({ store });
    await runtime.markRead('c1', 'carol', 5);
    const live = await runtime.listConversationPage('carol', { limit: 10 });
    expect(live.entries.map((e) => [e.meta.conversation_id, e.readUpTo, e.unreadCount])).toEqual([['c1', 5, 4]]);
    await runtime.close();
    // Another runtime on the store, the conversation not loaded: the stored position and the journal's records.
    const other = await makeRuntime({ store });
    const stored = await other.runtime.listConversationPage('carol', { limit: 10 });
    expect(stored.entries.map((e) => [e.meta.conversation_id, e.readUpTo, e.unreadCount])).toEqual([['c1', 5, 4]]);
    const aliceView = await other.runtime.listConversationPage('alice', { limit: 10 });
    expect(aliceView.entries.map((e) => [e.readUpTo, e.unreadCount])).toEqual([[1, 5]]);
    await other.runtime.close();
  });

  it('a store written before read positions: they work while the conversation is live, and restart from the joins', async () => {
    const store = new OldContractStore();
    const first = await room({ store });
    expect(await first.runtime.markRead('c1', 'alice', 7)).toBe(7);
    expect(await first.runtime.readState('c1', 'alice')).toEqual({ readUpTo: 7, unreadCount: 2 });
    await first.runtime.close();
    const second = await makeRuntime({ store });
    expect(await second.runtime.readState('c1', 'alice')).toEqual({ readUpTo: 1, unreadCount: 5 });
    await second.runtime.close();
  });
});
