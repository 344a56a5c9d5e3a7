import pino from 'pino';
import { createChatRuntime, createManualClock, type ChatMessage, type ChatRuntime, type ConversationOutput } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { collector, settle } from './runtime-helpers';

/**
 * A machine crash in the middle of delivery: a subscriber's listener throws (it is disconnected, in
 * isolation) and the log sink that reports it throws too, so the error escapes the isolation and the
 * machine step fails after the record went to the connections before the faulty one and before the
 * record was queued for the journal. The sink fails once, like a transport that recovers.
 */
async function makeCrashingRuntime() {
  let sinkFails = false;
  const sink = {
    write(_line: string): void {
      if (!sinkFails) return;
      sinkFails = false;
      throw new Error('log sink failed');
    },
  };
  const store = new MemoryStore();
  const runtime: ChatRuntime = await createChatRuntime({
    config: { chat: { supervision: { max_restarts: 3 } } },
    storage: store,
    agents: [],
    clock: createManualClock(),
    logger: pino({ level: 'warn' }, sink),
  });
  /** A listener that throws on the record with this content, arming the sink first. */
  const faultyOn = (content: string) => (o: ConversationOutput) => {
    if (o.type !== 'message' || o.message.content !== content) return;
    sinkFails = true;
    throw new Error('listener bug');
  };
  return { runtime, store, faultyOn };
}

const human = (id: string) => ({ participant_id: id, participant_type: 'human' as const });
const ids = (records: readonly ChatMessage[]) => records.map((m) => m.sequence_id);
const consecutive = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a machine crash while a step hands its records to the connections', () => {
  it('keeps the records the step sequenced: the post is accepted, stored, its id never reused, every connection sees one stream', async () => {
    const { runtime, store, faultyOn } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob'), human('carol')] });
    const alice = collector();
    const carol = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.subscribe('c', 'bob', faultyOn('seen by some'));
    await runtime.subscribe('c', 'carol', carol.listener);
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
    const { runtime, store, faultyOn } = await makeCrashingRuntime();
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [human('bob')] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.subscribe('c', 'bob', faultyOn('dave joined'));
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
    expect(ids(alice.messages).slice(-2)).toEqual([last + 1, last + 2]);
    await runtime.close();
  });
});
