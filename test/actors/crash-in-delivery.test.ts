import { createEchoAgent, type ChatMessage } from '../../actors';
import type { AnyStateNode } from 'xstate';
import { conversationMachine } from '../../actors/conversation-machine';
import { MemoryStore } from '../../storage-providers';
import { makeCrashingRuntime } from './crash-helpers';
import { collector, settle } from './runtime-helpers';

const human = (id: string) => ({ participant_id: id, participant_type: 'human' as const });
const ids = (records: readonly ChatMessage[]) => records.map((m) => m.sequence_id);
const consecutive = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The journal holds 1..upTo without a gap (the store refuses gaps; this also proves nothing is missing at the end). */
async function expectJournalUpTo(store: MemoryStore, upTo: number): Promise<ChatMessage[]> {
  const journal = await store.readMessages('c', 0, 1000);
  expect(ids(journal)).toEqual(consecutive(1, upTo));
  return journal;
}

/** A live connection saw each id once, in order, from its first record to `upTo`. */
function expectOneStream(seen: readonly ChatMessage[], upTo: number): void {
  expect(ids(seen)).toEqual(consecutive(seen[0].sequence_id, upTo));
}

describe('a machine crash while a step hands its records to the connections', () => {
  it('keeps the records the step sequenced: the post is accepted, stored, its id never reused, every connection sees one stream', async () => {
    const { runtime, store, subscribeAroundFault } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob'), human('carol')] });
    const { before: alice, after: carol } = await subscribeAroundFault(['alice', 'bob', 'carol'], (m) => m.content === 'seen by some');
    const before = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'before' });

    const crashed = await runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'seen by some' });
    // alice's connection (before the faulty one) saw the record; the caller is told it was accepted under that id.
    expect(crashed).toMatchObject({ sequence_id: before.sequence_id + 1, duplicate: false });
    expect(alice.messages.at(-1)).toMatchObject({ sequence_id: crashed.sequence_id, content: 'seen by some' });
    await crashed.whenPersisted;
    await settle();

    const after = await runtime.post('c', { sender_id: 'carol', message_id: 'm3', content: 'after' });
    expect(after.sequence_id).toBe(crashed.sequence_id + 1);
    await after.whenPersisted;
    const journal = await store.readMessages('c', 0, 100);
    expect(ids(journal)).toEqual(consecutive(1, after.sequence_id));
    expect(journal.find((m) => m.sequence_id === crashed.sequence_id)).toMatchObject({ message_id: 'm2', content: 'seen by some' });
    // Both live connections saw every record once, in order: carol (after the faulty one) got the crashed record after the restart.
    for (const seen of [alice.messages, carol.messages]) {
      expect(ids(seen)).toEqual(consecutive(seen[0].sequence_id, after.sequence_id));
      expect(seen.find((m) => m.sequence_id === crashed.sequence_id)?.content).toBe('seen by some');
    }
    // A client resuming from before the crash reads the same records.
    const resumed = collector();
    await runtime.subscribe('c', 'alice', resumed.listener, { afterSequenceId: before.sequence_id });
    expect(resumed.messages.map((m) => [m.sequence_id, m.content])).toEqual([
      [crashed.sequence_id, 'seen by some'],
      [after.sequence_id, 'after'],
    ]);
    // A retry of the crashed post is a duplicate of it, not a new record.
    await expect(runtime.post('c', { sender_id: 'alice', message_id: 'm2', content: 'seen by some' })).resolves.toMatchObject({
      sequence_id: crashed.sequence_id,
      duplicate: true,
    });
    await runtime.close();
  });

  it('keeps a join whose delivery crashed: the caller gets the member, the journal the record, the restarted machine the member', async () => {
    const { runtime, store, subscribeAroundFault } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob')] });
    const { before: alice, after: alice2 } = await subscribeAroundFault(['alice', 'bob', 'alice'], (m) => m.content === 'dave joined');
    const last = (await runtime.getConversation('c')).last_sequence_id;

    const dave = await runtime.join('c', human('dave'));
    expect(dave).toMatchObject({ participant_id: 'dave', joined_at_sequence: last + 1 });
    await settle();
    expect((await runtime.getConversation('c')).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'bob', 'dave']);
    const next = await runtime.post('c', { sender_id: 'dave', message_id: 'd1', content: 'hi' });
    expect(next.sequence_id).toBe(last + 2);
    await next.whenPersisted;
    const journal = await store.readMessages('c', 0, 100);
    expect(ids(journal)).toEqual(consecutive(1, next.sequence_id));
    expect(journal[last]).toMatchObject({ sequence_id: last + 1, message_type: 'join', sender_id: 'dave' });
    for (const seen of [alice.messages, alice2.messages]) expect(ids(seen).slice(-2)).toEqual([last + 1, last + 2]);
    await runtime.close();
  });

  it('keeps a leave whose delivery crashed: the leaver is gone after the restart and its connection gets the record, then closes', async () => {
    const { runtime, store, subscribeAroundFault } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob'), human('carol')] });
    const { before: alice, after: bob } = await subscribeAroundFault(['alice', 'carol', 'bob'], (m) => m.message_type === 'leave');
    const last = (await runtime.getConversation('c')).last_sequence_id;

    await runtime.leave('c', 'bob');
    await settle();
    expect((await runtime.getConversation('c')).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'carol']);
    // bob's connection (after the faulty one) got its leave record after the restart, then was closed.
    expect(bob.messages.at(-1)).toMatchObject({ sequence_id: last + 1, message_type: 'leave', sender_id: 'bob' });
    expect(bob.outputs.at(-1)).toEqual({ type: 'closed', reason: 'removed' });
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'bye bob' });
    expect(next.sequence_id).toBeGreaterThan(last + 1);
    await next.whenPersisted;
    const journal = await expectJournalUpTo(store, next.sequence_id);
    expect(journal[last]).toMatchObject({ message_type: 'leave', sender_id: 'bob' });
    expectOneStream(alice.messages, next.sequence_id);
    await runtime.close();
  });

  it("keeps an agent's answer whose delivery crashed: stored, delivered once everywhere, its id not reused", async () => {
    const { runtime, store, subscribeAroundFault } = await makeCrashingRuntime({ agents: [createEchoAgent()] });
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'echo', participant_type: 'ai' }],
    });
    const { before: first, after: third } = await subscribeAroundFault(['alice', 'alice', 'alice'], (m) => m.sender_type === 'ai');

    const question = await runtime.post('c', { sender_id: 'alice', message_id: 'q1', content: 'hi' });
    await settle();
    const answer = first.messages.find((m) => m.sender_type === 'ai');
    expect(answer).toMatchObject({ content: 'echo: hi' });
    expect(third.messages.find((m) => m.sender_type === 'ai')).toEqual(answer);
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'q2', content: 'again' });
    expect(next.sequence_id).toBeGreaterThan(answer!.sequence_id);
    await next.whenPersisted;
    const journal = await expectJournalUpTo(store, next.sequence_id);
    expect(journal.find((m) => m.sequence_id === answer!.sequence_id)).toEqual(answer);
    for (const seen of [first.messages, third.messages])
      expectOneStream(
        seen.filter((m) => m.sequence_id <= next.sequence_id),
        next.sequence_id,
      );
    expect(question.sequence_id).toBeLessThan(answer!.sequence_id);
    await runtime.close();
  });

  it('keeps a redaction record whose delivery crashed', async () => {
    const { runtime, store, subscribeAroundFault } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob')] });
    const { before: bob, after: alice } = await subscribeAroundFault(['bob', 'alice', 'alice'], (m) => m.message_type === 'redaction');
    const secret = await runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'secret' });
    await secret.whenPersisted;

    await runtime.redact('c', { messageIds: ['b1'] });
    await settle();
    const record = alice.messages.at(-1);
    expect(record).toMatchObject({ sequence_id: secret.sequence_id + 1, message_type: 'redaction' });
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'ok' });
    expect(next.sequence_id).toBe(secret.sequence_id + 2);
    await next.whenPersisted;
    const journal = await expectJournalUpTo(store, next.sequence_id);
    expect(journal[secret.sequence_id]).toEqual(record);
    for (const seen of [bob.messages, alice.messages]) expectOneStream(seen, next.sequence_id);
    await runtime.close();
  });

  it("keeps the 'lost' placeholders of a cold start whose delivery crashed: numbering continues after the reservation", async () => {
    const store = new MemoryStore();
    const before = await makeCrashingRuntime({ store });
    await before.runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
    const stored = await before.runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'stored' });
    await before.runtime.close();
    // As a process killed after handing out ids up to stored + 5 would leave it.
    await store.setSequenceReservation('c', stored.sequence_id + 5);

    const { runtime, failNextDelivery } = await makeCrashingRuntime({ store });
    failNextDelivery();
    await runtime.getConversation('c');
    await settle();
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'a2', content: 'after' });
    expect(next.sequence_id).toBe(stored.sequence_id + 6);
    await next.whenPersisted;
    const journal = await expectJournalUpTo(store, next.sequence_id);
    expect(journal.slice(stored.sequence_id, stored.sequence_id + 5).map((m) => m.message_type)).toEqual(Array(5).fill('lost'));
    await runtime.close();
  });
});

