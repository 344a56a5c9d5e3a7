/**
 * A change received while the conversation's machine is rebuilt after a crash is judged against everything sequenced
 * before it, the crashed step's kept records included. While the machine is rebuilt its context is still the one
 * before the crashed step (machine-supervisor.ts keepCrashedStep), so a delete or edit of a post whose ack its sender
 * already held took a point below that post and was refused as not the sender's own (CHAT_ERR_FORBIDDEN).
 */
import { isChatError } from '../../actors/errors';
import type { ChatRuntime } from '../../actors';
import { makeCrashingRuntime } from './crash-helpers';
import { SlowRestoreStore } from './held-restart';

/**
 * Alice's post `m1` crashes its step after its delivery (it is acked), the rebuild is held, `change` is asked then,
 * and the rebuild goes on: what the change came to (its value, or its refusal's code).
 */
async function changeDuringRebuild(change: (runtime: ChatRuntime) => Promise<unknown>) {
  const store = new SlowRestoreStore();
  const { runtime, restarts, failNextDelivery } = await makeCrashingRuntime({ store });
  try {
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', autoJoinAgents: false });
    store.hold();
    failNextDelivery();
    const crashed = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'crashes its step' });
    expect(restarts.count).toBe(1);
    const outcome = change(runtime).catch((err: unknown) => (isChatError(err) ? err.code : err));
    store.release();
    return { crashed, outcome: await outcome, stored: (await store.readMessages('c', crashed.sequence_id - 1, 1))[0] };
  } finally {
    store.release();
    await runtime.close({ deadlineMs: 1000 });
  }
}

test('a delete sent during the rebuild after a crash takes the post acked by the crashed step', async () => {
  const { crashed, outcome, stored } = await changeDuringRebuild((runtime) =>
    runtime.redact('c', { messageIds: ['m1'] }, 'alice', { ownMessagesOnly: true }),
  );
  expect(outcome).toMatchObject({ redacted: [crashed.sequence_id], changed: true });
  expect(stored).toMatchObject({ message_id: 'm1', content: '[redacted]' });
});

test('an edit sent during the rebuild after a crash changes the post acked by the crashed step', async () => {
  const { crashed, outcome, stored } = await changeDuringRebuild((runtime) => runtime.edit('c', 'alice', 'm1', 'edited while rebuilt'));
  expect(outcome).toMatchObject({ changed: true, message: { sequence_id: crashed.sequence_id } });
  expect(stored).toMatchObject({ message_id: 'm1', content: 'edited while rebuilt' });
});
