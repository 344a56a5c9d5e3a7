import path from 'node:path';
import fs from 'node:fs';
import {
  createChatRuntime,
  createManualClock,
  type ChatMessage,
  type ConversationOutput,
  type ManualClock,
  type SubscribeOptions,
} from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { LEASE_BLOCK } from '../../actors/sequence-lease';
import { SqliteStore } from '../../storage-providers';
import { makeTmpDir, outputCollector, within } from './recovery-helpers';

/** Storage that goes down: journal appends and reservation writes fail (the process then dies, kill -9). */
class FailingSqliteStore extends SqliteStore {
  down = false;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    if (this.down) throw new Error('connection refused');
    return super._appendMessages(conversationId, messages, fenceEpoch);
  }
  protected override async _setSequenceReservation(conversationId: string, upTo: number, fenceEpoch?: number): Promise<void> {
    if (this.down) throw new Error('connection refused');
    return super._setSequenceReservation(conversationId, upTo, fenceEpoch);
  }
}

async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** What a subscriber holds after `outputs`: a `reset` drops the records after its point, records are appended. */
function apply(view: readonly ChatMessage[], outputs: readonly ConversationOutput[]): ChatMessage[] {
  let held = [...view];
  for (const o of outputs) {
    if (o.type === 'reset') held = held.filter((m) => m.sequence_id <= o.after);
    if (o.type !== 'message') continue;
    const last = held.at(-1)?.sequence_id ?? 0;
    // A subscriber keeps records in order by id, each once (the reference client's delivery buffer does).
    expect(o.message.sequence_id).toBe(last + 1);
    held.push(o.message);
  }
  return held;
}

/** Bob resumes on `runtime` as `start` says; resolves with what he got once the replay ended (sync_complete). */
async function resumeBob(runtime: ConversationRegistryRuntime, start: SubscribeOptions): Promise<ReturnType<typeof outputCollector>> {
  const resumed = outputCollector();
  await runtime.subscribe('c', 'bob', resumed.listener, start);
  await within(
    resumed.next((o) => o.type === 'sync_complete'),
    10_000,
    'replay',
  );
  return resumed;
}

const key = (m: ChatMessage): string => `${m.sequence_id} ${m.sender_id} ${m.message_id} ${m.message_type} ${m.content}`;

/**
 * Regression (audit, real processes): while storage is down, sequencing goes on past the stored reservation, so
 * a crash during the outage made the next process mark (last stored, reservation] `lost` and hand out the ids
 * after the reservation again. A client that had received them resumed with its last id and silently kept other
 * records under those ids (and its re-sent message twice). Its resume now names its last record: the runtime sees
 * that the record there is not the client's and replays from before the crash's `lost` run, announced by `reset`.
 */
