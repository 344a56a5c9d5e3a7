import type { ConversationOutput } from '../../actors';
import { makeRuntime, NextTurnReads, settle } from './runtime-helpers';

/**
 * A subscription whose replay is pushed to its listener (no replayInPages: an embedder's) and whose member leaves
 * while it replays gets the whole replay, then its leave record, `participants`, and `closed: removed`, as a live
 * one does (docs/replay.md). Found by the ordering property test (seed -1858831150: join h2, resume h2 after 0, leave
 * h2): the listener got `closed` and nothing else, the leave record and the rest of the replay dropped.
 */

/** Outputs as short strings: records as type:id, the others by type (closed with its reason). */
function brief(outputs: readonly ConversationOutput[]): string[] {
  return outputs
    .filter((o) => o.type !== 'persisted' && o.type !== 'presence')
    .map((o) =>
      o.type === 'message' ? `${o.message.message_type}:${o.message.sequence_id}` : o.type === 'closed' ? `closed:${o.reason}` : o.type,
    );
}

async function roomWithPosts(store: NextTurnReads | undefined, posts: number) {
  const { runtime } = await makeRuntime({ ...(store ? { store } : {}), config: { chat: { cache: { recent_messages: 1 } } }, agents: [] });
  await runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  for (let i = 0; i < posts; i++) await runtime.post('c', { sender_id: 'alice', message_id: `a${i}`, content: `post ${i}` });
  await settle();
  return runtime;
}

describe("a pushed replay racing its member's own leave", () => {
  it('gets the records before the leave, then the leave record, participants and closed: removed', async () => {
    const runtime = await roomWithPosts(undefined, 3);
    const outputs: ConversationOutput[] = [];
    const subscribing = runtime.subscribe('c', 'bob', (o) => outputs.push(o), { afterSequenceId: 0 });
    const leaving = runtime.leave('c', 'bob');
    const [sub] = await Promise.all([subscribing, leaving]);
    await settle();

    const last = sub.lastSequenceId;
    const ids = outputs.flatMap((o) => (o.type === 'message' ? [o.message.sequence_id] : []));
    expect(ids).toEqual(Array.from({ length: last + 1 }, (_, i) => i + 1));
    expect(brief(outputs).slice(-4)).toEqual(['sync_complete', `leave:${last + 1}`, 'participants', 'closed:removed']);
    await runtime.close();
  });

  it('a replay of many pages read from a slow journal is handed whole before the leave record', async () => {
    const runtime = await roomWithPosts(new NextTurnReads(), 600);
    const outputs: ConversationOutput[] = [];
    const subscribing = runtime.subscribe('c', 'bob', (o) => outputs.push(o), { afterSequenceId: 0 });
    const leaving = runtime.leave('c', 'bob');
    const [sub] = await Promise.all([subscribing, leaving]);
    await settle();

    const ids = outputs.flatMap((o) => (o.type === 'message' ? [o.message.sequence_id] : []));
    expect(ids).toEqual(Array.from({ length: sub.lastSequenceId + 1 }, (_, i) => i + 1));
    expect(brief(outputs).slice(-4)).toEqual(['sync_complete', `leave:${sub.lastSequenceId + 1}`, 'participants', 'closed:removed']);
    await runtime.close();
  });

  it('a listener that throws during that replay is called no more', async () => {
    const runtime = await roomWithPosts(new NextTurnReads(), 600);
    let calls = 0;
    const subscribing = runtime.subscribe(
      'c',
      'bob',
      () => {
        calls++;
        throw new Error('listener broke');
      },
      { afterSequenceId: 0 },
    );
    await Promise.all([subscribing, runtime.leave('c', 'bob')]);
    await settle();
    expect(calls).toBe(1);
    await runtime.close();
  });
});
