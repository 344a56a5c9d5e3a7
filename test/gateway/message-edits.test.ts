/**
 * Members edit and delete their own messages (docs/conversations.md, Edits and deletes): over WebSocket (`edit`,
 * `delete` frames) and HTTP (POST .../edit, POST .../redact), each change a sequenced record every member receives
 * (`edit`, `redaction`), stored so that history pages, resumes and the conversation list show it. Real server on
 * 127.0.0.1 port 0, real sockets, the memory store (and one that cannot replace content).
 */
import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers/memory-store';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** alice (owner) and bob on one conversation, both connected, and alice's message m1 "hello" delivered to bob. */
async function twoMembers(h: Harness): Promise<{ conv: string; alice: TestClient; bob: TestClient; m1: number }> {
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
  const m1 = (await bob.waitFor('message', (f) => f.message.message_id === 'm1')).message.sequence_id;
  return { conv, alice, bob, m1 };
}

async function history(h: Harness, conv: string, userId: string): Promise<ChatMessage[]> {
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, userId);
  expect(page.status).toBe(200);
  return page.body.messages as ChatMessage[];
}

test("alice edits her message: bob's socket gets an edit record, history, resume and the list show the new text", async () => {
  const h = await startHarness();
  const { conv, alice, bob, m1 } = await twoMembers(h);

  alice.send({ type: 'edit', message_id: 'm1', content: 'hello, world' });
  const { message: edit } = await bob.waitFor('message', (f) => f.message.message_type === 'edit');
  expect(edit).toMatchObject({
    sequence_id: m1 + 1,
    message_id: `edit-${m1}-1`,
    sender_id: 'system',
    sender_type: 'system',
    content: 'hello, world',
    metadata: { edited_sequence_id: m1, edited_message_id: 'm1', sender_id: 'alice', edit_count: 1 },
  });
  await alice.waitFor('message', (f) => f.message.sequence_id === edit.sequence_id);

  const original = (await history(h, conv, 'bob')).find((m) => m.sequence_id === m1)!;
  expect(original).toMatchObject({ message_id: 'm1', sender_id: 'alice', content: 'hello, world' });
  expect(original.metadata).toEqual({ edited: true, edited_at: edit.metadata.edited_at, edit_count: 1 });
  expect(typeof edit.metadata.edited_at).toBe('string');

  // A socket resuming from before the message replays it edited, then the edit record, in journal order.
  const resumed = await h.connect(conv, 'bob', { last_sequence_id: String(m1 - 1) });
  await resumed.waitFor('sync_complete');
  expect(resumed.frames.flatMap((f) => (f.type === 'message' ? [[f.message.sequence_id, f.message.content]] : []))).toEqual([
    [m1, 'hello, world'],
    [m1 + 1, 'hello, world'],
  ]);

  const list = await h.request('GET', '/chat/conversations', 'bob');
  expect(list.body.conversations[0].last_message).toMatchObject({ sequence_id: m1, content: 'hello, world' });
});

test('a second edit is edit 2; the same edit again changes nothing and sends no record; HTTP edit answers the record', async () => {
  const h = await startHarness();
  const { conv, bob, m1 } = await twoMembers(h);
  const edit = (content: string) => h.request('POST', `/chat/conversations/${conv}/edit`, 'alice', { message_id: 'm1', content });

  const first = await edit('hello again');
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ conversation_id: conv, changed: true, message: { sequence_id: m1, content: 'hello again' } });
  expect(first.body.message.metadata).toMatchObject({ edited: true, edit_count: 1 });
  const same = await edit('hello again');
  expect(same.body).toMatchObject({ changed: false, message: { sequence_id: m1, content: 'hello again' } });
  const second = await edit('hello, third time');
  expect(second.body.message.metadata).toMatchObject({ edit_count: 2 });

  await bob.waitFor('message', (f) => f.message.message_id === `edit-${m1}-2`);
  const edits = bob.frames.filter((f) => f.type === 'message' && f.message.message_type === 'edit');
  expect(edits.map((f) => (f.type === 'message' ? [f.message.sequence_id, f.message.content] : []))).toEqual([
    [m1 + 1, 'hello again'],
    [m1 + 2, 'hello, third time'],
  ]);
});

