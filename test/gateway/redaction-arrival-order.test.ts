/**
 * The owner's HTTP redaction of a member (`POST …/redact`, by `sender_id` or `message_ids`) takes what that member had
 * posted when the request reached the conversation (docs/conversations.md, Arrival order): a post the member sends
 * over its socket while the redaction is still being written is posted and kept, and the answer names exactly what
 * was redacted. Real server on port 0, real sockets; the redaction is held in its store write (a slow database
 * statement) while bob posts, so the post is stored before the redaction reads the journal.
 */
import type { ChatMessage } from '../../actors/message-types';
import { HeldChanges } from '../actors/held-changes';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

async function history(h: Harness, conv: string): Promise<ChatMessage[]> {
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
  expect(page.status).toBe(200);
  return page.body.messages as ChatMessage[];
}

test.each([
  ['by sender_id', { sender_id: 'bob' }],
  ['by message_ids', { message_ids: ['b1', 'b2'] }],
])('the owner redacting bob %s leaves the post bob sent while the redaction was being written', async (_name, body) => {
  const store = new HeldChanges();
  const h = await startHarness({}, { store });
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  bob.send({ type: 'message', message_id: 'b1', content: 'before the redaction' });
  await bob.waitFor('message_ack', (f) => f.message_id === 'b1' && f.persisted);
  // What the redaction may take: every record bob had sent when it was asked (his join record too, by sender).
  const asked = (await history(h, conv)).filter((m) => m.sender_id === 'bob' && ('sender_id' in body || m.message_id === 'b1'));

  store.hold();
  const redacting = h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', body);
  await store.entered;
  bob.send({ type: 'message', message_id: 'b2', content: 'after the redaction was asked' });
  const later = await bob.waitFor('message_ack', (f) => f.message_id === 'b2' && f.persisted);
  store.release();

  const answer = await redacting;
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({
    conversation_id: conv,
    redacted_sequence_ids: asked.map((m) => m.sequence_id),
    already_redacted_sequence_ids: [],
    changed: true,
  });
  const record = await alice.waitFor('message', (f) => f.message.message_type === 'redaction');
  expect(record.message.metadata.redacted_sequence_ids).toEqual(asked.map((m) => m.sequence_id));
  const stored = await history(h, conv);
  expect(stored.find((m) => m.message_id === 'b2')).toMatchObject({
    sequence_id: later.sequence_id,
    content: 'after the redaction was asked',
  });
  expect(stored.find((m) => m.message_id === 'b1')).toMatchObject({ content: '[redacted]', metadata: { redacted: true } });
});
