/**
 * The owner's redaction of others' messages covers what had been sequenced when it was received (docs/conversations.md,
 * Arrival order), as a member's own delete does: "redact everything bob said" never takes a post of bob's that reached
 * the conversation after the request, whether it came in the same turn or while the redaction waited its turn. Found
 * open after stop 27 (22b3522): the redaction awaited its point, then redacted whatever the store held by then.
 */
import { isChatError } from '../../actors/errors';
import type { ChatMessage } from '../../actors/message-types';
import type { RedactOutcome } from '../../actors/runtime-types';
import { HeldChanges } from './held-changes';
import { liveTwoMemberConversation, makeRuntime } from './runtime-helpers';

type Runtime = Awaited<ReturnType<typeof makeRuntime>>['runtime'];

/** Posts `messageId` from `sender` and waits until it is stored; its sequence id. */
async function posted(runtime: Runtime, sender: string, messageId: string): Promise<number> {
  const receipt = await runtime.post('c', { sender_id: sender, message_id: messageId, content: `${messageId} as sent` });
  await receipt.whenPersisted;
  return receipt.sequence_id;
}

/** bob's record `messageId` as stored now. */
async function stored(runtime: Runtime, messageId: string): Promise<ChatMessage | undefined> {
  return (await runtime.readMessages('c', 0, 1000)).find((m) => m.message_id === messageId && m.sender_id === 'bob');
}

/** The sequence ids of every record bob sent so far (his join record included: a redaction by sender takes it too). */
async function bobsSoFar(runtime: Runtime): Promise<number[]> {
  return (await runtime.readMessages('c', 0, 1000)).filter((m) => m.sender_id === 'bob').map((m) => m.sequence_id);
}

/** The `redaction` records' redacted ids, in sequence order. */
async function announced(runtime: Runtime): Promise<number[][]> {
  const records = (await runtime.readMessages('c', 0, 1000)).filter((m) => m.message_type === 'redaction');
  return records.map((m) => m.metadata.redacted_sequence_ids as number[]);
}

test('a redaction by sender or by ids leaves a post of the target that reached the conversation right after it', async () => {
  const { runtime } = await makeRuntime({ agents: [] });
  try {
    await liveTwoMemberConversation(runtime);
    const before = await posted(runtime, 'bob', 'b1');
    const bobs = await bobsSoFar(runtime);
    expect(bobs).toContain(before);
    // Nothing awaited in between: each call reaches the conversation in this order, as requests and frames do.
    const bySender = runtime.redact('c', { senderId: 'bob' }, 'alice');
    const afterSender = runtime.post('c', { sender_id: 'bob', message_id: 'b2', content: 'b2 as sent' });
    const byIds = runtime.redact('c', { messageIds: ['b3'] }, 'alice');
    const afterIds = runtime.post('c', { sender_id: 'bob', message_id: 'b3', content: 'b3 as sent' });
    const [sender, ids] = await Promise.all([bySender, byIds]);
    await Promise.all([(await afterSender).whenPersisted, (await afterIds).whenPersisted]);

    expect(sender).toMatchObject({ redacted: bobs, alreadyRedacted: [], changed: true });
    expect(ids).toEqual({ redacted: [], alreadyRedacted: [], changed: false });
    expect(await stored(runtime, 'b2')).toMatchObject({ content: 'b2 as sent' });
    expect(await stored(runtime, 'b3')).toMatchObject({ content: 'b3 as sent' });
    expect(await announced(runtime)).toEqual([bobs]);
  } finally {
    await runtime.close({ deadlineMs: 1000 });
  }
});

/** What a call came to, never rejecting: its value, or its refusal's code. */
function outcomeOf(call: Promise<RedactOutcome>): Promise<RedactOutcome | { code: string }> {
  return call.catch((err: unknown) => ({ code: isChatError(err) ? err.code : String(err) }));
}

test('a redaction queued behind another change leaves the posts that were sequenced and stored while it waited', async () => {
  const store = new HeldChanges();
  const { runtime } = await makeRuntime({ store, agents: [] });
  try {
    await liveTwoMemberConversation(runtime);
    const mine = await posted(runtime, 'alice', 'a1');
    const before = await posted(runtime, 'bob', 'b1');
    const bobs = await bobsSoFar(runtime);
    expect(bobs).toContain(before);
    store.hold();
    // alice's delete of her own message stalls in the store; the owner's redaction of bob waits behind it.
    const deleting = outcomeOf(runtime.redact('c', { messageIds: ['a1'] }, 'alice', { ownMessagesOnly: true }));
    await store.entered;
    const redacting = outcomeOf(runtime.redact('c', { senderId: 'bob' }, 'alice'));
    // Received after the redaction, sequenced and stored before the redaction gets to the store.
    const later = await posted(runtime, 'bob', 'b2');
    store.release();

    expect(await deleting).toMatchObject({ redacted: [mine], changed: true });
    expect(await redacting).toMatchObject({ redacted: bobs, alreadyRedacted: [], changed: true });
    expect(await stored(runtime, 'b2')).toMatchObject({ sequence_id: later, content: 'b2 as sent' });
    expect(await announced(runtime)).toEqual([[mine], bobs]);
  } finally {
    await runtime.close({ deadlineMs: 1000 });
  }
});