describe('resume after ids were handed out again (crash during a storage outage)', () => {
  let dir: string;
  const runtimes: ConversationRegistryRuntime[] = [];
  const stores: SqliteStore[] = [];
  const config = { observability: { log_level: 'silent' as const }, chat: { ownership: { instance_id: 'server-1' } } };

  beforeEach(() => {
    dir = makeTmpDir();
  });
  /** The crashed process, closed at the end only to free it: on its manual clock, the close's deadline is advanced. */
  const crashed: Array<{ runtime: ConversationRegistryRuntime; clock: ManualClock }> = [];
  afterEach(async () => {
    for (const { runtime, clock } of crashed.splice(0)) {
      let closed = false;
      const closing = runtime.close({ deadlineMs: 50 }).finally(() => (closed = true));
      for (let i = 0; i < 100 && !closed; i++) {
        clock.advance(100);
        await settle(5);
      }
      await closing;
    }
    for (const r of runtimes.splice(0)) await r.close({ deadlineMs: 50 });
    for (const s of stores.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Alice and bob; 3 records stored, then storage goes down and alice posts 3 x LEASE_BLOCK messages (bob receives
   * them), among them `mine`, and the process dies. A second process on the same file recovers, alice re-sends
   * `mine` and posts until the numbering passes what bob received.
   */
  async function crashDuringOutage() {
    const file = path.join(dir, 'chat.db');
    const firstStore = new FailingSqliteStore({ path: file });
    await firstStore.open();
    stores.push(firstStore);
    const firstClock: ManualClock = createManualClock();
    const first = await createChatRuntime({ config, storage: firstStore, agents: [], clock: firstClock });
    await first.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const stored = await first.post('c', { sender_id: 'alice', message_id: 'stored', content: 'stored' });
    await within(stored.whenPersisted, 10_000, 'stored');
    const bob = outputCollector();
    await first.subscribe('c', 'bob', bob.listener, { afterSequenceId: 0 });
    await within(
      bob.next((o) => o.type === 'sync_complete'),
      10_000,
      'bob replay',
    );

    firstStore.down = true;
    for (let i = 0; i < 3 * LEASE_BLOCK; i++) {
      const content = i === LEASE_BLOCK * 2 ? 'mine' : `before ${i}`;
      await first.post('c', { sender_id: 'alice', message_id: content === 'mine' ? 'mine' : `b${i}`, content });
      await settle(2); // the reservation's renewal fails: sequencing goes on past it
    }
    const bobView = bob.messages;
    const bobLast = bobView.at(-1)!;
    const reserved = await firstStore.getSequenceReservation('c');
    expect(bobLast.sequence_id).toBeGreaterThan(reserved + LEASE_BLOCK); // well past the reservation
    // kill -9: the first process is never closed (afterEach only frees it; its store stays down).
    crashed.push({ runtime: first, clock: firstClock });

    const secondStore = new SqliteStore({ path: file });
    await secondStore.open();
    stores.push(secondStore);
    const second = await createChatRuntime({ config, storage: secondStore, agents: [], clock: createManualClock() });
    runtimes.push(second);
    const resent = await second.post('c', { sender_id: 'alice', message_id: 'mine', content: 'mine' });
    expect(resent.duplicate).toBe(false);
    let next = resent;
    for (let i = 0; next.sequence_id < bobLast.sequence_id + 3; i++) {
      next = await second.post('c', { sender_id: 'alice', message_id: `a${i}`, content: `after ${i}` });
    }
    await within(next.whenPersisted, 10_000, 'after the restart stored');
    const journal = await secondStore.readMessages('c', 0, 10_000);
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
    // The bug's shape: ids bob holds were handed out again with other records.
    const reused = journal.find((m) => m.sequence_id === bobLast.sequence_id)!;
    expect(reused.message_id).not.toBe(bobLast.message_id);
    return { second, bobView, bobLast, journal, storedUpTo: stored.sequence_id };
  }

  it('a resume naming its last record is reset to before the lost run and ends with exactly the journal', async () => {
    const { second, bobView, bobLast, journal, storedUpTo } = await crashDuringOutage();
    const resumed = await resumeBob(second, {
      afterSequenceId: bobLast.sequence_id,
      lastRecord: { message_id: bobLast.message_id, sender_id: bobLast.sender_id },
    });
    expect(resumed.outputs[0]).toEqual({ type: 'reset', after: storedUpTo, last_sequence_id: bobLast.sequence_id });
    const view = apply(bobView, resumed.outputs);
    expect(view.map(key)).toEqual(journal.map(key));
    // `mine` once: under its new id (the journal's), not under the id it had before the crash too.
    expect(view.filter((m) => m.message_id === 'mine')).toHaveLength(1);
    expect(resumed.outputs.find((o) => o.type === 'sync_complete')).toMatchObject({ from: storedUpTo + 1, recovered: true });
  });

  it('a resume from inside the lost run, and one past the end, are reset the same way', async () => {
    const { second, bobView, journal, storedUpTo } = await crashDuringOutage();
    const inside = bobView.find((m) => m.sequence_id === storedUpTo + 2)!;
    const fromInside = await resumeBob(second, {
      afterSequenceId: inside.sequence_id,
      lastRecord: { message_id: inside.message_id, sender_id: inside.sender_id },
    });
    expect(fromInside.outputs[0]).toMatchObject({ type: 'reset', after: storedUpTo });
    const upToInside = bobView.filter((m) => m.sequence_id <= inside.sequence_id);
    expect(apply(upToInside, fromInside.outputs).map(key)).toEqual(journal.map(key));

    const head = journal.at(-1)!.sequence_id;
    const pastEnd = await resumeBob(second, { afterSequenceId: head + 50, lastRecord: { message_id: 'gone', sender_id: 'alice' } });
    expect(pastEnd.outputs[0]).toMatchObject({ type: 'reset', after: storedUpTo, last_sequence_id: head + 50 });
  });

  it('without lastRecord (an older client) the resume is as before: no reset, the diverged records stay', async () => {
    const { second, bobView, bobLast, journal } = await crashDuringOutage();
    const resumed = await resumeBob(second, { afterSequenceId: bobLast.sequence_id });
    expect(resumed.outputs.some((o) => o.type === 'reset')).toBe(false);
    expect(resumed.messages[0].sequence_id).toBe(bobLast.sequence_id + 1);
    expect(apply(bobView, resumed.outputs).map(key)).not.toEqual(journal.map(key));
  });

  it('a resume whose last record matches is unchanged (no reset), also right after the lost run', async () => {
    const { second, journal, storedUpTo } = await crashDuringOutage();
    for (const at of [journal.at(-3)!, journal.find((m) => m.sequence_id === storedUpTo)!, journal.find((m) => m.message_id === 'mine')!]) {
      const resumed = await resumeBob(second, {
        afterSequenceId: at.sequence_id,
        lastRecord: { message_id: at.message_id, sender_id: at.sender_id },
      });
      expect(resumed.outputs.some((o) => o.type === 'reset')).toBe(false);
      const before = journal.filter((m) => m.sequence_id <= at.sequence_id);
      expect(apply(before, resumed.outputs).map(key)).toEqual(journal.map(key));
    }
  });
});
