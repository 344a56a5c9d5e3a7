/**
 * Every `edit` and `delete` frame the server takes is answered on its socket by a `change_ack` (docs/protocol.md,
 * Edits and deletes), also when it changed nothing: the same text again, a message deleted already. Before, those got
 * no frame at all, so a client waiting for an answer kept the change forever. Real server on 127.0.0.1 port 0, real
 * sockets, the memory store; every frame received is checked against its schema (harness invalidFrames).
 */
import type { ServerFrame } from '../../gateway/protocol/server-frames';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** alice (owner) and bob; alice posted m1 "hello" and m2 "bye", both acknowledged. */
async function twoMembers(h: Harness): Promise<{ conv: string; alice: TestClient; bob: TestClient; m1: number; m2: number }> {
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
  alice.send({ type: 'message', message_id: 'm2', content: 'bye' });
  const m1 = (await alice.waitFor('message_ack', (f) => f.message_id === 'm1')).sequence_id;
  const m2 = (await alice.waitFor('message_ack', (f) => f.message_id === 'm2')).sequence_id;
  return { conv, alice, bob, m1, m2 };
}

/**
 * Sends `frame`, then an edit of an unknown id as a fence: changes of one conversation run one at a time, so the
 * fence's refusal comes after whatever answers `frame`. Returns the frames between the two (the fence excluded).
 */
async function answerTo(client: TestClient, frame: Record<string, unknown>, fence: string): Promise<ServerFrame[]> {
  const from = client.frames.length;
  client.send(frame);
  client.send({ type: 'edit', message_id: fence, content: 'x' });
  const refusal = await client.waitFor('error', (f) => f.message_id === fence);
  expect(refusal).toMatchObject({ error: 'CHAT_ERR_FORBIDDEN', reply_to: 'edit' });
  return client.frames.slice(from, client.frames.indexOf(refusal));
}

test('an edit to the same text and a delete of a deleted message are answered with change_ack changed:false, no record', async () => {
  const h = await startHarness();
  const { alice, m2 } = await twoMembers(h);

  expect(await answerTo(alice, { type: 'edit', message_id: 'm1', content: 'hello' }, 'fence-1')).toEqual([
    { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: false, edit_count: 0 },
  ]);

  const deleted = await answerTo(alice, { type: 'delete', message_id: 'm2' }, 'fence-2');
  expect(deleted.map((f) => f.type)).toEqual(['message', 'change_ack']);
  expect(deleted[0]).toMatchObject({ message: { message_type: 'redaction', metadata: { redacted_sequence_ids: [m2] } } });

  expect(await answerTo(alice, { type: 'delete', message_id: 'm2' }, 'fence-3')).toEqual([
    { type: 'change_ack', reply_to: 'delete', message_id: 'm2', changed: false },
  ]);
});

test("a changing edit and a delete: the ack comes after its record on the sender's socket, with the record's id; only there", async () => {
  const h = await startHarness();
  const { conv, alice, bob, m1, m2 } = await twoMembers(h);
  const aliceTab = await h.connect(conv, 'alice');

  const edited = await answerTo(alice, { type: 'edit', message_id: 'm1', content: 'hello, world' }, 'fence-1');
  expect(edited.map((f) => f.type)).toEqual(['message', 'change_ack']);
  const editRecord = (edited[0] as Extract<ServerFrame, { type: 'message' }>).message;
  expect(editRecord).toMatchObject({ message_type: 'edit', content: 'hello, world', metadata: { edited_sequence_id: m1 } });
  expect(edited[1]).toEqual({
    type: 'change_ack',
    reply_to: 'edit',
    message_id: 'm1',
    changed: true,
    sequence_id: editRecord.sequence_id,
    edit_count: 1,
  });

  const deleted = await answerTo(alice, { type: 'delete', message_id: 'm2' }, 'fence-2');
  const redaction = (deleted[0] as Extract<ServerFrame, { type: 'message' }>).message;
  expect(redaction).toMatchObject({ message_type: 'redaction', metadata: { redacted_sequence_ids: [m2] } });
  expect(deleted[1]).toEqual({
    type: 'change_ack',
    reply_to: 'delete',
    message_id: 'm2',
    changed: true,
    sequence_id: redaction.sequence_id,
  });

  // The records go to everyone; the acks only to the socket that asked (not bob, not alice's other tab).
  await bob.waitForSequence(redaction.sequence_id);
  await aliceTab.waitForSequence(redaction.sequence_id);
  expect(bob.frames.filter((f) => f.type === 'change_ack')).toEqual([]);
  expect(aliceTab.frames.filter((f) => f.type === 'change_ack')).toEqual([]);

  // The same edit again answers the count it left.
  expect(await answerTo(alice, { type: 'edit', message_id: 'm1', content: 'hello, world' }, 'fence-3')).toEqual([
    { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: false, edit_count: 1 },
  ]);
});