test("bob can neither edit nor delete alice's message: error frames naming the frame, 403 over HTTP, nothing changes", async () => {
  const h = await startHarness();
  const { conv, alice, bob, m1 } = await twoMembers(h);

  bob.send({ type: 'edit', message_id: 'm1', content: 'bob was here' });
  expect(await bob.waitFor('error', (e) => e.reply_to === 'edit')).toEqual({
    type: 'error',
    error: 'CHAT_ERR_FORBIDDEN',
    code: 403,
    message: 'no message of yours has message_id "m1": members may edit only messages they sent',
    reply_to: 'edit',
    message_id: 'm1',
  });
  bob.send({ type: 'delete', message_id: 'm1' });
  expect(await bob.waitFor('error', (e) => e.reply_to === 'delete')).toMatchObject({
    error: 'CHAT_ERR_FORBIDDEN',
    code: 403,
    message_id: 'm1',
  });

  const httpEdit = await h.request('POST', `/chat/conversations/${conv}/edit`, 'bob', { message_id: 'm1', content: 'bob was here' });
  expect([httpEdit.status, httpEdit.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
  // bob's own message and alice's in one request: refused whole.
  bob.send({ type: 'message', message_id: 'b1', content: 'mine' });
  await bob.waitFor('message_ack', (a) => a.message_id === 'b1');
  const httpRedact = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['b1', 'm1'] });
  expect([httpRedact.status, httpRedact.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
  // Redacting by sender stays the owner's.
  const bySender = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { sender_id: 'bob' });
  expect(bySender.status).toBe(403);

  const records = await history(h, conv, 'alice');
  expect(records.find((m) => m.sequence_id === m1)).toMatchObject({ content: 'hello', metadata: {} });
  expect(records.find((m) => m.message_id === 'b1')?.content).toBe('mine');
  expect(records.filter((m) => m.sender_type === 'system' && (m.message_type === 'edit' || m.message_type === 'redaction'))).toEqual([]);
  // The sockets stayed open: alice still hears bob.
  bob.send({ type: 'message', message_id: 'b2', content: 'still here' });
  await alice.waitFor('message', (f) => f.message.message_id === 'b2');
});

test('a member deletes its own message over WebSocket and over HTTP: redaction records, history shows [redacted], edits go too', async () => {
  const h = await startHarness();
  const { conv, alice, bob } = await twoMembers(h);
  bob.send({ type: 'message', message_id: 'b1', content: 'oops' });
  const b1 = (await alice.waitFor('message', (f) => f.message.message_id === 'b1')).message.sequence_id;
  bob.send({ type: 'message', message_id: 'b2', content: 'typo' });
  const b2 = (await alice.waitFor('message', (f) => f.message.message_id === 'b2')).message.sequence_id;
  bob.send({ type: 'edit', message_id: 'b2', content: 'no typo' });
  const edit = (await alice.waitFor('message', (f) => f.message.message_type === 'edit')).message.sequence_id;

  bob.send({ type: 'delete', message_id: 'b1' });
  const viaWs = (await alice.waitFor('message', (f) => f.message.message_type === 'redaction')).message;
  expect(viaWs.metadata).toEqual({ redacted_sequence_ids: [b1], requested_by: 'bob' });

  // Over HTTP: the edited message and the edit record that carried its later text.
  const viaHttp = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['b2'] });
  expect(viaHttp.status).toBe(200);
  expect(viaHttp.body).toEqual({
    conversation_id: conv,
    redacted_sequence_ids: [b2, edit],
    already_redacted_sequence_ids: [],
    changed: true,
  });
  await bob.waitFor('message', (f) => f.message.message_type === 'redaction' && f.message.sequence_id > viaWs.sequence_id);

  const records = await history(h, conv, 'alice');
  for (const seq of [b1, b2, edit]) {
    const m = records.find((r) => r.sequence_id === seq)!;
    expect([m.content, m.metadata.redacted]).toEqual(['[redacted]', true]);
  }
  expect(JSON.stringify(records)).not.toContain('typo');
  expect(JSON.stringify(records)).not.toContain('oops');
  // Deleted, it cannot be edited; deleting again changes nothing.
  const late = await h.request('POST', `/chat/conversations/${conv}/edit`, 'bob', { message_id: 'b1', content: 'back' });
  expect([late.status, late.body.message]).toEqual([403, 'message "b1" was deleted; it cannot be edited']);
  const again = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['b1'] });
  expect(again.body).toEqual({ conversation_id: conv, redacted_sequence_ids: [b1], already_redacted_sequence_ids: [b1], changed: false });
  // Bob's join record carries his id as sender, but is the runtime's record, not his message.
  const join = records.find((m) => m.message_type === 'join' && m.sender_id === 'bob')!;
  const notMine = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: [join.message_id] });
  expect([notMine.status, notMine.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
});