/** Every transition of the machine, with its actions' names in order. */
function transitionsOf(node: AnyStateNode): Array<{ on: string; actions: string[] }> {
  const found: Array<{ on: string; actions: string[] }> = [];
  for (const [event, list] of node.transitions) {
    for (const t of list)
      found.push({ on: `${node.id} ${event}`, actions: t.actions.map((a) => (typeof a === 'string' ? a : (a as { type: string }).type)) });
  }
  for (const child of Object.values(node.states)) found.push(...transitionsOf(child));
  return found;
}

describe("the order of a step's effects", () => {
  it('every step that sequences records runs deliver (which notes the step for the supervisor) right after its reducer, before persist', () => {
    const transitions = transitionsOf(conversationMachine.root);
    const sequencing = transitions.filter((t) => t.actions.includes('persist'));
    expect(sequencing.length).toBeGreaterThan(10);
    for (const t of sequencing) expect({ on: t.on, effects: t.actions.slice(1, 3) }).toEqual({ on: t.on, effects: ['deliver', 'persist'] });
    // A POSTS batch runs the same effects as one action, deliver first (shared-conversation-machine.test.ts).
    const batches = transitions.filter((t) => t.actions.includes('settleBatch'));
    expect(batches.length).toBe(5);
    for (const t of batches) expect({ on: t.on, actions: t.actions }).toEqual({ on: t.on, actions: ['acceptPosts', 'settleBatch'] });
    // The rest sequence nothing: their reducers only refuse, mark duplicates, track typing or plan agent turns.
    const quiet = new Set(
      transitions.filter((t) => !t.actions.includes('persist') && !t.actions.includes('settleBatch')).flatMap((t) => t.actions),
    );
    expect([...quiet].sort()).toEqual(
      [
        'acknowledge',
        'alreadyMember',
        'dispatchBurst',
        'dispatchToAgents',
        'forwardTyping',
        'markDuplicate',
        // A member's add or an owner's removal that the conversation's own step refuses (membership-changes.ts).
        'refuseAdd',
        'refuseRemoval',
        'rejectFull',
        'rejectNotParticipant',
        'rejectOtherType',
        'setTyping',
      ].sort(),
    );
  });
});
