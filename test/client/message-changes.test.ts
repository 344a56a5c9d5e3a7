/**
 * The reference client's edit() and delete() against the real server (127.0.0.1, port 0): the other member's client
 * gets `edited` and `redacted` events naming the records that changed, a refused edit is an `error` event with
 * replyTo and the messageId, and a client that resumes later sees the edited text in the replay, without `edited`
 * events for the edits its replayed message already shows.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatClient } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
const clients = testClients();

/** Message ids c-1, c-2, ... for one client. */
function ids(): () => string {
  let n = 0;
  return () => `c-${++n}`;
}

function client(userId: string, lastSequenceId?: number): ChatClient {
  return clients.open(stack.wsUrl, {
    conversationId: 'conv',
    userId,
    clock: createManualClock(),
    generateId: ids(),
    ...(lastSequenceId === undefined ? {} : { lastSequenceId }),
  });
}

beforeEach(async () => {
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

test("alice edits and deletes her message: bob's client gets edited, then redacted, naming it", async () => {
  const alice = client('alice');
  const bob = client('bob');
  await alice.connect();
  await bob.connect();
  const sent = await alice.send('hello');

  const edited = nextEvent(bob, 'edited');
  expect(alice.edit(sent.message_id, 'hello, world')).toBe(true);
  expect(await edited).toMatchObject({
    sequenceId: sent.sequence_id,
    messageId: sent.message_id,
    senderId: 'alice',
    content: 'hello, world',
    editCount: 1,
    record: { message_type: 'edit', sequence_id: sent.sequence_id + 1 },
  });

  const redacted = nextEvent(bob, 'redacted');
  expect(alice.delete(sent.message_id)).toBe(true);
  // The message and the edit record that carried its new text.
  expect(await redacted).toMatchObject({ sequenceIds: [sent.sequence_id, sent.sequence_id + 1], requestedBy: 'alice' });
});

test("bob's edit of alice's message is an error event with replyTo edit and the messageId; a client resuming later reads the edit in the replayed message", async () => {
  const alice = client('alice');
  const bob = client('bob');
  await alice.connect();
  await bob.connect();
  const sent = await alice.send('hello');
  const refused = nextEvent(bob, 'error');
  bob.edit(sent.message_id, 'not mine');
  expect(await refused).toMatchObject({ code: 'CHAT_ERR_FORBIDDEN', replyTo: 'edit', messageId: sent.message_id, status: 403 });

  const edited = nextEvent(alice, 'edited');
  alice.edit(sent.message_id, 'hello again');
  const editRecord = (await edited).record.sequence_id;
  // A client of bob's that had seen up to before the message resumes: the record comes edited, then the edit record.
  const later = client('bob', sent.sequence_id - 1);
  const got = collectMessages(later);
  await later.connect();
  await got.waitFor(editRecord);
  expect(got.contents).toEqual(['hello again', 'hello again']);
});

test('a resume replaying edits its message record already shows emits no edited event for them; a later edit emits one, once', async () => {
  const alice = client('alice');
  await alice.connect();
  const sent = await alice.send('v0');
  let last = 0;
  for (const content of ['v1', 'v2']) {
    const edited = nextEvent(alice, 'edited');
    alice.edit(sent.message_id, content);
    last = (await edited).record.sequence_id;
  }

  // bob's client resumes from before the message: the message record comes as edited twice (v2), then both edit records.
  const later = client('bob', sent.sequence_id - 1);
  const got = collectMessages(later);
  const edited: { content: string; editCount: number }[] = [];
  later.on('edited', (e) => edited.push({ content: e.content, editCount: e.editCount }));
  await later.connect();
  await got.waitFor(last);
  expect(got.contents).toEqual(['v2', 'v1', 'v2']);
  // Before: v1 then v2 again, the page showing the older text in between.
  expect(edited).toEqual([]);

  const third = nextEvent(later, 'edited');
  alice.edit(sent.message_id, 'v3');
  const event = await third;
  await got.waitFor(event.record.sequence_id);
  expect(edited).toEqual([{ content: 'v3', editCount: 3 }]);
});

test('while not connected, edit() and delete() are taken (sent once connected); after close() they return false; bad arguments are TypeErrors', async () => {
  const alice = client('alice');
  const sent = alice.send('hello');
  // Settled by the end of the test either way (an assertion failing first must not leave it unhandled).
  sent.catch(() => undefined);
  expect(alice.edit('c-1', 'hello, edited')).toBe(true);
  const edited = nextEvent(alice, 'edited');
  await alice.connect();
  expect((await sent).message_id).toBe('c-1');
  expect(await edited).toMatchObject({ messageId: 'c-1', content: 'hello, edited' });
  alice.close();
  expect(alice.edit('c-1', 'x')).toBe(false);
  expect(alice.delete('c-1')).toBe(false);
  expect(() => alice.edit('', 'x')).toThrow(TypeError);
  expect(() => alice.edit('m1', 5 as unknown as string)).toThrow(TypeError);
});