test('an edit is checked as a post: empty content is GATEWAY_ERR_CONTENT_INVALID over both transports', async () => {
  const h = await startHarness({ chat: { limits: { max_message_length: 10 } } });
  const { conv, alice } = await twoMembers(h);
  alice.send({ type: 'edit', message_id: 'm1', content: '' });
  expect(await alice.waitFor('error', (e) => e.reply_to === 'edit')).toMatchObject({
    error: 'GATEWAY_ERR_CONTENT_INVALID',
    code: 400,
    message_id: 'm1',
  });
  const long = await h.request('POST', `/chat/conversations/${conv}/edit`, 'alice', { message_id: 'm1', content: 'x'.repeat(11) });
  expect([long.status, long.body.error]).toEqual([400, 'GATEWAY_ERR_CONTENT_INVALID']);
  alice.send({ type: 'edit', message_id: 'm1' });
  expect(await alice.waitFor('error', (e) => e.error === 'GATEWAY_ERR_INVALID_FRAME')).toMatchObject({
    reply_to: 'edit',
    message_id: 'm1',
  });
});

test("after an edit, the client's at-least-once re-send of the original post is still a duplicate, not a reuse", async () => {
  const h = await startHarness();
  const { alice, m1 } = await twoMembers(h);
  alice.send({ type: 'edit', message_id: 'm1', content: 'hello, edited' });
  await alice.waitFor('message', (f) => f.message.message_type === 'edit');
  alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
  expect(await alice.waitFor('message_ack', (a) => a.duplicate)).toMatchObject({ message_id: 'm1', sequence_id: m1, duplicate: true });
  expect(alice.frames.filter((f) => f.type === 'error')).toEqual([]);
});

test('edits and deletes spend the message budget: past it they are 429 naming the frame', async () => {
  const clock = createManualClock();
  const h = await startHarness({ chat: { limits: { rate_limit_per_second: 1, rate_limit_burst: 2 } } }, { clock });
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
  await alice.waitFor('message_ack');
  alice.send({ type: 'edit', message_id: 'm1', content: 'hello!' });
  await alice.waitFor('message', (f) => f.message.message_type === 'edit');
  alice.send({ type: 'delete', message_id: 'm1' });
  expect(await alice.waitFor('error')).toMatchObject({
    error: 'GATEWAY_ERR_RATE_LIMITED',
    reply_to: 'delete',
    message_id: 'm1',
    retry_after_ms: 1000,
  });
  const overHttp = await h.request('POST', `/chat/conversations/${conv}/edit`, 'alice', { message_id: 'm1', content: 'x' });
  expect(overHttp.status).toBe(429);
});

