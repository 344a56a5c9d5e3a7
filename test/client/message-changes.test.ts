/**
 * The reference client's edit() and delete() against the real server (127.0.0.1, port 0): the other member's client
 * gets `edited` and `redacted` events naming the records that changed, a refused edit is an `error` event with
 * replyTo and the messageId, and a client that resumes later sees the edited text in the replay.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatClient } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
const clients = testClients();

function client(userId: string, lastSequenceId?: number): ChatClient {
  return clients.open(stack.wsUrl, {
    conversationId: 'conv',
    userId,
    clock: createManualClock(),
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

test("bob's edit of alice's message is an error event with replyTo edit and the messageId; a client resuming later replays the edit", async () => {
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
  await edited;
  // A client of bob's that had seen up to before the message resumes: the record comes edited, then the edit.
  const later = client('bob', sent.sequence_id - 1);
  const contents: string[] = [];
  later.on('message', (m) => contents.push(m.content));
  const replayedEdit = nextEvent(later, 'edited');
  await later.connect();
  expect((await replayedEdit).content).toBe('hello again');
  expect(contents).toEqual(['hello again', 'hello again']);
});

test('while not connected, edit() and delete() send nothing and return false; bad arguments are TypeErrors', () => {
  const alice = client('alice');
  expect(alice.edit('m1', 'x')).toBe(false);
  expect(alice.delete('m1')).toBe(false);
  expect(() => alice.edit('', 'x')).toThrow(TypeError);
  expect(() => alice.edit('m1', 5 as unknown as string)).toThrow(TypeError);
});