test('a store without content replacement refuses edits and own deletes with 501 STORAGE_ERR_UNSUPPORTED; the owner still redacts', async () => {
  const store = new MemoryStore();
  Object.defineProperty(store, 'supports', { value: Object.freeze({ ...store.supports, replaceContent: false }) });
  const h = await startHarness({}, { store });
  const { conv, alice, bob, m1 } = await twoMembers(h);
  alice.send({ type: 'edit', message_id: 'm1', content: 'changed' });
  expect(await alice.waitFor('error', (e) => e.reply_to === 'edit')).toMatchObject({ error: 'STORAGE_ERR_UNSUPPORTED', code: 501 });
  bob.send({ type: 'message', message_id: 'b1', content: 'mine' });
  await bob.waitFor('message_ack');
  const own = await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['b1'] });
  expect([own.status, own.body.error]).toEqual([501, 'STORAGE_ERR_UNSUPPORTED']);
  const byOwner = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['m1'] });
  expect(byOwner.body.redacted_sequence_ids).toEqual([m1]);
});

test("the owner's redaction of an edited message, by sender, also redacts the edit records that carried its texts", async () => {
  const h = await startHarness();
  const { conv, alice, bob } = await twoMembers(h);
  bob.send({ type: 'message', message_id: 'b1', content: 'first draft' });
  const b1 = (await alice.waitFor('message', (f) => f.message.message_id === 'b1')).message.sequence_id;
  for (const text of ['second draft', 'third draft']) {
    const edited = await h.request('POST', `/chat/conversations/${conv}/edit`, 'bob', { message_id: 'b1', content: text });
    expect(edited.body.changed).toBe(true);
  }
  const redacted = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { sender_id: 'bob' });
  // Bob's message, its two edit records (and bob's join record, which carries his id as sender).
  expect(redacted.body.redacted_sequence_ids).toEqual(expect.arrayContaining([b1, b1 + 1, b1 + 2]));
  const records = await history(h, conv, 'alice');
  expect(JSON.stringify(records)).not.toContain('draft');
});

test("the owner's delete frame redacts only the owner's own message: another member's record under the same message_id stays", async () => {
  const h = await startHarness();
  const { conv, alice, bob, m1 } = await twoMembers(h);
  // Message ids are per sender: bob may use alice's id, and one he alone used.
  bob.send({ type: 'message', message_id: 'm1', content: "bob's m1" });
  const bobsM1 = (await alice.waitFor('message', (f) => f.message.sender_id === 'bob' && f.message.message_id === 'm1')).message;
  bob.send({ type: 'message', message_id: 'bm1', content: "only bob's" });
  await alice.waitFor('message', (f) => f.message.message_id === 'bm1');

  alice.send({ type: 'delete', message_id: 'm1' });
  const ack = await alice.waitFor('change_ack', (a) => a.reply_to === 'delete');
  expect(ack).toMatchObject({ message_id: 'm1', changed: true });
  const record = (await bob.waitFor('message', (f) => f.message.message_type === 'redaction')).message;
  expect(record.metadata).toEqual({ redacted_sequence_ids: [m1], requested_by: 'alice' });

  // An id the owner never sent is not hers to delete by this frame, as for any member.
  alice.send({ type: 'delete', message_id: 'bm1' });
  expect(await alice.waitFor('error', (e) => e.reply_to === 'delete')).toEqual({
    type: 'error',
    error: 'CHAT_ERR_FORBIDDEN',
    code: 403,
    message: 'no message of yours has message_id "bm1": members may delete only messages they sent',
    reply_to: 'delete',
    message_id: 'bm1',
  });

  const records = await history(h, conv, 'bob');
  expect(records.find((m) => m.sequence_id === m1)).toMatchObject({ content: '[redacted]' });
  expect(records.find((m) => m.sequence_id === bobsM1.sequence_id)).toMatchObject({ content: "bob's m1", metadata: {} });
  expect(records.find((m) => m.message_id === 'bm1')?.content).toBe("only bob's");
  // The owner's moderation is the HTTP redact, by message ids of every sender or by sender (docs/http-api.md).
  const moderated = await h.request('POST', `/chat/conversations/${conv}/redact`, 'alice', { message_ids: ['bm1'] });
  expect([moderated.status, moderated.body.changed]).toEqual([200, true]);
});
